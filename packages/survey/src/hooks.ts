import { createHook } from '@diandan/kernel';

/** What changed in the demand records: enough for a subscriber (matching) to know what to re-read. */
export interface DemandUpdatedEvent {
  /** `survey` (responses, imports) or the plugin that contributed the signals. */
  readonly source: string;
  readonly questionnaireId: string | null;
  /** Region codes whose demand changed. */
  readonly regions: readonly string[];
  readonly categories: readonly string[];
  /** `YYYY-MM` periods touched. */
  readonly periods: readonly string[];
  /** How many demand records were added. */
  readonly records: number;
  /** How many demand records were removed (a unit withdrew its direct request); absent when none. */
  readonly withdrawn?: number | undefined;
}

/** Demand records were added or withdrawn (需求更新): subscribe durably (`{ durable: true }`) in matching. */
export const demandUpdated = createHook<DemandUpdatedEvent>('survey.demand-updated');

/** One demand signal another package contributes (an unfilled order, a reservation waiting list, …). */
export interface DemandSignal {
  readonly regionCode: string;
  readonly group: string;
  readonly category: string;
  readonly tags?: readonly string[] | undefined;
  /** `YYYY-MM`. */
  readonly period: string;
  /** Positive; e.g. 1 per waiting person. */
  readonly weight: number;
}

/** What a contributing package publishes: `ctx.hooks.publish(tx, demandSignalled, { source: ctx.name, signals })`. */
export interface DemandSignalledEvent {
  readonly source: string;
  readonly signals: readonly DemandSignal[];
}

/** Other packages contribute demand signals by publishing this event; the survey stores them (durably, once each). */
export const demandSignalled = createHook<DemandSignalledEvent>('survey.demand-signalled');
