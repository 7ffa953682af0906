import Type from 'typebox';
import { authorize, BEARER, requireActor } from '../auth/http.js';
import { REGION_STAFF } from '../auth/roles.js';
import type { Database } from '../db/database.js';
import { Page, PageQuery, pageRequest } from '../http/pagination.js';
import { problemResponses } from '../http/problem.js';
import { model, ref } from '../http/schemas.js';
import type { DiandanApp } from '../plugin/define.js';
import { expectedVersion, IfMatchHeader, sendVersion } from '../safe-writes/etag.js';
import { IdempotencyKeyHeader, idempotentWrite } from '../safe-writes/idempotency.js';
import type { BudgetService } from './budgets.js';

export const BudgetSchema = model(
  'Budget',
  Type.Object({
    regionCode: Type.String(),
    year: Type.Integer(),
    allocated: Type.Integer({ description: 'Whole yuan' }),
    allocatedToChildren: Type.Integer(),
    reserved: Type.Integer({ description: 'Held by approved, not yet delivered orders' }),
    spent: Type.Integer({ description: 'Settled by delivered orders' }),
    available: Type.Integer({ description: 'allocated − allocatedToChildren − reserved − spent' }),
    version: Type.Integer(),
  }),
);

const Params = Type.Object({
  year: Type.Integer({ minimum: 2000, maximum: 2100 }),
  regionCode: Type.String({ minLength: 1, maxLength: 32 }),
});

/** Budgets (预算): read within your subtree; allocate to your children. */
export function budgetRoutes(app: DiandanApp, services: { budgets: BudgetService }, db: Database): void {
  const { budgets } = services;
  app.get(
    '/v1/budgets/:year',
    {
      preValidation: authorize(...REGION_STAFF),
      schema: {
        tags: ['budgets'],
        operationId: 'listBudgets',
        summary: 'Budgets of a year for every region of your subtree, depth-first',
        security: BEARER,
        params: Type.Object({ year: Params.properties.year }),
        querystring: PageQuery,
        response: { 200: Page(ref(BudgetSchema), 'BudgetPage'), ...problemResponses(401, 403) },
      },
    },
    async (req) => budgets.list({ year: req.params.year, page: pageRequest(req.query) }, { actor: requireActor(req) }),
  );

  app.get(
    '/v1/budgets/:year/:regionCode',
    {
      preValidation: authorize(...REGION_STAFF),
      schema: {
        tags: ['budgets'],
        operationId: 'getBudget',
        summary: 'A region’s budget for a year',
        security: BEARER,
        params: Params,
        response: { 200: ref(BudgetSchema), ...problemResponses(401, 403, 404) },
      },
    },
    async (req, reply) => {
      const budget = await budgets.get(req.params, { actor: requireActor(req) });
      sendVersion(reply, budget.version);
      return budget;
    },
  );

  app.put(
    '/v1/budgets/:year/:regionCode',
    {
      preValidation: authorize(...REGION_STAFF),
      schema: {
        tags: ['budgets'],
        operationId: 'allocateBudget',
        summary: 'Set a region’s allocation for a year (staff of its parent; the city’s own by a city admin)',
        description: 'Creating a budget needs no If-Match; changing one does. A retry with the same Idempotency-Key gets the first answer.',
        security: BEARER,
        params: Params,
        headers: Type.Object({ ...IfMatchHeader.properties, ...IdempotencyKeyHeader.properties }),
        body: Type.Object({ allocated: Type.Integer({ minimum: 0, maximum: 1_000_000_000_000 }) }),
        response: { 200: ref(BudgetSchema), ...problemResponses(401, 403, 404, 409, 412, 428) },
      },
    },
    async (req, reply) => {
      const budget = await idempotentWrite(db, req, reply, async (tx) => ({
        status: 200,
        body: await budgets.allocate(
          {
            regionCode: req.params.regionCode,
            year: req.params.year,
            amount: req.body.allocated,
            expectedVersion: req.headers['if-match'] ? expectedVersion(req) : undefined,
          },
          { actor: requireActor(req), tx, requestId: req.id },
        ),
      }));
      sendVersion(reply, budget.version);
      return budget;
    },
  );
}
