/*
 * CPU-heavy jobs run in worker threads, off the event loop.
 *
 * One thread per run, started when the run starts and ended when it settles — no pool.
 * pg-boss already bounds how many runs of a job one process works on at once (the job's
 * `concurrency`), so a pool would only save the thread's start-up (tens of milliseconds,
 * small beside the seconds of CPU such a job exists for). In exchange each run gets a
 * fresh thread: a run that leaks memory or leaves timers behind cannot affect the next,
 * and cancelling or shutting down can always end a run by terminating its thread, even
 * one stuck in a loop that never looks at its signal.
 *
 * The thread's code is evaluated from the string below (not loaded from a file), so it
 * is the same whether the kernel runs from `dist` or from its TypeScript sources. It
 * imports the job's module, calls its default export with the job's data and
 * `{ progress, signal }`, and posts progress and the outcome back.
 */
import { Worker } from 'node:worker_threads';

const THREAD_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const controller = new AbortController();
parentPort.on('message', (m) => { if (m && m.type === 'abort') controller.abort(new Error('The job was cancelled')); });
const progress = async (percent, message) => { parentPort.postMessage({ type: 'progress', percent, message }); };
(async () => {
  try {
    const mod = await import(workerData.module);
    if (typeof mod.default !== 'function') throw new TypeError(workerData.module + ' has no default export function');
    const result = await mod.default(workerData.data, { progress, signal: controller.signal });
    parentPort.postMessage({ type: 'done', result: result === undefined ? null : result });
  } catch (error) {
    parentPort.postMessage({ type: 'error', message: String(error && error.message || error), stack: error && error.stack });
  }
})();
`;

/** How long a thread is given to return after its signal is aborted before it is terminated. */
const ABORT_GRACE_MS = 1000;

/** What a thread run reports to. */
export interface ThreadRun {
  readonly signal: AbortSignal;
  progress(percent: number, message?: string): Promise<void>;
  onProgressError(error: unknown): void;
}

/** The worker threads running in this process; `terminateAll` ends them on shutdown. */
export class ThreadRunner {
  readonly #threads = new Set<Worker>();

  /** Runs `module`'s default export on `data` in a new worker thread; resolves to its result. */
  run(module: URL, data: unknown, run: ThreadRun): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const thread = new Worker(THREAD_SOURCE, { eval: true, workerData: { module: module.href, data } });
      this.#threads.add(thread);
      let settled = false;
      let killTimer: NodeJS.Timeout | undefined;
      const settle = (outcome: () => void) => {
        if (settled) return;
        settled = true;
        run.signal.removeEventListener('abort', onAbort);
        clearTimeout(killTimer);
        this.#threads.delete(thread);
        void thread.terminate();
        outcome();
      };
      const onAbort = () => {
        thread.postMessage({ type: 'abort' });
        killTimer = setTimeout(() => void thread.terminate(), ABORT_GRACE_MS);
        killTimer.unref();
      };
      thread.on('message', (m: { type: string; percent?: number; message?: string; result?: unknown; stack?: string }) => {
        if (m.type === 'progress') run.progress(m.percent as number, m.message).catch((error) => run.onProgressError(error));
        else if (m.type === 'done') settle(() => resolve(m.result));
        else if (m.type === 'error') settle(() => reject(Object.assign(new Error(m.message), { stack: m.stack })));
      });
      thread.on('error', (error) => settle(() => reject(error)));
      thread.on('exit', (code) =>
        settle(() => reject(new Error(run.signal.aborted ? 'The job was aborted' : `The job's worker thread exited with code ${code}`))),
      );
      run.signal.addEventListener('abort', onAbort, { once: true });
      if (run.signal.aborted) onAbort();
    });
  }

  /** Terminates every thread still running (on shutdown, after the grace period). */
  async terminateAll(): Promise<void> {
    await Promise.all([...this.#threads].map((t) => t.terminate()));
    this.#threads.clear();
  }
}
