import rateLimit from '@fastify/rate-limit';
import Type from 'typebox';
import { authorize, BEARER, requireActor } from '../auth/http.js';
import type { Database } from '../db/database.js';
import { IdempotencyKeyHeader, idempotentWrite } from '../safe-writes/idempotency.js';
import type { FeedbackService } from './feedback.js';
import { problemResponses } from '../http/problem.js';
import { postgresRateLimitStore } from '../http/rate-limit-store.js';
import { model, ref } from '../http/schemas.js';
import type { DiandanApp } from '../plugin/define.js';

const Score = Type.Integer({ minimum: 1, maximum: 5 });

export const FeedbackSummarySchema = model(
  'FeedbackSummary',
  Type.Object({
    orderId: Type.String({ format: 'uuid' }),
    responses: Type.Integer(),
    averageRating: Type.Union([Type.Number(), Type.Null()]),
    satisfactionRate: Type.Union([Type.Number(), Type.Null()], { description: 'Share of ratings of 4 or 5 (满意率)' }),
    dimensions: Type.Object({
      content: Type.Union([Type.Number(), Type.Null()]),
      performance: Type.Union([Type.Number(), Type.Null()]),
      organisation: Type.Union([Type.Number(), Type.Null()]),
    }),
  }),
);

/** Feedback (群众评价): tokens for a delivery, anonymous answers, the summary. */
export async function feedbackRoutes(
  app: DiandanApp,
  services: { feedback: FeedbackService },
  db: Database,
  options: { perMinute: number },
): Promise<void> {
  // Counted in the database, so the limit holds across every process of the deployment.
  await app.register(rateLimit, { global: false, store: postgresRateLimitStore(db) });

  app.post(
    '/v1/orders/:id/feedback-tokens',
    {
      preValidation: authorize(),
      schema: {
        tags: ['feedback'],
        operationId: 'mintFeedbackTokens',
        summary: 'Mint single-use feedback tokens for a delivered order (to print as links or QR codes)',
        security: BEARER,
        params: Type.Object({ id: Type.String({ format: 'uuid' }) }),
        headers: IdempotencyKeyHeader,
        body: Type.Object({ count: Type.Integer({ minimum: 1, maximum: 1000 }) }),
        response: { 201: Type.Object({ tokens: Type.Array(Type.String()) }), ...problemResponses(401, 403, 404, 409, 422) },
      },
    },
    async (req, reply) =>
      idempotentWrite(db, req, reply, async (tx) => ({
        status: 201,
        body: { tokens: await services.feedback.mintTokens({ orderId: req.params.id, count: req.body.count }, { actor: requireActor(req), tx, requestId: req.id }) },
      })),
  );

  app.post(
    '/v1/feedback/:token',
    {
      config: { rateLimit: { max: options.perMinute, timeWindow: '1 minute' } },
      schema: {
        tags: ['feedback'],
        operationId: 'giveFeedback',
        summary: 'Give feedback on a delivery (anonymous; each token counts once)',
        security: [],
        params: Type.Object({ token: Type.String({ minLength: 10, maxLength: 100 }) }),
        headers: IdempotencyKeyHeader,
        body: Type.Object({
          rating: Score,
          content: Type.Optional(Score),
          performance: Type.Optional(Score),
          organisation: Type.Optional(Score),
          comment: Type.Optional(Type.String({ maxLength: 2000 })),
          respondentGroup: Type.Optional(Type.String({ maxLength: 60 })),
        }),
        response: { 204: Type.Null(), ...problemResponses(404, 422, 429) },
      },
    },
    async (req, reply) => {
      // Citizens are anonymous, so their keys would otherwise share one scope: two
      // phones choosing the same key would collide. The token is theirs alone.
      await idempotentWrite(
        db,
        req,
        reply,
        async (tx) => {
          await services.feedback.submit({ ...req.body, token: req.params.token }, { tx });
          return { status: 204, body: {} };
        },
        { scope: `feedback:${req.params.token}` },
      );
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/v1/orders/:id/feedback-summary',
    {
      preValidation: authorize(),
      schema: {
        tags: ['feedback'],
        operationId: 'getFeedbackSummary',
        summary: 'Satisfaction of one delivery',
        security: BEARER,
        params: Type.Object({ id: Type.String({ format: 'uuid' }) }),
        response: { 200: ref(FeedbackSummarySchema), ...problemResponses(401, 404) },
      },
    },
    async (req) => services.feedback.summary(req.params.id, { actor: requireActor(req) }),
  );
}
