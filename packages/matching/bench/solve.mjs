// Solver benchmark: the Guangzhou-sized and the large synthetic instance (src/generate.ts),
// each solved end to end (instance built, heuristic, HiGHS LP bound, price of fairness),
// with the popularity-greedy baseline measured on the same input in the same run.
//
//   pnpm --filter @diandan/matching build && node bench/solve.mjs
//
// BENCH_ONLY=guangzhou|large runs one instance. Report figures as measured under load.
import { buildInstance, evaluate, generateInput, GUANGZHOU_SIZE, LARGE_SIZE, popularityBaseline, solve, verify } from '@diandan/matching';

const only = process.env.BENCH_ONLY ?? '';
const pct = (n) => `${(100 * n).toFixed(2)}%`;
// HiGHS's WebAssembly is compiled on first use; a worker does that once when it starts.
await solve(buildInstance(generateInput({ seed: 1 })), { solver: 'heuristic' });

for (const [name, size] of [['guangzhou', GUANGZHOU_SIZE], ['large', LARGE_SIZE]]) {
  if (only && !name.includes(only)) continue;
  const t0 = performance.now();
  const instance = buildInstance(generateInput({ ...size, seed: 1 }));
  const built = performance.now() - t0;
  const report = await solve(instance, { solver: 'heuristic', pricedFloors: name === 'large' ? 0 : 3 });
  const total = performance.now() - t0;
  const violations = verify(instance, report.plan, { floors: false }).violations.length;
  console.log(`\n${name}: ${instance.demands.length} demand records, ${instance.products.length} products, ${instance.candidates.length} candidate edges`);
  console.log(`  end to end ${(total / 1000).toFixed(1)} s (instance ${(built / 1000).toFixed(1)} s; ${JSON.stringify(report.timings)} ms)`);
  console.log(`  value ${report.value.toFixed(2)}, LP bound ${report.bound}, ${report.bound ? pct(report.welfare / report.bound) : 'n/a'} of the bound; violations ${violations}`);
  if (report.priceOfFairness) console.log(`  price of fairness ${pct(report.priceOfFairness.ratio)} (LP without floors ${report.priceOfFairness.unconstrained.toFixed(2)})`);
  const base = evaluate(instance, popularityBaseline(instance));
  const ours = report.evaluation;
  console.log(`  Gini of sessions per 10,000 residents: ${ours.gini.toFixed(3)} vs popularity-greedy ${base.gini.toFixed(3)} (${pct(ours.gini / (base.gini || 1))} of it)`);
  console.log(`  demand value: ${ours.value.toFixed(2)} vs popularity-greedy ${base.value.toFixed(2)} (${pct(ours.value / (base.value || 1))} of it)`);
}
