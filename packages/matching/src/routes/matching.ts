import {
  BEARER,
  IdempotencyKeyHeader,
  IfMatchHeader,
  Page,
  PageQuery,
  Type,
  authorize,
  expectedVersion,
  idempotentWrite,
  pageRequest,
  problemResponses,
  ref,
  requireActor,
  sendVersion,
  type Database,
  type DiandanApp,
  type Role,
  type TObject,
  type TSchema,
} from '@diandan/kernel';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { PLANNER_ROLES } from '../matching.js';
import type { Services } from '../plugin.js';
import { BandInput, CapInput, ExplanationSchema, ExportSchema, FloorInput, PlanSchema, RecommendationsSchema, RunSchema, WhyNotSchema } from './models.js';

const TAG = 'matching';
const Id = Type.String({ format: 'uuid' });
const Month = Type.String({ pattern: '^\\d{4}-(0[1-9]|1[0-2])$', description: '`YYYY-MM`' });
const IdParams = Type.Object({ id: Id });
type Problems = Parameters<typeof problemResponses>;

/** A state-changing POST: role check before validation, Idempotency-Key, If-Match when `ifMatch`, ETag of a versioned answer. */
export function action(
  app: DiandanApp,
  db: Database,
  spec: {
    url: string;
    tag?: string;
    operationId: string;
    summary: string;
    roles: readonly Role[];
    params: TObject;
    body?: TSchema;
    ifMatch?: boolean;
    status: 200 | 201 | 202;
    response: TSchema;
    problems: Problems;
    run: (req: any, tx: any, version: number, prepared: any) => Promise<any>;
    /** Reads before the write's transaction (the kernel's reads take none): its result is handed to `run`. */
    prepare?: (req: any) => Promise<unknown>;
  },
): void {
  app.post(
    spec.url,
    {
      preValidation: authorize(...spec.roles),
      schema: {
        tags: [spec.tag ?? TAG],
        operationId: spec.operationId,
        summary: spec.summary,
        security: BEARER,
        params: spec.params,
        headers: spec.ifMatch ? Type.Object({ ...IfMatchHeader.properties, ...IdempotencyKeyHeader.properties }) : IdempotencyKeyHeader,
        ...(spec.body ? { body: spec.body } : {}),
        response: { [spec.status]: spec.response, ...problemResponses(...spec.problems) },
      },
    },
    async (req: FastifyRequest, reply: FastifyReply) => {
      const prepared = spec.prepare ? await spec.prepare(req) : undefined;
      const result = await idempotentWrite(db, req, reply, async (tx) => ({
        status: spec.status,
        body: await spec.run(req, tx, spec.ifMatch ? expectedVersion(req) : 0, prepared),
      }));
      if (result && typeof result === 'object' && typeof (result as { version?: unknown }).version === 'number') sendVersion(reply, (result as { version: number }).version);
      return result;
    },
  );
}

export const ctxOf = (req: FastifyRequest, tx: any) => ({ actor: requireActor(req), tx, requestId: req.id });

