import { createFilter, type Executor } from '@diandan/kernel';
import type { IndicatorDefinition } from './efficiency.js';
import type { Period } from './period.js';

/** What a report section or an indicator is computed for. */
export interface ReportScope {
  readonly regionCode: string;
  readonly regionPath: string;
  readonly period: Period;
  readonly locale: 'zh' | 'en';
  /** Read through this (the report's own snapshot, where one is open). */
  readonly db: Executor;
}

/** A table of a plugin-contributed section: column labels and rows of cells. */
export interface SectionTable {
  columns: string[];
  rows: (string | number | null)[][];
}

/**
 * A section of the annual report (报告章节). `available: false` says the data is not
 * there (its plugin is absent, say) — the report shows `note`, never zeros.
 */
export interface ReportSection {
  /** Unique, `<plugin>.<name>`. */
  readonly key: string;
  readonly title: string;
  readonly available: boolean;
  readonly note?: string | undefined;
  /** Headline figures: label → value. */
  readonly figures?: Record<string, string | number | null> | undefined;
  readonly table?: SectionTable | undefined;
  /** Plain paragraphs. */
  readonly paragraphs?: string[] | undefined;
}

/**
 * `report.sections` — plugins add (or change) sections of the annual report. Append
 * to the list; the report renders them in order, after its own.
 */
export const reportSections = createFilter<ReportSection[], ReportScope>('report.sections');

/**
 * `reporting.efficiencyIndicators` — region plugins add indicators to the efficiency
 * evaluation (效能评估), or change the weights and targets of the built-in ones.
 */
export const efficiencyIndicators = createFilter<IndicatorDefinition[], Omit<ReportScope, 'db' | 'locale'>>('reporting.efficiencyIndicators');
