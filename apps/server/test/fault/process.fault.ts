/**
 * The process around the server: a crash leaves one structured `fatal` line (and the
 * exit code 1 a supervisor restarts on), and `pnpm start` stops cleanly when its own
 * PID gets SIGTERM (it passes the signal on to the node process it started).
 */
import { execFile, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { freePort } from '@diandan/testing';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../../..', import.meta.url));
const fixture = fileURLToPath(new URL('./fixtures/crash.mjs', import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the server process', () => {
  it.each(['exception', 'rejection'])('logs an uncaught %s as one fatal JSON line, scrubbed, then exits 1', async (how) => {
    const child = spawn(process.execPath, [fixture, how], { cwd: fileURLToPath(new URL('.', import.meta.url)), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(1);
    const lines = stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, any>);
    const fatal = lines.filter((l) => l.level === 60);
    expect(fatal).toHaveLength(1);
    expect(fatal[0]).toMatchObject({
      msg: how === 'exception' ? 'uncaught exception: exiting' : 'unhandled promise rejection: exiting',
      err: { type: 'Error', message: expect.stringContaining('[phone]'), stack: expect.any(String) },
    });
    expect(stdout).not.toContain('13800138000');
    expect(stderr).toBe('');
  });

  it('stops `pnpm start`, and the node server it started, on SIGTERM to pnpm', async () => {
    const port = await freePort();
    const pnpm = spawn('pnpm', ['start'], {
      cwd: root,
      env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', DIANDAN_DATA_DIR: 'memory://', DIANDAN_DEMO_SEED: 'off', LOG_LEVEL: 'info', DATABASE_URL: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    pnpm.stdout.on('data', (d: Buffer) => (output += d.toString()));
    pnpm.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((resolve) => pnpm.once('exit', resolve));
    const started = Date.now();
    while (!(await fetch(`http://127.0.0.1:${port}/health`).then((r) => r.ok, () => false))) {
      if (Date.now() - started > 120_000 || pnpm.exitCode !== null) throw new Error(`pnpm start did not serve:\n${output.slice(-2000)}`);
      await sleep(200);
    }
    const serverPid = Number(/"pid":(\d+)/.exec(output.split('\n').find((l) => l.includes('"msg":"Diandan for')) ?? '')?.[1]);
    expect(serverPid).toBeGreaterThan(0);
    pnpm.kill('SIGTERM');
    expect(await exited).toBe(0);
    await sleep(200);
    const alive = await run('kill', ['-0', String(serverPid)]).then(() => true, () => false);
    expect(alive, 'the node server outlived pnpm').toBe(false);
    expect(output).toContain('"msg":"shut down"');
    expect(output).not.toContain('ELIFECYCLE');
  });
});
