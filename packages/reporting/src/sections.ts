import type { Actor, HookBus } from '@diandan/kernel';
import type { Services as ProcurementServices } from '@diandan/procurement';
import type { DemandService } from '@diandan/survey';
import { reportSections, type ReportScope, type ReportSection } from './hooks.js';
import type { Kpis } from './kpis.js';
import { t, type Locale } from './i18n.js';

/** The optional plugins whose data the report reads, as `ctx.deps` holds them (undefined when absent). */
export interface OptionalSources {
  readonly procurement?: ProcurementServices | undefined;
  readonly survey?: { readonly demand: DemandService } | undefined;
  readonly venues?: object | undefined;
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
  const [procurement, demand] = await Promise.all([procurementSection(sources, scope, actor, L), demandSection(sources, scope, kpis, actor, L)]);
  const own = [procurement, demand, venueSection(sources, L), matchingSection(L)];
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

function venueSection(sources: OptionalSources, L: Locale): ReportSection {
  const key = 'venues.utilisation';
  const title = t(L, 'venuesTitle');
  if (!sources.venues) return absent(key, title, t(L, 'pluginAbsent', { plugin: '@diandan/venues' }));
  return absent(key, title, t(L, 'venuesNoAggregate'));
}

function matchingSection(L: Locale): ReportSection {
  return absent('matching.fairness', t(L, 'matchingTitle'), t(L, 'matchingAbsent'));
}

