/** Matching's extension points: typed filters other plugins subscribe to, and its events. */
import { createFilter, createHook } from '@diandan/kernel';
import type { DemandRecord, Floor, ListedProduct } from './problem.js';

/** One candidate (demand × product) as the `matching.score` filter sees it; handlers may change `value`. */
export interface ScoredCandidate {
  readonly demand: DemandRecord;
  readonly product: ListedProduct;
  readonly relevance: number;
  value: number;
}

/** What the filters are told about the run (or recommendation) they score. */
export interface ScoreContext {
  readonly regionCode: string;
  readonly periods: readonly string[];
  /** `run` (a plan) or `recommendation` (one unit's ordering screen). */
  readonly purpose: 'run' | 'recommendation';
}

/**
 * `matching.score`: a region plugin changes candidate values (e.g. a monthly theme boost).
 * The handler gets every candidate of the run at once and returns them (same order,
 * same length); a value ≤ 0 drops the candidate.
 */
export const matchingScore = createFilter<ScoredCandidate[], ScoreContext>('matching.score');

/** `matching.constraints`: a region plugin adds floors (e.g. a minimum share for a sub-brand's group). */
export const matchingConstraints = createFilter<Floor[], ScoreContext>('matching.constraints');

/** A plan became draft kernel orders (in the converting transaction). */
export const planOrdered = createHook<{ readonly planId: string; readonly runId: string; readonly regionCode: string; readonly orderIds: readonly string[]; readonly actorId: string }>(
  'matching.plan.ordered',
);

/** A residents' ballot was closed and its result computed. */
export const ballotClosed = createHook<{ readonly ballotId: string; readonly regionCode: string; readonly funded: readonly string[]; readonly actorId: string }>('matching.ballot.closed');
