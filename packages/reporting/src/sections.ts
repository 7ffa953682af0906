import { sql } from 'drizzle-orm';
import { kernelTables, queryRows, type Actor, type HookBus } from '@diandan/kernel';
import { PLANNER_ROLES, type MatchingService, type Run } from '@diandan/matching';
import type { Services as ProcurementServices } from '@diandan/procurement';
import type { DemandService } from '@diandan/survey';
import { VenueProblems, type UtilisationReport } from '@diandan/venues';
import { reportSections, type ReportScope, type ReportSection } from './hooks.js';
import { pathPrefix, type Kpis } from './kpis.js';
import { t, type Locale } from './i18n.js';

/** The optional plugins whose data the report reads, as `ctx.deps` holds them (undefined when absent). */
export interface OptionalSources {
  readonly procurement?: ProcurementServices | undefined;
  readonly survey?: { readonly demand: DemandService } | undefined;
  readonly venues?: { readonly utilisation: Pick<UtilisationReport, 'ofRegion'> } | undefined;
  readonly matching?: { readonly matching: Pick<MatchingService, 'listRuns'> } | undefined;
  readonly registry?: object | undefined;
}

const absent = (key: string, title: string, note: string): ReportSection => ({ key, title, available: false, note });

/**
 * The sections other plugins' data make: procurement red flags, demand met, venue use,
 * matching fairness — each absent, with a note, when its plugin is — then whatever
 * plugins contribute through `report.sections`.
 */
export async function sectionsOf(sources: OptionalSources, hooks: HookBus, scope: ReportScope, kpis: Kpis, actor: Actor | undefined): Promise<ReportSection[]> {
  const L = scope.locale;
  const own = await Promise.all([
    procurementSection(sources, scope, actor, L),
    demandSection(sources, scope, kpis, actor, L),
    venueSection(sources, scope, actor, L),
    matchingSection(sources, scope, actor, L),
  ]);
  return hooks.apply(reportSections, own, scope);
}

async function procurementSection(sources: OptionalSources, scope: ReportScope, actor: Actor | undefined, L: Locale): Promise<ReportSection> {
  const key = 'procurement.red-flags';
  const title = t(L, 'procurementTitle');
  if (!sources.procurement) return absent(key, title, t(L, 'pluginAbsent', { plugin: '@diandan/procurement' }));
  if (!actor) return absent(key, title, t(L, 'procurementNeedsAdmin'));
  try {
    const { items } = await sources.procurement.indicators.byBuyer({ from: scope.period.from, to: scope.period.to }, { actor });
    const sum = (f: (b: (typeof items)[number]) => number) => items.reduce((s, b) => s + f(b), 0);
    const opened = sum((b) => b.openedTenders);
    const tenders = sum((b) => b.tenders);
    const ratio = (a: number, b: number) => (b === 0 ? null : a / b);
    return {
      key,
      title,
      available: true,
      figures: {
        [t(L, 'tenders')]: tenders,
        [t(L, 'singleBidShare')]: ratio(sum((b) => b.singleBidTenders), opened),
        [t(L, 'directAwardShare')]: ratio(sum((b) => b.directTenders), tenders),
        [t(L, 'averageBidders')]: ratio(sum((b) => b.averageBidders * b.openedTenders), opened),
        [t(L, 'savings')]: sum((b) => b.savings),
      },
      table: {
        columns: [t(L, 'buyer'), t(L, 'tenders'), t(L, 'singleBidShare'), t(L, 'directAwardShare'), t(L, 'averageBidders'), t(L, 'savings')],
        rows: items.map((b) => [b.buyerName, b.tenders, b.singleBidShare, b.directShare, b.averageBidders, b.savings]),
      },
    };
  } catch (error) {
    if ((error as { code?: string }).code === 'FORBIDDEN') return absent(key, title, t(L, 'procurementNeedsAdmin'));
    throw error;
  }
}

/** Demand expressed in surveys (by category, weights summed) against deliveries of that category. */
async function demandSection(sources: OptionalSources, scope: ReportScope, kpis: Kpis, actor: Actor | undefined, L: Locale): Promise<ReportSection> {
  const key = 'survey.demand-met';
  const title = t(L, 'demandTitle');
  if (!sources.survey) return absent(key, title, t(L, 'pluginAbsent', { plugin: '@diandan/survey' }));
  if (!actor) return absent(key, title, t(L, 'surveyNeedsStaff'));
  const demand = new Map<string, number>();
  let cursor: string | undefined;
  let pages = 0;
  try {
    do {
      const page = await sources.survey.demand.list({ regionCode: scope.regionCode, page: { limit: 200, cursor } }, { actor });
      for (const r of page.items) if (r.period >= scope.period.from.slice(0, 7) && r.period < scope.period.to.slice(0, 7)) demand.set(r.category, (demand.get(r.category) ?? 0) + r.weight);
      cursor = page.nextCursor ?? undefined;
      pages += 1;
    } while (cursor && pages < 500);
  } catch (error) {
    if ((error as { code?: string }).code === 'FORBIDDEN') return absent(key, title, t(L, 'surveyNeedsStaff'));
    throw error;
  }
  if (demand.size === 0) return absent(key, title, t(L, 'noDemand'));
  const delivered = new Map(kpis.byCategory.map((c) => [c.key, c.deliveries]));
  const rows = [...demand].sort((a, b) => b[1] - a[1]).map(([category, weight]) => [category, weight, delivered.get(category) ?? 0, Math.min(1, (delivered.get(category) ?? 0) / weight)] as const);
  const expressed = rows.reduce((s, r) => s + r[1], 0);
  const met = rows.reduce((s, r) => s + Math.min(r[1], r[2]), 0);
  return {
    key,
    title,
    available: true,
    figures: { [t(L, 'demandExpressed')]: expressed, [t(L, 'demandMet')]: expressed === 0 ? null : met / expressed },
    table: { columns: [t(L, 'category'), t(L, 'demandExpressed'), t(L, 'deliveries'), t(L, 'demandMet')], rows: rows.map((r) => [...r]) },
    paragraphs: [t(L, 'demandFormula')],
  };
}

