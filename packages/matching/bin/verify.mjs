#!/usr/bin/env node
// diandan-matching-verify <instance.json> <plan.json>: recomputes every constraint and the
// objective of an exported plan (src/verify.ts, independent of the solver code path) and
// exits 1 when any constraint is violated, 2 on unreadable input.
import { readFileSync } from 'node:fs';
import { INSTANCE_VERSION, INSTANCE_VERSION_1, PLAN_VERSION, verify } from '@diandan/matching';

const [instancePath, planPath] = process.argv.slice(2);
if (!instancePath || !planPath) {
  console.error('usage: diandan-matching-verify <instance.json> <plan.json>');
  process.exit(2);
}
let instance, plan;
try {
  instance = JSON.parse(readFileSync(instancePath, 'utf8'));
  plan = JSON.parse(readFileSync(planPath, 'utf8'));
} catch (error) {
  console.error(`cannot read input: ${error.message}`);
  process.exit(2);
}
// An instance/1 is an instance/2 without region caps.
if (![INSTANCE_VERSION, INSTANCE_VERSION_1].includes(instance.version) || plan.version !== PLAN_VERSION) {
  console.error(`unsupported versions: instance ${instance.version} (want ${INSTANCE_VERSION}), plan ${plan.version} (want ${PLAN_VERSION})`);
  process.exit(2);
}
const result = verify(instance, plan);
console.log(JSON.stringify({ ok: result.ok, value: result.value, sessions: result.sessions, violations: result.violations, floors: result.floors }, null, 2));
process.exit(result.ok ? 0 : 1);
