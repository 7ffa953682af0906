import {
  BEARER,
  IdempotencyKeyHeader,
  Page,
  PageQuery,
  REGION_STAFF,
  Type,
  authorize,
  idempotentWrite,
  pageRequest,
  problemResponses,
  ref,
  requireActor,
  type Actor,
  type Database,
  type DiandanApp,
  type JobDefinition,
  type Jobs,
  type KernelServices,
} from '@diandan/kernel';
import { periodOf } from '../period.js';
import type { ReportingService } from '../report.js';
import type { ReportJobData, ReportStore } from '../reports.js';
import { EfficiencySchema, EquitySchema, KpisSchema, ReportDataSchema, SectionSchema, StoredReportSchema } from './models.js';

const Scope = Type.Object({
  regionCode: Type.Optional(Type.String({ maxLength: 32, description: 'Top of the subtree (default: the caller’s home region)' })),
  year: Type.Optional(Type.Integer({ minimum: 2000, maximum: 2100, description: 'A calendar year; or give `from` and `to`' })),
  from: Type.Optional(Type.String({ format: 'date' })),
  to: Type.Optional(Type.String({ format: 'date', description: 'Exclusive' })),
});
const Locale = Type.Union([Type.Literal('zh'), Type.Literal('en')], { default: 'zh' });

interface Deps {
  reporting: ReportingService;
  store: ReportStore;
  regions: KernelServices['regions'];
  jobs: Jobs;
  reportJob: JobDefinition<ReportJobData, unknown>;
  db: Database;
}