/** Routes of `/v1/matching/…` (runs, plans, recommendations): thin wrappers over `MatchingService`. */
export function matchingRoutes(app: DiandanApp, { matching }: Services, db: Database): void {
  action(app, db, {
    url: '/v1/matching/runs',
    operationId: 'startMatchingRun',
    summary: 'Start a run for a region of your subtree: the instance is built now, solved by a background job (poll the run)',
    roles: PLANNER_ROLES,
    params: Type.Object({}),
    body: Type.Object({
      regionCode: Type.String({ minLength: 1, maxLength: 32 }),
      periods: Type.Array(Month, { minItems: 1, maxItems: 24 }),
      year: Type.Integer({ minimum: 2000, maximum: 2100, description: 'The budget year whose available amounts bound the plan' }),
      alpha: Type.Optional(Type.Number({ minimum: 0, maximum: 100, description: 'α-fairness: 0 utilitarian, 1 proportional, ≥ 8 max-min' })),
      solver: Type.Optional(Type.Enum(['heuristic', 'mip', 'auto'])),
      floors: Type.Optional(Type.Array(FloorInput, { maxItems: 500 })),
      caps: Type.Optional(Type.Array(CapInput, { maxItems: 500, description: 'Region caps for this run: at most `max` sessions and/or `perTenThousand` per 10,000 residents under the region' })),
      bands: Type.Optional(Type.Array(BandInput, { maxItems: 10, description: 'Level bands for this run: every region of `level` between `floorPerTenThousand` and `capPerTenThousand` sessions per 10,000 residents' })),
      withoutPolicyFloors: Type.Optional(Type.Boolean()),
      startAfter: Type.Optional(Type.String({ format: 'date-time', description: 'Not before this time (within a year): a city-wide run scheduled for the night' })),
    }),
    status: 202,
    response: ref(RunSchema),
    problems: [403, 404, 422],
    prepare: (req) => matching.prepareRun(req.body, requireActor(req)),
    run: (req, tx, _version, prepared) => matching.startRun(req.body, ctxOf(req, tx), prepared),
  });

  app.get(
    '/v1/matching/runs',
    {
      preValidation: authorize(...PLANNER_ROLES),
      schema: { tags: [TAG], operationId: 'listMatchingRuns', summary: 'Runs of your subtree', security: BEARER, querystring: PageQuery, response: { 200: Page(ref(RunSchema), 'MatchingRunPage'), ...problemResponses(403) } },
    },
    async (req) => matching.listRuns({ page: pageRequest(req.query) }, { actor: requireActor(req) }),
  );

  app.get(
    '/v1/matching/runs/:id',
    {
      preValidation: authorize(...PLANNER_ROLES),
      schema: {
        tags: [TAG],
        operationId: 'getMatchingRun',
        summary: 'A run: progress while solving; once solved the report (gap to the LP bound, floors with dual prices, price of fairness, infeasibility shortfalls) and its plan',
        security: BEARER,
        params: IdParams,
        response: { 200: ref(RunSchema), ...problemResponses(403, 404) },
      },
    },
    async (req) => matching.getRun(req.params.id, { actor: requireActor(req) }),
  );

  // Like the kernel's `POST /v1/jobs/{id}/cancel`: no Idempotency-Key, a repeat answers 409 with the state.
  app.post(
    '/v1/matching/runs/:id/cancel',
    {
      preValidation: authorize(...PLANNER_ROLES),
      schema: {
        tags: [TAG],
        operationId: 'cancelMatchingRun',
        summary: 'Cancel a run that is solving: its job is cancelled and the worker thread stopped (a run that finished meanwhile is answered as it is)',
        security: BEARER,
        params: IdParams,
        response: { 200: ref(RunSchema), ...problemResponses(403, 404, 409) },
      },
    },
    async (req) => matching.cancelRun(req.params.id, { actor: requireActor(req), requestId: req.id }),
  );

  app.get(
    '/v1/matching/runs/:id/explanations',
    {
      preValidation: authorize(...PLANNER_ROLES),
      schema: {
        tags: [TAG],
        operationId: 'listMatchingExplanations',
        summary: 'Why each allocation is there: the demand it serves, the score’s parts, the floors it counts towards, the limit that stopped more',
        security: BEARER,
        params: IdParams,
        querystring: Type.Object({ ...PageQuery.properties, unitId: Type.Optional(Id) }),
        response: { 200: Page(ref(ExplanationSchema), 'MatchingExplanationPage'), ...problemResponses(403, 404, 409) },
      },
    },
    async (req) => matching.explanations(req.params.id, { unitId: req.query.unitId, page: pageRequest(req.query) }, { actor: requireActor(req) }),
  );

  app.get(
    '/v1/matching/runs/:id/why-not',
    {
      preValidation: authorize(...PLANNER_ROLES),
      schema: {
        tags: [TAG],
        operationId: 'matchingWhyNot',
        summary: 'Why product P was not allocated to unit U (for each of the unit’s demand records)',
        security: BEARER,
        params: IdParams,
        querystring: Type.Object({ unitId: Id, productId: Id }),
        response: { 200: ref(WhyNotSchema), ...problemResponses(403, 404, 409) },
      },
    },
    async (req) => matching.whyNot(req.params.id, req.query, { actor: requireActor(req) }),
  );

  app.get(
    '/v1/matching/runs/:id/export',
    {
      preValidation: authorize(...PLANNER_ROLES),
      schema: {
        tags: [TAG],
        operationId: 'exportMatchingRun',
        summary: 'The run’s instance (every input after scoring) and plan, versioned JSON that `verify` (or anyone’s own code) re-checks',
        security: BEARER,
        params: IdParams,
        response: { 200: ref(ExportSchema), ...problemResponses(403, 404, 409) },
      },
    },
    async (req) => matching.exportRun(req.params.id, { actor: requireActor(req) }),
  );

  app.get(
    '/v1/matching/plans/:id',
    {
      preValidation: authorize(...PLANNER_ROLES),
      schema: { tags: [TAG], operationId: 'getMatchingPlan', summary: 'A plan (ETag: its version)', security: BEARER, params: IdParams, response: { 200: ref(PlanSchema), ...problemResponses(403, 404) } },
    },
    async (req, reply) => {
      const plan = await matching.getPlan(req.params.id, { actor: requireActor(req) });
      sendVersion(reply, plan.version);
      return plan;
    },
  );

  for (const [verb, summary] of [
    ['approve', 'Approve a draft plan (If-Match)'],
    ['discard', 'Discard a draft or approved plan (If-Match)'],
  ] as const) {
    action(app, db, {
      url: `/v1/matching/plans/:id/${verb}`,
      operationId: `${verb}MatchingPlan`,
      summary,
      roles: PLANNER_ROLES,
      params: IdParams,
      ifMatch: true,
      status: 200,
      response: ref(PlanSchema),
      problems: [403, 404, 409, 412, 428],
      run: (req, tx, version) => matching.act({ id: req.params.id, action: verb, expectedVersion: version }, ctxOf(req, tx)),
    });
  }

  action(app, db, {
    url: '/v1/matching/plans/:id/orders',
    operationId: 'orderMatchingPlan',
    summary: 'Turn an approved plan into kernel draft orders in one call (one per session, the plan id as extension data); they then climb their normal approval chain',
    roles: PLANNER_ROLES,
    params: IdParams,
    ifMatch: true,
    status: 200,
    response: ref(PlanSchema),
    problems: [403, 404, 409, 412, 422, 428],
    run: (req, tx, version) => matching.toOrders({ id: req.params.id, expectedVersion: version }, ctxOf(req, tx)),
  });

  app.get(
    '/v1/matching/units/:unitId/recommendations',
    {
      schema: {
        tags: [TAG],
        operationId: 'recommendMatchingProducts',
        summary: 'Ranked products for one unit’s ordering screen, with reasons, diversity and the remaining budget (its operator, or staff over it)',
        security: BEARER,
        params: Type.Object({ unitId: Id }),
        querystring: Type.Object({ period: Month, limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 50, default: 10 })) }),
        response: { 200: ref(RecommendationsSchema), ...problemResponses(401, 403, 404) },
      },
    },
    async (req) => matching.recommend(req.params.unitId, { period: req.query.period, limit: req.query.limit ?? 10 }, { actor: requireActor(req) }),
  );
}
