// Helpers shared by the benchmarks: free ports, spawning a server script in its own
// process and waiting for it, peak memory, medians and tables.
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

/** apps/server, the folder the benchmarks run in. */
export const appRoot = fileURLToPath(new URL('..', import.meta.url));

/** A TCP port nobody listens on right now (other benchmarks may run on the same machine). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

/** Peak resident memory (VmHWM) of a live process, in MiB. */
export async function peakRssMiB(pid) {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  return Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? NaN) / 1024;
}

/** CPU time (user + system, all threads) a live process has used so far, in ms. */
export async function cpuMs(pid) {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  // Fields after the command name (which may contain spaces): utime is the 12th, stime the 13th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
}
const CLOCK_TICKS = 100; // USER_HZ, 100 on Linux

const children = new Set();
process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

/**
 * Spawns `node <script> ...args` in apps/server on a free port (env PORT) and resolves
 * when `GET /health` answers 200, with the time from spawn to then. The child's
 * output is dropped unless `BENCH_VERBOSE` is set; `BENCH_NODE_ARGS` are put before the
 * script (to profile a scenario's server: `BENCH_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof'`).
 */
export async function startServer(script, { args = [], env = {}, timeoutMs = 120_000 } = {}) {
  const port = await freePort();
  const started = performance.now();
  // BENCH_NODE_ARGS passes options to the server's node, e.g. '--cpu-prof --cpu-prof-dir=/tmp/prof'.
  const nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, script, ...args], {
    cwd: appRoot,
    env: { ...process.env, HOST: '127.0.0.1', LOG_LEVEL: 'warn', ...env, PORT: String(port) },
    stdio: ['ignore', process.env.BENCH_VERBOSE ? 'inherit' : 'ignore', 'inherit'],
  });
  children.add(child);
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
  const url = `http://127.0.0.1:${port}`;
  let readyMs;
  while (readyMs === undefined) {
    if (performance.now() - started > timeoutMs) throw new Error(`${script} did not answer /health within ${timeoutMs} ms`);
    const early = await Promise.race([exited, new Promise((r) => setTimeout(r, 20, undefined))]);
    if (early !== undefined) throw new Error(`${script} ${args.join(' ')} exited (${early}) before answering /health`);
    try {
      if ((await fetch(`${url}/health`)).ok) readyMs = performance.now() - started;
    } catch {
      // not listening yet
    }
  }
  return {
    url,
    pid: child.pid,
    readyMs,
    /** Stops it with SIGTERM and checks it shut down cleanly (exit code 0). */
    async stop() {
      child.kill('SIGTERM');
      const result = await exited;
      children.delete(child);
      if (result !== 0) throw new Error(`${script} exited with ${result} on SIGTERM`);
    },
  };
}

export const median = (xs) => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/** Prints rows (arrays of cells) under a header row: the first column left-aligned, the others right-aligned. */
export function printTable(header, rows) {
  const all = [header, ...rows].map((r) => r.map(String));
  const widths = header.map((_, i) => Math.max(...all.map((r) => r[i].length)));
  for (const r of all) console.log(`  ${r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('   ')}`.trimEnd());
}

/** autocannon options from a scenario's: a `setupRequest` goes in a one-request sequence. */
function cannonOptions({ setupRequest, ...options }) {
  return setupRequest ? { ...options, requests: [{ setupRequest }] } : options;
}

/**
 * One autocannon run of a scenario against a server started with `startServer`: sends
 * the request once first and throws with the answer unless it is 2xx, then drives it
 * for `seconds` with `connections`. Returns req/s, p99 latency (ms), the server's CPU
 * time per request (µs, moves less with the machine's other load than req/s) and how
 * many requests failed. `options` are autocannon's (method, headers, body, setupRequest…).
 *
 * Used by bench/http.mjs and by the packages' HTTP benchmarks (packages/<name>/bench).
 */
export async function measureHttp(name, server, path, options, { seconds, connections }) {
  const { default: autocannon } = await import('autocannon');
  const req = options.setupRequest ? options.setupRequest({ path, method: options.method, headers: options.headers }) : { path, ...options };
  const res = await fetch(`${server.url}${req.path}`, { method: req.method ?? 'GET', headers: req.headers, body: req.body });
  if (!res.ok) throw new Error(`scenario "${name}": ${req.method ?? 'GET'} ${req.path} answered ${res.status}: ${await res.text()}`);
  const cpuBefore = await cpuMs(server.pid);
  const r = await new Promise((resolve, reject) => {
    autocannon({ url: `${server.url}${path}`, connections, duration: seconds, ...cannonOptions(options) }, (err, result) => (err ? reject(err) : resolve(result)));
  });
  const cpuUs = (((await cpuMs(server.pid)) - cpuBefore) * 1000) / Math.max(1, r.requests.total);
  return { rps: r.requests.average, p99: r.latency.p99, cpuUs, bad: r.non2xx + r.errors + r.timeouts };
}

/** The median of each figure of `measureHttp` samples (failures summed). */
export function medianSample(runs) {
  return {
    rps: median(runs.map((r) => r.rps)),
    p99: median(runs.map((r) => r.p99)),
    cpuUs: median(runs.map((r) => r.cpuUs)),
    bad: runs.reduce((n, r) => n + r.bad, 0),
  };
}

/** Prints `{ name, rps, p99, cpuUs, bad }` rows next to the first (the baseline): req/s and server CPU per request as multiples of its. */
export function printHttpTable(results, baselineName = 'hello world') {
  const [baseline] = results;
  printTable(
    ['scenario', 'req/s', 'p99', `× ${baselineName}`, 'server CPU/req', `× ${baselineName}`, 'failed'],
    results.map((r) => [
      r.name,
      r.rps.toFixed(0),
      `${r.p99} ms`,
      (r.rps / baseline.rps).toFixed(3),
      `${r.cpuUs.toFixed(0)} µs`,
      (r.cpuUs / baseline.cpuUs).toFixed(1),
      r.bad || '',
    ]),
  );
}

/** `a`'s req/s as a percentage of `b`'s ('n/a' when either is missing). */
export const rpsPercent = (a, b) => (a && b ? `${((a.rps / b.rps) * 100).toFixed(1)}%` : 'n/a');

/**
 * A package's HTTP bench settings: BENCH_SECONDS (default `seconds`), BENCH_CONNECTIONS
 * (20) and BENCH_ROUNDS (3) from the environment; DATABASE_URL defaults to the local
 * PostgreSQL (set before any test database is made).
 */
export function httpBenchSettings({ seconds = 3 } = {}) {
  process.env.DATABASE_URL ||= 'postgres://postgres@127.0.0.1:5432/postgres';
  return {
    seconds: Number(process.env.BENCH_SECONDS ?? seconds),
    connections: Number(process.env.BENCH_CONNECTIONS ?? 20),
    rounds: Number(process.env.BENCH_ROUNDS ?? 3),
  };
}

/** The hello-world baseline server (bench/hello.mjs), by absolute path. */
export const helloScript = fileURLToPath(new URL('./hello.mjs', import.meta.url));
