import { BEARER, IdempotencyKeyHeader, Page, PageQuery, REGION_STAFF, Type, authorize, idempotentWrite, model, pageRequest, problemResponses, ref, requireActor, type Database, type DiandanApp } from '@diandan/kernel';
import { needsMapCsv, toCsv, type DemandService } from '../demand.js';
import { SURVEY_STAFF_ROLES } from '../questionnaires.js';
import type { DemandRequestService } from '../requests.js';

const Code = Type.String({ minLength: 1, maxLength: 32 });
const Period = Type.String({ pattern: '^\\d{4}-(0[1-9]|1[0-2])$', description: 'YYYY-MM' });
const Count = Type.Union([Type.Number(), Type.Null()]);
const Breakdown = Type.Record(Type.String(), Count, { description: 'null: suppressed (fewer than k respondents, or complementary)' });

export const DemandRecordSchema = model(
  'DemandRecord',
  Type.Object({
    id: Type.Integer(),
    source: Type.String(),
    questionnaireId: Type.Union([Type.String({ format: 'uuid' }), Type.Null()]),
    regionCode: Type.String(),
    group: Type.String(),
    category: Type.String(),
    tags: Type.Array(Type.String()),
    period: Type.String(),
    weight: Type.Number(),
  }),
);

const NeedsMapRegionSchema = Type.Object({
  regionCode: Type.String(),
  name: Type.String(),
  level: Type.String(),
  population: Type.Union([Type.Integer(), Type.Null()]),
  respondents: Count,
  per10k: Count,
  suppressed: Type.Boolean(),
  ageBands: Breakdown,
  groups: Breakdown,
  languages: Breakdown,
  categories: Breakdown,
  centroid: Type.Union([Type.Object({ lat: Type.Number(), lng: Type.Number() }), Type.Null()]),
});
export const NeedsMapSchema = model('NeedsMap', Type.Object({ parentCode: Type.String(), k: Type.Integer(), respondents: Count, regions: Type.Array(NeedsMapRegionSchema) }));

export const DemandRequestSchema = model(
  'DemandRequest',
  Type.Object({
    id: Type.String({ format: 'uuid' }),
    unitId: Type.String({ format: 'uuid' }),
    regionCode: Type.String(),
    title: Type.String(),
    description: Type.String(),
    group: Type.String(),
    category: Type.String(),
    tags: Type.Array(Type.String()),
    period: Type.String({ description: 'YYYY-MM: the month it is wanted in' }),
    expectedAudience: Type.Integer(),
    weight: Type.Number({ description: 'The weight of its demand record: expectedAudience / requestAudiencePerWeight' }),
    createdBy: Type.String(),
    createdAt: Type.String({ format: 'date-time' }),
    status: Type.Enum(['active', 'withdrawn'], { description: 'withdrawn: taken back, its demand record removed' }),
    withdrawnAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  }),
);

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);
export const GapTableSchema = model(
  'DemandGapTable',
  Type.Object({
    parentCode: Type.String(),
    from: Type.String(),
    to: Type.String(),
    k: Type.Integer(),
    cells: Type.Array(
      Type.Object({
        regionCode: Type.String(),
        category: Type.String(),
        group: Type.String(),
        period: Type.String(),
        demandWeight: Nullable(Type.Number()),
        respondents: Nullable(Type.Integer()),
        deliveries: Type.Integer(),
        audience: Type.Integer(),
        demandShare: Nullable(Type.Number()),
        deliveryShare: Type.Number(),
        gap: Nullable(Type.Number({ description: 'demandShare − deliveryShare: positive where demand outruns delivery' })),
        suppressed: Type.Boolean(),
      }),
    ),
  }),
);

const MapQuery = Type.Object({ parent: Type.Optional(Code), questionnaireId: Type.Optional(Type.String({ format: 'uuid' })), period: Type.Optional(Period) });
const TAGS = ['survey-demand'];

const GeoJson = Type.Object({ type: Type.Literal('FeatureCollection'), features: Type.Array(Type.Object({}, { additionalProperties: true })) });
const CsvResponse = { description: 'CSV (UTF-8, CRLF, header line)', content: { 'text/csv': { schema: Type.String() } } };
const Group = Type.String({ minLength: 1, maxLength: 64 });

