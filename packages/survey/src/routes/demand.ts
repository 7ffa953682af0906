import { BEARER, Page, PageQuery, Type, authorize, model, pageRequest, problemResponses, ref, requireActor, type DiandanApp } from '@diandan/kernel';
import type { DemandService } from '../demand.js';
import { SURVEY_STAFF_ROLES } from '../questionnaires.js';

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

const MapQuery = Type.Object({ parent: Type.Optional(Code), questionnaireId: Type.Optional(Type.String({ format: 'uuid' })), period: Type.Optional(Period) });
const TAGS = ['survey-demand'];

/** Demand records and the cultural needs map (文化需求地图). */
export function demandRoutes(app: DiandanApp, demand: DemandService): void {
  const staff = authorize(...SURVEY_STAFF_ROLES);
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
        response: { 200: Type.Object({ type: Type.Literal('FeatureCollection'), features: Type.Array(Type.Object({}, { additionalProperties: true })) }), ...problemResponses(403, 404) },
      },
    },
    async (req, reply) => {
      const body = await demand.needsMapGeoJson({ parentCode: req.query.parent, questionnaireId: req.query.questionnaireId, period: req.query.period }, { actor: requireActor(req) });
      return reply.type('application/geo+json').send(body);
    },
  );
}
