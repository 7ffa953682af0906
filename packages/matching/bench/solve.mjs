// Solver benchmark: the Guangzhou-sized and the large synthetic instance (src/generate.ts),
// each solved end to end (instance built, heuristic, HiGHS LP bound, price of fairness),
// with the popularity-greedy baseline measured on the same input in the same run; then,
// for the Guangzhou-sized instance, the fairness policies side by side (α = 0, 1, max-min;
// street floors; street caps; the street band) with Gini, demand value and gap to the bound.
//
//   pnpm --filter @diandan/matching build && node bench/solve.mjs
//
// BENCH_ONLY=guangzhou|large|policies runs one part. Report figures as measured under load.
import { buildInstance, evaluate, generateInput, GUANGZHOU_SIZE, LARGE_SIZE, popularityBaseline, solve, verify } from '@diandan/matching';

const only = process.env.BENCH_ONLY ?? '';
const pct = (n) => `${(100 * n).toFixed(2)}%`;
const s = (ms) => `${(ms / 1000).toFixed(1)} s`;

/**
 * The street band a city would publish: every street at least 0.5 and at most 1.5 sessions
 * per 10,000 residents (the Guangzhou-sized instance's popularity-greedy plan averages 0.43,
 * ours 1.34 without a cap). In a deployment: `matching({ bands: [{ level: 'street',
 * floorPerTenThousand: 0.5, capPerTenThousand: 1.5 }] })`.
 */
const BAND = { streetFloorPerTenThousand: 0.5, streetCapPerTenThousand: 1.5 };

// HiGHS's WebAssembly is compiled on first use; a worker does that once when it starts.
await solve(buildInstance(generateInput({ seed: 1 })), { solver: 'heuristic' });

// The popularity-greedy baseline ignores floors and caps, so one baseline serves every policy.
const baseInstance = buildInstance(generateInput({ ...GUANGZHOU_SIZE, seed: 1 }));
const base = evaluate(baseInstance, popularityBaseline(baseInstance));

for (const [name, size, policy] of [['guangzhou', GUANGZHOU_SIZE, BAND], ['large', LARGE_SIZE, {}]]) {
  if (only && !name.includes(only)) continue;
  const t0 = performance.now();
  const instance = buildInstance(generateInput({ ...size, ...policy, seed: 1 }));
  const built = performance.now() - t0;
  const report = await solve(instance, { solver: 'heuristic', pricedFloors: name === 'large' ? 0 : 3 });
  const total = performance.now() - t0;
  const violations = verify(instance, report.plan, { floors: false }).violations.length;
  console.log(`\n${name}: ${instance.demands.length} demand records, ${instance.products.length} products, ${instance.candidates.length} candidate edges${Object.keys(policy).length ? `, policy ${JSON.stringify(policy)}` : ''}`);
  console.log(`  end to end ${s(total)} (instance ${s(built)}; ${JSON.stringify(report.timings)} ms)`);
  console.log(`  value ${report.value.toFixed(2)}, LP bound ${report.bound}, ${report.bound ? pct(report.welfare / report.bound) : 'n/a'} of the bound; violations ${violations}; floors relaxed ${report.feasibility.relaxations.length}`);
  if (report.priceOfFairness) console.log(`  price of fairness ${pct(report.priceOfFairness.ratio)} (LP without floors and caps ${report.priceOfFairness.unconstrained.toFixed(2)})`);
  if (name !== 'guangzhou') continue;
  const ours = report.evaluation;
  console.log(`  Gini of sessions per 10,000 residents: ${ours.gini.toFixed(3)} vs popularity-greedy ${base.gini.toFixed(3)} (${pct(ours.gini / (base.gini || 1))} of it; target ≤ 50%)`);
  console.log(`  demand value: ${ours.value.toFixed(2)} vs popularity-greedy ${base.value.toFixed(2)} (${pct(ours.value / (base.value || 1))} of it; target ≥ 95%)`);
}

if (!only || only === 'policies') {
  // Each policy on the same Guangzhou-sized input; the generator's district floors (0.1 per
  // 10,000) and group share (10 %) stay in every row, and every fourth street has a floor of
  // 1 session unless the row sets a street floor per 10,000.
  const policies = [
    ['α = 0 (total value), no street policy', {}],
    ['α = 1 (proportional, on value per 10,000)', { alpha: 1 }],
    ['α = 8 (max-min, on value per 10,000)', { alpha: 8 }],
    ['street floor 0.5 per 10,000', { streetFloorPerTenThousand: 0.5 }],
    ['street floor 1 per 10,000', { streetFloorPerTenThousand: 1 }],
    ['street cap 1.5 per 10,000', { streetCapPerTenThousand: 1.5 }],
    ['street band 0.5–2 per 10,000', { streetFloorPerTenThousand: 0.5, streetCapPerTenThousand: 2 }],
    ['street band 0.5–1.5 per 10,000 (chosen)', BAND],
    ['street band 0.5–1 per 10,000', { streetFloorPerTenThousand: 0.5, streetCapPerTenThousand: 1 }],
  ];
  console.log(`\nfairness policies, Guangzhou-sized instance (popularity-greedy baseline: Gini ${base.gini.toFixed(3)}, value ${base.value.toFixed(2)}, ${base.sessions} sessions)`);
  const rows = [];
  for (const [label, policy] of policies) {
    const t0 = performance.now();
    const instance = buildInstance(generateInput({ ...GUANGZHOU_SIZE, ...policy, seed: 1 }));
    const report = await solve(instance, { solver: 'heuristic', pricedFloors: 0 });
    const e = report.evaluation;
    rows.push([
      label,
      e.gini.toFixed(3),
      pct(e.gini / base.gini),
      e.value.toFixed(1),
      pct(e.value / base.value),
      String(e.sessions),
      report.gap === null ? 'n/a' : pct(1 - report.gap),
      String(report.feasibility.relaxations.length),
      String(verify(instance, report.plan, { floors: false }).violations.length),
      s(performance.now() - t0),
    ]);
  }
  const header = ['policy', 'Gini', '× baseline', 'value', '× baseline', 'sessions', 'of LP bound', 'floors relaxed', 'violations', 'time'];
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => r[i].length)));
  for (const r of all) console.log(`  ${r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('   ')}`);
  console.log('  (of LP bound: welfare ÷ LP bound of the objective solved — Σ value for α = 0, Σ f_α for α > 0)');
}
