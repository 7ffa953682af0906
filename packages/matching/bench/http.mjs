// The API while a large solve runs: the kernel's product list (50) measured idle, then
// while the large synthetic instance (2,000 products × 10,000 demand records) is solved as
// a run — in the server's worker thread, through the kernel's jobs — in the same run of
// the bench. Target: the product list's p99 during the solve ≤ 1.5 × its p99 idle. The
// server (bench/server.mjs) runs in its own process on a throw-away database; autocannon
// drives it from this process.
//
//   pnpm --filter @diandan/matching build && node bench/http.mjs
//
// BENCH_SECONDS (3, per sample), BENCH_CONNECTIONS (20), BENCH_ROUNDS (idle samples before
// the solve and as many after it, so a machine whose load drifts weighs on both sides; the
// solve is sampled for as long as it runs, at most 10 samples).
import { createTestDatabase, testToken } from '@diandan/testing';
import { httpBenchSettings, measureHttp, medianSample, printHttpTable, startServer } from '../../../apps/server/bench/lib.mjs';

const { seconds, connections, rounds } = httpBenchSettings();
const database = await createTestDatabase();
let server;
try {
  server = await startServer(new URL('./server.mjs', import.meta.url).pathname, { env: { DATABASE_URL: database.config.url }, timeoutMs: 300_000 });
  const admin = { authorization: `Bearer ${await testToken({ roles: ['city-admin'], region: '440100', sub: 'bench-planner' })}` };
  const get = (path) => fetch(`${server.url}${path}`, { headers: admin }).then((r) => r.json());
  // The ordering loop is seeded once the server listens: wait for its listed products.
  for (const started = Date.now(); !(await get('/v1/products?limit=50')).items?.length; await new Promise((r) => setTimeout(r, 250))) {
    if (Date.now() - started > 120_000) throw new Error('no listed products within 120 s');
  }
  const productList = () => measureHttp('product list', server, '/v1/products?limit=50', { headers: admin }, { seconds, connections });

  const idle = [];
  for (let round = 0; round < rounds; round++) idle.push(await productList());

  const started = performance.now();
  const run = await fetch(`${server.url}/bench/large-run`, { method: 'POST' }).then((r) => r.json());
  const startMs = performance.now() - started;
  const during = [];
  let state = await get(`/v1/matching/runs/${run.id}`);
  while (state.status === 'solving' && during.length < 10) {
    const sample = await productList();
    state = await get(`/v1/matching/runs/${run.id}`);
    // A sample counts only if the solve was still running when it ended.
    if (state.status === 'solving') during.push(sample);
  }
  while (state.status === 'solving') {
    await new Promise((r) => setTimeout(r, 500));
    state = await get(`/v1/matching/runs/${run.id}`);
  }
  const solvedMs = performance.now() - started;
  for (let round = 0; round < rounds; round++) idle.push(await productList());

  console.log(`\nMatching: the API while a large solve runs — ${connections} connections, ${seconds} s per sample; autocannon in this process, the server in its own`);
  console.log(`  large instance: ${run.demands} demand records, ${run.products} products (built in ${run.buildMs} ms on the server's event loop; a real run builds it in the request that starts it)`);
  console.log(`  run: started in ${Math.round(startMs)} ms, ${state.status} after ${(solvedMs / 1000).toFixed(1)} s; ${during.length} samples taken while it solved`);
  const results = [
    { name: `product list (50), idle (median of ${idle.length})`, ...medianSample(idle) },
    ...(during.length ? [{ name: `product list (50), during the solve (median of ${during.length})`, ...medianSample(during) }] : []),
  ];
  printHttpTable(results, 'idle');
  if (during.length) {
    const ratio = results[1].p99 / results[0].p99;
    const worst = Math.max(...during.map((s) => s.p99));
    console.log(`  p99 during the solve / idle: × ${ratio.toFixed(2)} (target ≤ 1.5); worst sample ${worst} ms`);
  } else {
    console.log('  the solve ended before one whole sample could be taken: no figure (lower BENCH_SECONDS)');
  }
  if (state.status !== 'solved') process.exitCode = 1;
} finally {
  await server?.stop();
  await database.drop();
}
