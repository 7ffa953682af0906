import type { ReportData } from './report.js';

/** One CSV field, quoted when it must be (RFC 4180). */
function field(value: unknown): string {
  const s = value === null || value === undefined ? '' : String(value);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * The report's figures as one long CSV table — `section,key,name,metric,value` — so a
 * spreadsheet can pivot it: every KPI, breakdown, equity measure and indicator.
 */
export function toCsv(data: ReportData): string {
  const rows: unknown[][] = [['section', 'key', 'name', 'metric', 'value']];
  const k = data.kpis;
  const put = (section: string, key: string, name: string, metrics: Record<string, unknown>) => {
    for (const [m, v] of Object.entries(metrics)) rows.push([section, key, name, m, v]);
  };
  put('total', k.region.code, k.region.name, {
    deliveries: k.deliveries,
    participants: k.participants,
    expectedAudience: k.expectedAudience,
    responses: k.responses,
    meanRating: k.meanRating,
    satisfactionRate: k.satisfactionRate,
    streetCoverage: k.coverage.streets.share,
    communityCoverage: k.coverage.communities.share,
    deliveriesPer10k: k.per10k.deliveries,
    participantsPer10k: k.per10k.participants,
    approvalLeadTimeMeanHours: k.approvalLeadTime.meanHours,
    approvalLeadTimeMedianHours: k.approvalLeadTime.medianHours,
    budgetExecution: k.budget?.execution ?? null,
    catalogueUtilisation: k.catalogue.utilisation,
  });
  put('year-earlier', k.region.code, k.region.name, { deliveries: k.yearEarlier.deliveries, participants: k.yearEarlier.participants, satisfactionRate: k.yearEarlier.satisfactionRate });
  for (const [status, n] of Object.entries(k.ordersByStatus)) rows.push(['orders-by-status', status, status, 'orders', n]);
  const tallyMetrics = (t: { deliveries: number; participants: number; responses: number; meanRating: number | null; satisfactionRate: number | null }) => ({
    deliveries: t.deliveries,
    participants: t.participants,
    responses: t.responses,
    meanRating: t.meanRating,
    satisfactionRate: t.satisfactionRate,
  });
  for (const r of k.byDistrict) put('district', r.code, r.name, { population: r.population, ...tallyMetrics(r), deliveriesPer10k: r.deliveriesPer10k });
  for (const r of k.byStreet) put('street', r.code, r.name, { population: r.population, ...tallyMetrics(r), deliveriesPer10k: r.deliveriesPer10k });
  for (const r of k.byCategory) put('category', r.key, r.name, tallyMetrics(r));
  for (const r of k.byMonth) put('month', r.month, r.month, tallyMetrics(r));
  for (const g of k.groups) put('group', g.key, g.name, { deliveries: g.deliveries, participants: g.participants, respondents: g.respondents, meanRating: g.meanRating });
  for (const s of k.suppliers) put('supplier', s.id, s.name, tallyMetrics(s));
  const eq = data.equity.measures;
  put('equity', 'deliveries', 'deliveries', { giniDistricts: eq.deliveries.giniDistricts, giniStreets: eq.deliveries.giniStreets, theil: eq.deliveries.theil?.total, theilBetween: eq.deliveries.theil?.between, theilWithin: eq.deliveries.theil?.within });
  put('equity', 'participants', 'participants', { giniDistricts: eq.participants.giniDistricts, giniStreets: eq.participants.giniStreets, theil: eq.participants.theil?.total, theilBetween: eq.participants.theil?.between, theilWithin: eq.participants.theil?.within });
  put('equity', 'balance', 'balance', { index: data.equity.balance.index });
  for (const g of data.equity.gaps) put('gap', g.code, g.name, { kind: g.kind, deliveries: g.deliveries, expected: g.expected, shortfall: g.shortfall });
  for (const i of data.efficiency.indicators) put('efficiency', i.key, i.name, { value: i.value, score: i.score, weight: i.weight });
  put('efficiency', 'composite', 'composite', { score: data.efficiency.composite });
  for (const s of data.sections) put('section', s.key, s.title, s.available ? { ...(s.figures ?? {}) } : { available: false, note: s.note });
  return rows.map((r) => r.map(field).join(',')).join('\r\n') + '\r\n';
}
