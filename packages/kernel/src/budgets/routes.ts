import Type from 'typebox';
import { authorize, BEARER, requireActor } from '../auth/http.js';
import { REGION_STAFF } from '../auth/roles.js';
import type { KernelServices } from '../core/plugin.js';
import { problemResponses } from '../http/problem.js';
import { model, ref } from '../http/schemas.js';
import type { DiandanApp } from '../plugin/define.js';
import { expectedVersion, sendVersion } from '../safe-writes/etag.js';

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
export function budgetRoutes(app: DiandanApp, services: KernelServices): void {
  app.get(
    '/v1/budgets/:year',
    {
      preValidation: authorize(...REGION_STAFF),
      schema: {
        tags: ['budgets'],
        operationId: 'listBudgets',
        summary: 'Budgets of a year for every region of your subtree',
        description: 'Bounded by the number of regions in the subtree (at most 2,000), so not paginated.',
        security: BEARER,
        params: Type.Object({ year: Params.properties.year }),
        response: { 200: Type.Object({ items: Type.Array(ref(BudgetSchema)) }), ...problemResponses(401, 403) },
      },
    },
    async (req) => ({ items: await services.budgets.list(requireActor(req), req.params.year) }),
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
      const budget = await services.budgets.get(requireActor(req), req.params.regionCode, req.params.year);
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
        description: 'Creating a budget needs no If-Match; changing one does.',
        security: BEARER,
        params: Params,
        headers: Type.Object({ 'if-match': Type.Optional(Type.String()) }),
        body: Type.Object({ allocated: Type.Integer({ minimum: 0, maximum: 1_000_000_000_000 }) }),
        response: { 200: ref(BudgetSchema), ...problemResponses(401, 403, 404, 409, 412, 428) },
      },
    },
    async (req, reply) => {
      const version = req.headers['if-match'] ? expectedVersion(req) : undefined;
      const budget = await services.budgets.allocate(
        requireActor(req),
        req.params.regionCode,
        req.params.year,
        req.body.allocated,
        version,
        req.id,
      );
      sendVersion(reply, budget.version);
      return budget;
    },
  );
}
