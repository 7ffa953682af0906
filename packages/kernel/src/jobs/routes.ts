import Type from 'typebox';
import { authorize, BEARER, requireActor } from '../auth/http.js';
import { Page, PageQuery, pageRequest } from '../http/pagination.js';
import { problemResponses } from '../http/problem.js';
import { model, ref } from '../http/schemas.js';
import type { DiandanApp } from '../plugin/define.js';
import type { Jobs } from './jobs.js';

const JOB_STATES = ['queued', 'active', 'retry', 'completed', 'failed', 'cancelled'] as const;

export const JobSchema = model(
  'Job',
  Type.Object({
    id: Type.String({ format: 'uuid' }),
    queue: Type.String({ description: '`<plugin>.<job name>`' }),
    plugin: Type.String(),
    state: Type.Enum(JOB_STATES),
    progress: Type.Integer({ minimum: 0, maximum: 100 }),
    message: Type.Union([Type.String(), Type.Null()], { description: 'What the job last said it was doing' }),
    result: Type.Unknown({ description: 'What a completed job returned (null otherwise)' }),
    error: Type.Union([Type.String(), Type.Null()], { description: 'Why the last attempt failed' }),
    attempts: Type.Integer(),
    ownerId: Type.Union([Type.String(), Type.Null()], { description: 'Who sent it; null for the platform’s own jobs' }),
    createdAt: Type.String({ format: 'date-time' }),
    startedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    finishedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  }),
);

const IdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });

/** Background jobs: their owners and administrators within the jobs' regions follow them here. */
export function jobRoutes(app: DiandanApp, jobs: Jobs): void {
  app.get(
    '/v1/jobs',
    {
      preValidation: authorize(),
      schema: {
        tags: ['jobs'],
        operationId: 'listJobs',
        summary: 'List the jobs you may see, newest first',
        description: 'Your own jobs; administrators also see the jobs of their region subtree and, city administrators, the platform’s.',
        security: BEARER,
        querystring: Type.Object({
          ...PageQuery.properties,
          queue: Type.Optional(Type.String({ maxLength: 200 })),
          state: Type.Optional(Type.Enum(JOB_STATES)),
        }),
        response: { 200: Page(ref(JobSchema), 'JobPage'), ...problemResponses(401) },
      },
    },
    async (req) => jobs.list({ queue: req.query.queue, state: req.query.state }, pageRequest(req.query), { actor: requireActor(req) }),
  );

  app.get(
    '/v1/jobs/:id',
    {
      preValidation: authorize(),
      schema: {
        tags: ['jobs'],
        operationId: 'getJob',
        summary: 'A job’s state, progress and result',
        security: BEARER,
        params: IdParams,
        response: { 200: ref(JobSchema), ...problemResponses(401, 404) },
      },
    },
    async (req) => jobs.get(req.params.id, { actor: requireActor(req) }),
  );

  app.post(
    '/v1/jobs/:id/cancel',
    {
      preValidation: authorize(),
      schema: {
        tags: ['jobs'],
        operationId: 'cancelJob',
        summary: 'Cancel a queued or running job',
        security: BEARER,
        params: IdParams,
        response: { 200: ref(JobSchema), ...problemResponses(401, 404, 409) },
      },
    },
    async (req) => jobs.cancel(req.params.id, { actor: requireActor(req) }),
  );
}