/** Demand records, units' direct requests, gaps and the cultural needs map (文化需求地图). */
export function demandRoutes(app: DiandanApp, services: { demand: DemandService; requests: DemandRequestService }, db: Database): void {
  const { demand, requests } = services;
  const staff = authorize(...SURVEY_STAFF_ROLES);
  const unitsAndStaff = authorize('unit-operator', ...REGION_STAFF);

  app.post(
    '/v1/demand-requests',
    {
      preValidation: unitsAndStaff,
      schema: {
        tags: TAGS,
        operationId: 'createDemandRequest',
        summary: "A unit's direct demand request (\"Cantonese opera for elderly residents in November\"): becomes a demand record",
        description: 'Unit operators for their own unit, region staff for units of their subtree. The demand record weighs `expectedAudience / requestAudiencePerWeight`; `survey.demand-updated` is published.',
        security: BEARER,
        headers: IdempotencyKeyHeader,
        body: Type.Object({
          unitId: Type.String({ format: 'uuid' }),
          title: Type.String({ minLength: 1, maxLength: 200 }),
          description: Type.Optional(Type.String({ maxLength: 2000 })),
          group: Group,
          category: Code,
          tags: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 40 }), { maxItems: 10 })),
          period: Period,
          expectedAudience: Type.Integer({ minimum: 1, maximum: 100_000 }),
        }),
        response: { 201: ref(DemandRequestSchema), ...problemResponses(403, 404, 422) },
      },
    },
    async (req, reply) => idempotentWrite(db, req, reply, async (tx) => ({ status: 201, body: await requests.create(req.body, { actor: requireActor(req), tx, requestId: req.id }) })),
  );

  app.get(
    '/v1/demand-requests',
    {
      preValidation: unitsAndStaff,
      schema: {
        tags: TAGS,
        operationId: 'listDemandRequests',
        summary: 'Direct demand requests: your unit\'s, or your subtree\'s (staff)',
        security: BEARER,
        querystring: Type.Object({ ...PageQuery.properties, unitId: Type.Optional(Type.String({ format: 'uuid' })), period: Type.Optional(Period) }),
        response: { 200: Page(ref(DemandRequestSchema), 'DemandRequestPage'), ...problemResponses(403) },
      },
    },
    async (req) => requests.list({ unitId: req.query.unitId, period: req.query.period, page: pageRequest(req.query) }, { actor: requireActor(req) }),
  );

  app.get(
    '/v1/demand-requests/:id',
    {
      preValidation: unitsAndStaff,
      schema: { tags: TAGS, operationId: 'getDemandRequest', summary: 'Read a direct demand request', security: BEARER, params: Type.Object({ id: Type.String({ format: 'uuid' }) }), response: { 200: ref(DemandRequestSchema), ...problemResponses(403, 404) } },
    },
    async (req) => requests.get(req.params.id, { actor: requireActor(req) }),
  );

  app.post(
    '/v1/demand-requests/:id/withdraw',
    {
      preValidation: unitsAndStaff,
      schema: {
        tags: TAGS,
        operationId: 'withdrawDemandRequest',
        summary: 'Withdraw a direct demand request (撤回): its demand record is removed',
        description:
          'The unit\'s operator, or region staff of its subtree. The request stays, marked `withdrawn`; its demand record leaves the needs map, the gaps and the demand records; the withdrawal is audited and `survey.demand-updated` is published (`withdrawn: 1`). Idempotent: a withdrawn request is answered as it is (no second audit record or event). No `If-Match`: a request has no editable state to race on, and withdrawal is one-way.',
        security: BEARER,
        headers: IdempotencyKeyHeader,
        params: Type.Object({ id: Type.String({ format: 'uuid' }) }),
        response: { 200: ref(DemandRequestSchema), ...problemResponses(403, 404) },
      },
    },
    async (req, reply) => idempotentWrite(db, req, reply, async (tx) => ({ status: 200, body: await requests.withdraw(req.params.id, { actor: requireActor(req), tx, requestId: req.id }) })),
  );

  app.get(
    '/v1/demand-gaps',
    {
      preValidation: staff,
      schema: {
        tags: TAGS,
        operationId: 'getDemandGaps',
        summary: 'Demand against delivered supply, per child region × category × group × month (JSON or CSV)',
        description: 'Supply: the kernel\'s delivered orders by product category and target group. `gap` = demand share − delivery share. Demand resting on fewer than k respondents is suppressed.',
        security: BEARER,
        querystring: Type.Object({ parent: Type.Optional(Code), from: Period, to: Period, category: Type.Optional(Code), group: Type.Optional(Group), format: Type.Optional(Type.Enum(['json', 'csv'])) }),
        response: { 200: { description: 'The gap table', content: { 'application/json': { schema: ref(GapTableSchema) }, 'text/csv': { schema: Type.String() } } }, ...problemResponses(400, 403, 404) },
      },
    },
    async (req, reply) => {
      const table = await demand.gaps({ parentCode: req.query.parent, from: req.query.from, to: req.query.to, category: req.query.category, group: req.query.group }, { actor: requireActor(req) });
      if (req.query.format !== 'csv') return table;
      const columns = ['regionCode', 'category', 'group', 'period', 'demandWeight', 'respondents', 'deliveries', 'audience', 'demandShare', 'deliveryShare', 'gap', 'suppressed'] as const;
      const header = ['region_code', 'category', 'group', 'period', 'demand_weight', 'respondents', 'deliveries', 'audience', 'demand_share', 'delivery_share', 'gap', 'suppressed'];
      return reply.type('text/csv; charset=utf-8').send(toCsv(header, table.cells.map((c) => columns.map((k) => c[k]))));
    },
  );

  app.get(
    '/v1/needs-map/csv',
    {
      preValidation: staff,
      schema: {
        tags: TAGS,
        operationId: 'getNeedsMapCsv',
        summary: 'The needs map as CSV: one row per region, breakdown columns `age:`, `group:`, `language:`, `category:` (empty = suppressed)',
        security: BEARER,
        querystring: MapQuery,
        response: { 200: CsvResponse, ...problemResponses(400, 403, 404) },
      },
    },
    async (req, reply) => {
      const map = await demand.needsMap({ parentCode: req.query.parent, questionnaireId: req.query.questionnaireId, period: req.query.period }, { actor: requireActor(req) });
      return reply.type('text/csv; charset=utf-8').send(needsMapCsv(map));
    },
  );

  // The public needs map: aggregated over every questionnaire, small cells suppressed, no token.
  const PublicQuery = Type.Object({ parent: Type.Optional(Code), period: Type.Optional(Period) });
  const publicRead = { rateLimit: { max: 120, timeWindow: '1 minute' } };
  app.get(
    '/v1/public/needs-map',
    {
      config: publicRead,
      schema: {
        tags: TAGS,
        operationId: 'getPublicNeedsMap',
        summary: 'The public cultural needs map one level below `parent` (default: the city): aggregated, small cells suppressed',
        security: [],
        querystring: PublicQuery,
        response: { 200: ref(NeedsMapSchema), ...problemResponses(400, 404, 429) },
      },
    },
    async (req) => demand.publicNeedsMap({ parentCode: req.query.parent, period: req.query.period }),
  );
  app.get(
    '/v1/public/needs-map/geojson',
    {
      config: publicRead,
      schema: { tags: TAGS, operationId: 'getPublicNeedsMapGeoJson', summary: 'The public needs map as GeoJSON', security: [], querystring: PublicQuery, response: { 200: GeoJson, ...problemResponses(400, 404, 429) } },
    },
    async (req, reply) => reply.type('application/geo+json').send(await demand.geoJsonOf(await demand.publicNeedsMap({ parentCode: req.query.parent, period: req.query.period }))),
  );
  app.get(
    '/v1/public/needs-map/csv',
    {
      config: publicRead,
      schema: { tags: TAGS, operationId: 'getPublicNeedsMapCsv', summary: 'The public needs map as CSV', security: [], querystring: PublicQuery, response: { 200: CsvResponse, ...problemResponses(400, 404, 429) } },
    },
    async (req, reply) => reply.type('text/csv; charset=utf-8').send(needsMapCsv(await demand.publicNeedsMap({ parentCode: req.query.parent, period: req.query.period }))),
  );
  app.get(
    '/v1/demand-records',
    {
      preValidation: staff,
      schema: {
        tags: TAGS,
        operationId: 'listDemandRecords',
        summary: 'Demand records of your subtree (region, group, category, tags, period, weight)',
        security: BEARER,
        querystring: Type.Object({ ...PageQuery.properties, regionCode: Type.Optional(Code), category: Type.Optional(Code), period: Type.Optional(Period) }),
        response: { 200: Page(ref(DemandRecordSchema), 'DemandRecordPage'), ...problemResponses(403, 404) },
      },
    },
    async (req) => demand.list({ regionCode: req.query.regionCode, category: req.query.category, period: req.query.period, page: pageRequest(req.query) }, { actor: requireActor(req) }),
  );

  app.get(
    '/v1/needs-map',
    {
      preValidation: staff,
      schema: {
        tags: TAGS,
        operationId: 'getNeedsMap',
        summary: 'The cultural needs map one level below `parent`: respondents by age band, group and language, demand by category; small cells suppressed',
        security: BEARER,
        querystring: MapQuery,
        response: { 200: ref(NeedsMapSchema), ...problemResponses(403, 404) },
      },
    },
    async (req) => demand.needsMap({ parentCode: req.query.parent, questionnaireId: req.query.questionnaireId, period: req.query.period }, { actor: requireActor(req) }),
  );

  app.get(
    '/v1/needs-map/geojson',
    {
      preValidation: staff,
      schema: {
        tags: TAGS,
        operationId: 'getNeedsMapGeoJson',
        summary: 'The needs map as a GeoJSON FeatureCollection (region boundaries, or centroids where there are none)',
        security: BEARER,
        querystring: MapQuery,
        response: { 200: GeoJson, ...problemResponses(403, 404) },
      },
    },
    async (req, reply) => {
      const body = await demand.needsMapGeoJson({ parentCode: req.query.parent, questionnaireId: req.query.questionnaireId, period: req.query.period }, { actor: requireActor(req) });
      return reply.type('application/geo+json').send(body);
    },
  );
}
