import rateLimit from '@fastify/rate-limit';
import { IdempotencyKeyHeader, Type, idempotentWrite, postgresRateLimitStore, problemResponses, type Database, type DiandanApp } from '@diandan/kernel';
import type { ResponseService } from '../responses.js';

const Code = Type.String({ minLength: 1, maxLength: 32 });
const Answers = Type.Object({}, { additionalProperties: true, maxProperties: 200, description: 'question name → answer (see the README for each type)' });
const Respondent = Type.Object(
  {
    ageBand: Type.Optional(Code),
    regionCode: Type.Optional(Code),
    group: Type.Optional(Code),
    language: Type.Optional(Code),
  },
  { description: 'Optional and coarse: no name, phone or exact age is ever asked' },
);
const Submitted = Type.Object({
  status: Type.Enum(['partial', 'completed']),
  resumeToken: Type.Union([Type.String(), Type.Null()], { description: 'Partial responses: continue with it (shown once)' }),
  definitionVersion: Type.Integer(),
});
const Slug = Type.Object({ slug: Type.String({ minLength: 8, maxLength: 32, pattern: '^[A-Za-z0-9_-]+$' }) });
const Token = Type.Object({ token: Type.String({ minLength: 16, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' }) });
const Invitation = Type.Optional(Type.String({ minLength: 16, maxLength: 64 }));
const TAGS = ['survey-public'];

/** The public link: the definition, submissions, partial responses (no token needed, rate limited). */
export async function publicRoutes(app: DiandanApp, responses: ResponseService, db: Database, perMinute: number): Promise<void> {
  // Counted in the database (hashed keys, one fixed window), so the limit holds across processes.
  await app.register(rateLimit, { global: false, store: postgresRateLimitStore(db) });
  const limited = { rateLimit: { max: perMinute, timeWindow: '1 minute' } };

  app.get(
    '/v1/public/surveys/:slug',
    {
      schema: {
        tags: TAGS,
        operationId: 'getPublicSurvey',
        summary: 'The published definition behind a public link (SurveyJS JSON), with full quota cells',
        security: [],
        params: Slug,
        response: {
          200: Type.Object({
            definition: Type.Object({}, { additionalProperties: true }),
            definitionVersion: Type.Integer(),
            invitationOnly: Type.Boolean(),
            closesAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
            fullCells: Type.Array(Type.Object({ regionCode: Type.Union([Type.String(), Type.Null()]), group: Type.Union([Type.String(), Type.Null()]), ageBand: Type.Union([Type.String(), Type.Null()]) })),
            ageBands: Type.Array(Type.String()),
            languages: Type.Array(Type.String()),
          }),
          ...problemResponses(404, 409),
        },
      },
    },
    async (req) => responses.publicDefinition(req.params.slug),
  );

  app.post(
    '/v1/public/surveys/:slug/responses',
    {
      config: limited,
      schema: {
        tags: TAGS,
        operationId: 'submitSurveyResponse',
        summary: 'Answer a questionnaire (anonymous); `complete: false` saves a partial response to resume',
        description: 'Refused answers (unknown questions or options, wrong types, oversize, answers to hidden questions) are a 422 naming the question (`question`), and nothing is stored.',
        security: [],
        params: Slug,
        headers: IdempotencyKeyHeader,
        body: Type.Object({ answers: Answers, respondent: Type.Optional(Respondent), invitation: Invitation, complete: Type.Optional(Type.Boolean()) }),
        response: { 201: Submitted, ...problemResponses(404, 409, 422, 429) },
      },
    },
    async (req, reply) =>
      idempotentWrite(
        db,
        req,
        reply,
        async (tx) => ({ status: 201, body: await responses.submit({ ...req.body, answers: req.body.answers as Record<string, unknown>, slug: req.params.slug }, { tx }) }),
        // Respondents are anonymous: a key is theirs by their address, invitation and answers, so two
        // respondents who send the same key never get each other's answer (and resume token) replayed.
        // The scope is a keyed hash (responses.submissionKeyScope): no address is kept, not even as a plain hash.
        { scope: responses.submissionKeyScope(req.ip, req.body) },
      ),
  );

  app.get(
    '/v1/public/survey-responses/:token',
    {
      config: limited,
      schema: {
        tags: TAGS,
        operationId: 'resumeSurveyResponse',
        summary: 'Read a partial response with its resume token',
        security: [],
        params: Token,
        response: {
          200: Type.Object({ status: Type.Literal('partial'), definitionVersion: Type.Integer(), answers: Type.Object({}, { additionalProperties: true }), respondent: Respondent }),
          ...problemResponses(404, 429),
        },
      },
    },
    async (req) => responses.resume(req.params.token),
  );

  app.post(
    '/v1/public/survey-responses/:token',
    {
      config: limited,
      schema: {
        tags: TAGS,
        operationId: 'continueSurveyResponse',
        summary: 'Continue a partial response: answers are merged (null clears one); complete it or save again',
        security: [],
        params: Token,
        headers: IdempotencyKeyHeader,
        body: Type.Object({ answers: Answers, respondent: Type.Optional(Respondent), invitation: Invitation, complete: Type.Optional(Type.Boolean()) }),
        response: { 200: Submitted, ...problemResponses(404, 409, 422, 429) },
      },
    },
    async (req, reply) =>
      idempotentWrite(
        db,
        req,
        reply,
        async (tx) => ({ status: 200, body: await responses.continue({ ...req.body, answers: req.body.answers as Record<string, unknown>, token: req.params.token }, { tx }) }),
        // The resume token is the respondent's: their keys are kept apart from everyone else's.
        { scope: `resume:${req.params.token}` },
      ),
  );
}
