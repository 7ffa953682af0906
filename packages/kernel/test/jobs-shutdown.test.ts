/*
 * Shutting down with jobs that will not stop by themselves: closing waits for them no
 * longer than `jobs.shutdownTimeoutSeconds` (plus a second to abort), and leaves
 * nothing behind that keeps the process alive. The server runs in a child process that
 * never calls process.exit, so it must end by itself.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const kernelDir = fileURLToPath(new URL('..', import.meta.url));
const script = fileURLToPath(new URL('./fixtures/jobs/start-and-close.ts', import.meta.url));

describe('stopping the job runner', () => {
  it('bounds the wait for running jobs and leaves no timer, thread or connection behind', async () => {
    const proc = spawn(process.execPath, ['--conditions=@diandan/source', '--import', 'tsx', script], {
      cwd: kernelDir,
      env: { ...process.env, NODE_OPTIONS: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d) => (stdout += d));
    proc.stderr.on('data', (d) => (stderr += d));
    let closedAt = 0;
    proc.stdout.on('data', () => void (closedAt ||= stdout.includes('closed in') ? Date.now() : 0));
    const exit = await new Promise<{ code: number | null; lingered: boolean }>((resolve) => {
      const guard = setTimeout(() => {
        proc.kill('SIGKILL');
        resolve({ code: null, lingered: true });
      }, 90_000);
      proc.on('exit', (code) => {
        clearTimeout(guard);
        resolve({ code, lingered: false });
      });
    });
    expect(stderr, stdout).toBe('');
    expect(exit).toEqual({ code: 0, lingered: false });
    const closedIn = Number(/closed in (\d+) ms/.exec(stdout)?.[1]);
    // shutdownTimeoutSeconds: 1, then at most a second for the aborted handlers (about 2.3 s when the
    // machine is quiet; the margin is for a loaded one). Unbounded, the stubborn job would hold it for ever.
    expect(closedIn).toBeLessThan(10_000);
    // Once closed, the process ends on its own: a timer or connection left behind would keep it
    // alive for ever (the 90 s guard), a worker thread left running for the rest of its 60 s spin.
    // (Well under a second when the machine is quiet; the margin is for a loaded one.)
    expect(Date.now() - closedAt).toBeLessThan(15_000);
  }, 120_000);
});
