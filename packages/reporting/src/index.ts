/** @diandan/reporting — KPIs, equity indices, efficiency evaluation (效能评估) and the annual service report (服务年报). */
export { reporting, reportingPlugin } from './plugin.js';
export { reportSections, efficiencyIndicators, type ReportSection, type ReportScope, type SectionTable } from './hooks.js';
export { KpiService, pathPrefix, type Kpis, type Tally, type RegionTally, type Share, type GroupReach, type ProductTally, type YearOnYear, type LevelIndex } from './kpis.js';
export { weightedGini, theil, balanceIndex, gapList, equityOf, DEFAULT_BALANCE_WEIGHTS, type Equity, type EquityUnit, type TheilDecomposition, type BalanceWeights, type Gap } from './equity.js';
export { CHANGNING_INDICATORS, evaluate, type IndicatorDefinition, type IndicatorValue, type Efficiency, type EfficiencyInputs } from './efficiency.js';
export { ReportingService, type ReportData } from './report.js';
export { ReportStore, type StoredReport, type ReportJobData } from './reports.js';
export { renderHtml, chartsOf } from './html.js';
export { loadCharts, renderChart, type RenderedChart } from './charts.js';
export { toCsv } from './csv.js';
export { periodOf, yearPeriod, yearEarlier, monthsOf, type Period } from './period.js';
export { t, type Locale } from './i18n.js';
export * from './routes/models.js';
