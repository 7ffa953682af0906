// Measures how long the built server takes from spawn to its first healthy answer,
// and its peak memory (VmHWM), on the embedded PGlite database: cold (empty data
// folder: initdb, migrations, demo seed) and warm (restart on existing data). A bare
// Fastify process is measured in the same run as the baseline, so the ratios hold on
// a noisy machine. Run with `pnpm --filter @diandan/server bench` after a build.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const runs = Number(process.env.RUNS ?? 3);

async function peakRss(pid) {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  return kb / 1024;
}

async function measure(args, env, port) {
  const started = performance.now();
  const child = spawn(process.execPath, args, { cwd: root, env: { ...process.env, ...env, PORT: String(port) }, stdio: 'ignore' });
  let ready = NaN;
  for (let i = 0; i < 600; i++) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/health`);
      if (res.ok) {
        ready = performance.now() - started;
        break;
      }
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  // One request to a real route, then read peak memory.
  await fetch(`http://127.0.0.1:${port}/v1/regions?limit=50`).catch(() => {});
  const rss = await peakRss(child.pid);
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const code = await exited;
  if (code !== 0) throw new Error(`server exited with ${code} on SIGTERM`);
  return { ready, rss };
}

const baselineScript = `
  import Fastify from 'fastify';
  const app = Fastify();
  app.get('/health', async () => ({ status: 'ok' }));
  await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
  process.on('SIGTERM', () => app.close().then(() => process.exit(0)));
`;

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const results = { baseline: [], cold: [], warm: [] };
for (let i = 0; i < runs; i++) {
  results.baseline.push(await measure(['--input-type=module', '-e', baselineScript], {}, 3900));
  const dataDir = await mkdtemp(join(tmpdir(), 'diandan-bench-'));
  const env = { DIANDAN_DATA_DIR: dataDir, DATABASE_URL: '', LOG_LEVEL: 'warn', HOST: '127.0.0.1' };
  results.cold.push(await measure(['dist/src/main.js'], env, 3901));
  results.warm.push(await measure(['dist/src/main.js'], env, 3901));
  await rm(dataDir, { recursive: true, force: true });
}

const base = median(results.baseline.map((r) => r.ready));
console.log(`startup on PGlite, median of ${runs} runs (spawn → first 200 from /health):`);
for (const [name, rs] of Object.entries(results)) {
  const ready = median(rs.map((r) => r.ready));
  const rss = median(rs.map((r) => r.rss));
  console.log(
    `  ${name.padEnd(8)} ${ready.toFixed(0).padStart(6)} ms  ${(ready / base).toFixed(1).padStart(5)}× baseline   peak RSS ${rss.toFixed(0)} MiB`,
  );
}