/** Venues with sessions in the period: utilisation and no-show rate, from the venues plugin's `UtilisationReport`. */
async function venueSection(sources: OptionalSources, scope: ReportScope, actor: Actor | undefined, L: Locale): Promise<ReportSection> {
  const key = 'venues.utilisation';
  const title = t(L, 'venuesTitle');
  if (!sources.venues) return absent(key, title, t(L, 'pluginAbsent', { plugin: '@diandan/venues' }));
  if (!actor) return absent(key, title, t(L, 'venuesNeedsStaff'));
  // The venues plugin's subtree aggregate: one statement, whatever the number of venues.
  let utilisation: Awaited<ReturnType<UtilisationReport['ofRegion']>>;
  try {
    utilisation = await sources.venues.utilisation.ofRegion({ regionPath: scope.regionPath, from: scope.period.from, to: scope.period.to }, { actor });
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'FORBIDDEN' || code === VenueProblems.VENUE_NOT_FOUND) return absent(key, title, t(L, 'venuesNeedsStaff'));
    throw error;
  }
  const { venues: rows, totals } = utilisation;
  if (totals.sessions === 0) return absent(key, title, t(L, 'noSessions'));
  return {
    key,
    title,
    available: true,
    figures: {
      [t(L, 'venuesWithSessions')]: rows.length,
      [t(L, 'sessions')]: totals.sessions,
      [t(L, 'capacityOffered')]: totals.capacityOffered,
      [t(L, 'seatsCheckedIn')]: totals.seatsCheckedIn,
      [t(L, 'utilisation')]: totals.reservationUtilisation,
      [t(L, 'noShowRate')]: totals.noShowRate,
    },
    table: {
      columns: [t(L, 'venue'), t(L, 'sessions'), t(L, 'capacityOffered'), t(L, 'seatsCheckedIn'), t(L, 'utilisation'), t(L, 'noShowRate')],
      rows: rows.map((r) => [r.name, r.figures.sessions, r.figures.capacityOffered, r.figures.seatsCheckedIn, r.figures.reservationUtilisation, r.figures.noShowRate]),
    },
    paragraphs: [t(L, 'venuesFormula')],
  };
}

/** Solved matching runs of the subtree whose months lie in the period: price of fairness and floors met. */
async function matchingSection(sources: OptionalSources, scope: ReportScope, actor: Actor | undefined, L: Locale): Promise<ReportSection> {
  const key = 'matching.fairness';
  const title = t(L, 'matchingTitle');
  if (!sources.matching) return absent(key, title, t(L, 'pluginAbsent', { plugin: '@diandan/matching' }));
  if (!actor || !actor.roles.some((r) => (PLANNER_ROLES as readonly string[]).includes(r))) return absent(key, title, t(L, 'matchingNeedsPlanner'));
  const inTree = new Set(
    (await queryRows<{ code: string }>(scope.db, sql`select code from ${kernelTables.regions} where path collate "C" like ${pathPrefix(scope.regionPath)}`)).map((r) => r.code),
  );
  const from = scope.period.from.slice(0, 7);
  const to = scope.period.to.slice(0, 7);
  const runs: Run[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await sources.matching.matching.listRuns({ page: { limit: 200, cursor } }, { actor });
    for (const r of page.items) {
      const months = r.options.periods;
      if (r.status === 'solved' && r.summary && inTree.has(r.regionCode) && months.length > 0 && months.every((m) => m >= from && m < to)) runs.push(r);
    }
    cursor = page.nextCursor ?? undefined;
    pages += 1;
  } while (cursor && pages < 100);
  if (runs.length === 0) return absent(key, title, t(L, 'noRuns'));
  const priced = runs.filter((r) => r.summary!.priceOfFairness);
  const floors = runs.flatMap((r) => r.summary!.floors);
  const met = floors.filter((f) => f.met).length;
  return {
    key,
    title,
    available: true,
    figures: {
      [t(L, 'runs')]: runs.length,
      [t(L, 'priceOfFairness')]: priced.length ? priced.reduce((s, r) => s + r.summary!.priceOfFairness!.ratio, 0) / priced.length : null,
      [t(L, 'floorsMet')]: `${met} / ${floors.length}`,
      [t(L, 'floorsMetShare')]: floors.length ? met / floors.length : null,
    },
    table: {
      columns: [t(L, 'run'), t(L, 'region'), t(L, 'periods'), t(L, 'priceOfFairness'), t(L, 'floorsMet')],
      rows: runs.map((r) => [r.id.slice(0, 8), r.regionCode, r.options.periods.join(', '), r.summary!.priceOfFairness?.ratio ?? null, `${r.summary!.floors.filter((f) => f.met).length} / ${r.summary!.floors.length}`]),
    },
    paragraphs: [t(L, 'matchingFormula')],
  };
}