/** Thin HTTP wrappers: who may call, which subtree and period, then the services. */
export function reportingRoutes(app: DiandanApp, deps: Deps): void {
  const { reporting, store, regions, db } = deps;
  const scope = async (actor: Actor, query: { regionCode?: string | undefined; year?: number | undefined; from?: string | undefined; to?: string | undefined }) => {
    const regionCode = query.regionCode ?? actor.region;
    // REGION_NOT_FOUND (404) outside the caller's subtree, as if it did not exist.
    const regionPath = await regions.pathInScope(regionCode, actor);
    return { regionCode, regionPath, period: periodOf(query) };
  };
  const common = { tags: ['reporting'], security: BEARER, querystring: Scope };

  app.get(
    '/v1/reporting/kpis',
    {
      preValidation: authorize(...REGION_STAFF),
      schema: { ...common, operationId: 'getReportingKpis', summary: 'KPIs of a region subtree over a period, with breakdowns and the year before (region staff)', response: { 200: ref(KpisSchema), ...problemResponses(403, 404) } },
    },
    async (req) => reporting.kpis(db, await scope(requireActor(req), req.query)),
  );

  app.get(
    '/v1/reporting/equity',
    {
      preValidation: authorize(...REGION_STAFF),
      schema: { ...common, operationId: 'getReportingEquity', summary: 'Equity of a subtree: weighted Gini, Theil decomposition, balance index, gap list (region staff)', response: { 200: ref(EquitySchema), ...problemResponses(403, 404) } },
    },
    async (req) => {
      const s = await scope(requireActor(req), req.query);
      return reporting.equityFor(db, await reporting.kpis(db, s), s.regionPath);
    },
  );

  app.get(
    '/v1/reporting/efficiency',
    {
      preValidation: authorize(...REGION_STAFF),
      schema: { ...common, operationId: 'getReportingEfficiency', summary: 'Efficiency indicators and the composite score of a subtree (region staff)', response: { 200: ref(EfficiencySchema), ...problemResponses(403, 404) } },
    },
    async (req) => {
      const s = await scope(requireActor(req), req.query);
      return reporting.efficiency(reporting.kpis(db, s), s);
    },
  );

  app.get(
    '/v1/reporting/sections',
    {
      preValidation: authorize(...REGION_STAFF),
      schema: {
        ...common,
        querystring: Type.Object({ ...Scope.properties, locale: Type.Optional(Locale) }),
        operationId: 'listReportingSections',
        summary: 'The report sections other plugins’ data make (absent ones with a note) (region staff)',
        response: { 200: Type.Object({ items: Type.Array(ref(SectionSchema)) }), ...problemResponses(403, 404) },
      },
    },
    async (req) => {
      const actor = requireActor(req);
      const s = await scope(actor, req.query);
      return { items: await reporting.sections(db, await reporting.kpis(db, s), { ...s, locale: req.query.locale ?? 'zh' }, actor) };
    },
  );

  app.post(
    '/v1/reports',
    {
      preValidation: authorize(...REGION_STAFF),
      schema: {
        tags: ['reporting'],
        operationId: 'createReport',
        summary: 'Generate the annual service report of a subtree, as a job (region staff)',
        security: BEARER,
        headers: IdempotencyKeyHeader,
        body: Type.Object({ regionCode: Type.Optional(Type.String({ maxLength: 32 })), year: Type.Integer({ minimum: 2000, maximum: 2100 }), locale: Type.Optional(Locale) }),
        response: { 202: ref(StoredReportSchema), ...problemResponses(403, 404, 422) },
      },
    },
    async (req, reply) => {
      const actor = requireActor(req);
      const regionCode = req.body.regionCode ?? actor.region;
      return idempotentWrite(db, req, reply, async (tx) => {
        const regionPath = await regions.pathInScope(regionCode, actor, { tx });
        const report = await store.create({ regionCode, regionPath, year: req.body.year, locale: req.body.locale ?? 'zh' }, actor, tx);
        // With `tx`, the job exists only if the report row commits.
        const jobId = await deps.jobs.send(deps.reportJob, { reportId: report.id, roles: [...actor.roles], region: actor.region }, { owner: actor, tx });
        await store.attachJob(report.id, jobId, tx);
        return { status: 202, body: { ...report, jobId } };
      });
    },
  );

  app.get(
    '/v1/reports',
    {
      preValidation: authorize(...REGION_STAFF),
      schema: { tags: ['reporting'], operationId: 'listReports', summary: 'Reports of your subtree, newest first (region staff)', security: BEARER, querystring: PageQuery, response: { 200: Page(ref(StoredReportSchema), 'ReportingReportPage'), ...problemResponses(403) } },
    },
    async (req) => store.list({ page: pageRequest(req.query) }, requireActor(req)),
  );

  const Id = Type.Object({ id: Type.String({ maxLength: 64 }) });
  app.get(
    '/v1/reports/:id',
    {
      preValidation: authorize(...REGION_STAFF),
      schema: { tags: ['reporting'], operationId: 'getReport', summary: 'A report’s status (region staff)', security: BEARER, params: Id, response: { 200: ref(StoredReportSchema), ...problemResponses(403, 404) } },
    },
    async (req) => store.get(req.params.id, requireActor(req)),
  );

  app.get(
    '/v1/reports/:id/report.html',
    {
      preValidation: authorize(...REGION_STAFF),
      schema: {
        tags: ['reporting'],
        operationId: 'downloadReportHtml',
        summary: 'The report as one self-contained HTML document (region staff)',
        security: BEARER,
        params: Id,
        response: { 200: { description: 'The HTML document', content: { 'text/html': { schema: Type.String() } } }, ...problemResponses(403, 404, 409) },
      },
    },
    async (req, reply) => {
      const html = await store.html(req.params.id, requireActor(req));
      return reply.type('text/html; charset=utf-8').header('content-disposition', `inline; filename="report-${req.params.id}.html"`).send(html);
    },
  );

  app.get(
    '/v1/reports/:id/report.json',
    {
      preValidation: authorize(...REGION_STAFF),
      schema: { tags: ['reporting'], operationId: 'downloadReportJson', summary: 'The report’s data as JSON (region staff)', security: BEARER, params: Id, response: { 200: ref(ReportDataSchema), ...problemResponses(403, 404, 409) } },
    },
    async (req) => store.data(req.params.id, requireActor(req)),
  );

  app.get(
    '/v1/reports/:id/report.csv',
    {
      preValidation: authorize(...REGION_STAFF),
      schema: {
        tags: ['reporting'],
        operationId: 'downloadReportCsv',
        summary: 'The report’s figures as CSV: section,key,name,metric,value (region staff)',
        security: BEARER,
        params: Id,
        response: { 200: { description: 'The CSV table', content: { 'text/csv': { schema: Type.String() } } }, ...problemResponses(403, 404, 409) },
      },
    },
    async (req, reply) => {
      const csv = await store.csv(req.params.id, requireActor(req));
      return reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="report-${req.params.id}.csv"`).send(csv);
    },
  );
}
