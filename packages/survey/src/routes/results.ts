import { BEARER, Type, authorize, model, problemResponses, ref, requireActor, type DiandanApp } from '@diandan/kernel';
import { SURVEY_STAFF_ROLES } from '../questionnaires.js';
import type { ResultService } from '../results.js';

const Count = Type.Union([Type.Number(), Type.Null()], { description: 'null: suppressed (public results: fewer than k, or complementary)' });
const Label = Type.Object({ 'zh-cn': Type.String(), en: Type.String() });
const OptionCount = Type.Object({ value: Type.String(), count: Count, share: Count });

export const ResultsSchema = model(
  'SurveyResults',
  Type.Object({
    questionnaireId: Type.String({ format: 'uuid' }),
    respondents: Count,
    k: Type.Union([Type.Integer(), Type.Null()], { description: 'Public results: the minimum shown count; null for staff (exact)' }),
    questions: Type.Array(
      Type.Object({
        name: Type.String(),
        type: Type.String(),
        title: Label,
        answered: Count,
        options: Type.Optional(Type.Array(OptionCount)),
        mean: Type.Optional(Count),
        median: Type.Optional(Count),
        min: Type.Optional(Count),
        max: Type.Optional(Count),
        ranks: Type.Optional(Type.Array(Type.Object({ value: Type.String(), meanPosition: Count, first: Count, points: Count }))),
        matrix: Type.Optional(Type.Array(Type.Object({ row: Type.String(), columns: Type.Array(OptionCount) }))),
        crossTab: Type.Optional(Type.Object({ by: Type.Enum(['group', 'district']), cells: Type.Array(Type.Object({ key: Type.String(), answered: Count, options: Type.Array(OptionCount) })) })),
      }),
    ),
  }),
);

const By = Type.Optional(Type.Enum(['group', 'district'], { description: 'Cross-tabulate choice questions by population group or district' }));
const TAGS = ['survey'];

/** Results per questionnaire (staff, public) and the open-data export. */
export function resultRoutes(app: DiandanApp, results: ResultService): void {
  const staff = authorize(...SURVEY_STAFF_ROLES);

  app.get(
    '/v1/surveys/:id/results',
    {
      preValidation: staff,
      schema: {
        tags: TAGS,
        operationId: 'getSurveyResults',
        summary: 'Statistics per question (counts and shares, means and medians, rank aggregates, matrix per row), exact',
        security: BEARER,
        params: Type.Object({ id: Type.String({ format: 'uuid' }) }),
        querystring: Type.Object({ by: By }),
        response: { 200: ref(ResultsSchema), ...problemResponses(403, 404) },
      },
    },
    async (req) => results.results({ id: req.params.id, by: req.query.by }, { actor: requireActor(req) }),
  );

  app.get(
    '/v1/public/surveys/:slug/results',
    {
      config: { rateLimit: { max: 120, timeWindow: '1 minute' } },
      schema: {
        tags: ['survey-public'],
        operationId: 'getPublicSurveyResults',
        summary: 'The public results of a questionnaire: only the questions staff made public, small cells suppressed',
        security: [],
        params: Type.Object({ slug: Type.String({ minLength: 8, maxLength: 32, pattern: '^[A-Za-z0-9_-]+$' }) }),
        querystring: Type.Object({ by: By }),
        response: { 200: ref(ResultsSchema), ...problemResponses(404, 429) },
      },
    },
    async (req) => results.publicResults({ slug: req.params.slug, by: req.query.by }),
  );

  app.get(
    '/v1/surveys/:id/export',
    {
      preValidation: staff,
      schema: {
        tags: TAGS,
        operationId: 'exportSurveyResponses',
        summary: 'Open-data export of the completed responses: no ids, no free text, month only (CSV or JSON; columns in the README)',
        security: BEARER,
        params: Type.Object({ id: Type.String({ format: 'uuid' }) }),
        querystring: Type.Object({ format: Type.Optional(Type.Enum(['csv', 'json'])) }),
        response: {
          200: {
            description: 'The anonymous responses',
            content: {
              'text/csv': { schema: Type.String() },
              'application/json': { schema: Type.Object({ columns: Type.Array(Type.String()), rows: Type.Array(Type.Object({}, { additionalProperties: true })) }) },
            },
          },
          ...problemResponses(403, 404),
        },
      },
    },
    async (req, reply) => {
      const format = req.query.format ?? 'csv';
      const out = await results.export({ id: req.params.id, format }, { actor: requireActor(req) });
      if (format === 'json') return { columns: out.columns, rows: out.rows };
      return reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="survey-${req.params.id}.csv"`).send(out.csv ?? "");
    },
  );
}
