// Start-up time and peak memory on the embedded PGlite database. For each case the
// built demo deployment (bench/server.mjs) is spawned and timed from spawn to its
// first 200 from /health (and the CPU time it used until then); its peak memory is
// VmHWM after one request to a real route. Cases, each run in turn, RUNS times (default 3), medians printed:
//
//   baseline          a bare Fastify process (bench/hello.mjs)
//   first, image      an empty data folder, started from the prepared PGlite image
//                     (what `pnpm start` does the first time), then migrations and
//                     the demo seed
//   first, initdb     the same with the image switched off: PGlite runs initdb
//                     (how every first start went before the image)
//   warm restart      a restart on the folder the image case made
//
// Every figure is printed next to the baseline measured in the same run, since the
// machine's load moves absolute times. Run after a build: `pnpm --filter @diandan/server bench:startup`.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cpuMs, median, peakRssMiB, printTable, startServer } from './lib.mjs';

const runs = Math.max(1, Number(process.env.RUNS ?? 3));

async function measure(script, { args = [], env = {} } = {}) {
  const server = await startServer(script, { args, env });
  const cpu = await cpuMs(server.pid);
  await fetch(`${server.url}/v1/regions?limit=50`).catch(() => {});
  const rss = await peakRssMiB(server.pid);
  await server.stop();
  return { ms: server.readyMs, cpu, rss };
}

const cases = {
  baseline: [],
  image: [],
  initdb: [],
  warm: [],
};
const pglite = (dataDir) => ({ DIANDAN_DATA_DIR: dataDir, DATABASE_URL: '' });
for (let i = 0; i < runs; i++) {
  const folder = await mkdtemp(join(tmpdir(), 'diandan-bench-startup-'));
  try {
    cases.baseline.push(await measure('bench/hello.mjs'));
    // A folder that does not exist yet, as on a first `pnpm start`.
    cases.image.push(await measure('bench/server.mjs', { env: pglite(join(folder, 'image')) }));
    cases.warm.push(await measure('bench/server.mjs', { env: pglite(join(folder, 'image')) }));
    cases.initdb.push(await measure('bench/server.mjs', { args: ['--pglite-image=off'], env: pglite(join(folder, 'initdb')) }));
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}

const m = Object.fromEntries(
  Object.entries(cases).map(([k, rs]) => [k, { ms: median(rs.map((r) => r.ms)), cpu: median(rs.map((r) => r.cpu)), rss: median(rs.map((r) => r.rss)) }]),
);
const labels = {
  baseline: 'bare Fastify (baseline)',
  image: 'first start, from the image',
  initdb: 'first start, initdb (image off)',
  warm: 'warm restart',
};
const x = (a, b) => `${(a / b).toFixed(2)}×`;
console.log(`Start-up on PGlite — median of ${runs} run(s), all cases in each run; spawn → first 200 from /health, peak RSS = VmHWM`);
printTable(
  ['case', 'time', '× baseline', 'CPU', '× baseline', 'peak RSS', '× baseline'],
  Object.entries(m).map(([k, v]) => [
    labels[k],
    `${v.ms.toFixed(0)} ms`,
    x(v.ms, m.baseline.ms),
    `${v.cpu.toFixed(0)} ms`,
    x(v.cpu, m.baseline.cpu),
    `${v.rss.toFixed(0)} MiB`,
    x(v.rss, m.baseline.rss),
  ]),
);
console.log(`  image / initdb: time ${x(m.image.ms, m.initdb.ms)}, CPU ${x(m.image.cpu, m.initdb.cpu)}, peak RSS ${x(m.image.rss, m.initdb.rss)}`);
console.log('  (CPU: user + system time of the server process, all threads, until /health answered — less moved by the load of other processes than wall time)');
const ok = (v) => (v ? 'met' : 'NOT met');
console.log(
  `  targets (issue 7, 2-core machine): first start ≤ 3 s ${ok(m.image.ms <= 3000)}, ≤ 400 MiB ${ok(m.image.rss <= 400)}; warm restart ≤ 2 s ${ok(m.warm.ms <= 2000)}`,
);
