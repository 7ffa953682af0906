/** Shared test data and helpers: every code here is synthetic (check characters computed, division code 990000 for people). */
import { actors, expectStatus, ifMatch, type Call, type Who } from '@diandan/testing';
import type { FastifyInstance } from 'fastify';
import { idNumberCheckCharacter, usccCheckCharacter } from '../src/codes.js';
import type { SupplierQualityService, SupplierRegistry } from '../src/index.js';

export const uscc = (first17: string): string => first17 + usccCheckCharacter(first17);
export const idNumber = (first17: string): string => first17 + idNumberCheckCharacter(first17);

/** The personal data the tests store: none of it may ever appear in a response or a log line. */
export const PHONES = ['13800138000', '13912345678', '020-87654321', '13700001111'] as const;
export const ID_NUMBERS = [idNumber('99000019900307123'), idNumber('99000019851112456')] as const;
export const NAMES = ['陈测试', '李示例'] as const;

/** A user who applies: a supplier account not yet tied to a supplier. */
export const applicant = (sub: string): Who => actors.as(['supplier'], '440100', { sub });

let serial = 0;
/** A valid organisation application body; override what a test cares about. */
export function orgApplication(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  serial++;
  return {
    name: `测试文化传播有限公司${serial}（虚构）`,
    kind: 'enterprise',
    regionCode: '440103',
    creditCode: uscc(`91440103MA5C${String(serial).padStart(5, '0')}`),
    description: '虚构的测试供应商',
    categories: ['performance'],
    regionsServed: ['440103'],
    contacts: [{ name: NAMES[0], phone: PHONES[0], title: '经理' }],
    qualifications: [
      { type: '营业执照', number: `TEST-LIC-${serial}`, issuer: '测试市场监管局', validFrom: '2020-01-01', validUntil: null, mandatory: true },
      { type: '营业性演出许可证', number: `TEST-PERF-${serial}`, issuer: '测试文化广电局', validFrom: '2024-01-01', validUntil: '2030-12-31', mandatory: true },
    ],
    ...overrides,
  };
}

/** Walks an application from `applied` to `approved` by `reviewer`; returns the approved application. */
export async function approve(call: Call, reviewer: Who, application: { id: string; version: number }): Promise<any> {
  let current = application;
  for (const step of ['start-review', 'approve']) {
    current = expectStatus(await call(reviewer, 'POST', `/v1/supplier-applications/${current.id}/${step}`, undefined, ifMatch(current)), 200, step);
  }
  return current;
}

/** The registry's services and jobs, for the clock and for running jobs now. */
export function registryOf(app: FastifyInstance) {
  const plugin = app.diandan.plugins.find((p) => p.definition.name === 'supplier-registry')!;
  const services = plugin.services as { registry: SupplierRegistry; quality: SupplierQualityService; checkQualifications: any; recomputeScores: any };
  const run = async (job: 'checkQualifications' | 'recomputeScores', data: object = {}) => {
    const id = await plugin.context.jobs.send(services[job], data);
    const status = await plugin.context.jobs.wait(id!, { timeoutMs: 20_000 });
    if (status.state !== 'completed') throw new Error(`${job}: ${status.state} ${status.error}`);
    return status.result as any;
  };
  return { ...services, run };
}

/** Waits until `check` holds (a durable delivery is a job). */
export async function eventually<T>(check: () => Promise<T | undefined | false>, what: string, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
