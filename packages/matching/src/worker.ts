/**
 * The solve, in a worker thread (the kernel's `defineWorker`): the event loop of the
 * process serving HTTP stays free while HiGHS and the heuristic run. Data and result
 * cross the thread boundary by structured clone.
 */
import type { Instance } from './problem.js';
import { highs } from './lp.js';
import { solve, type SolveOptions, type SolveReport } from './solve.js';

// HiGHS's WebAssembly starts compiling when the thread starts, while the instance is compiled
// and the first heuristic runs, not when the first LP is needed.
void highs().catch(() => {});

export interface SolveJobData {
  instance: Instance;
  options: Omit<SolveOptions, 'signal' | 'progress'>;
}

export default async function solveInWorker(data: SolveJobData, ctx: { progress(percent: number, message?: string): Promise<void>; signal: AbortSignal }): Promise<SolveReport> {
  return solve(data.instance, { ...data.options, signal: ctx.signal, progress: (p, m) => ctx.progress(p, m) });
}
