import Type from 'typebox';
import { authorize, BEARER, requireActor } from '../auth/http.js';
import { REGION_STAFF } from '../auth/roles.js';
import type { KernelServices } from '../core/plugin.js';
import type { Database } from '../db/database.js';
import { Page, PageQuery, pageRequest } from '../http/pagination.js';
import { problemResponses } from '../http/problem.js';
import { model, ref } from '../http/schemas.js';
import type { DiandanApp } from '../plugin/define.js';
import { idempotentWrite } from '../safe-writes/idempotency.js';
import { UNIT_KINDS } from './schema.js';

export const UnitSchema = model(
  'Unit',
  Type.Object({
    id: Type.String({ format: 'uuid' }),
    regionCode: Type.String(),
    name: Type.String(),
    kind: Type.Enum(UNIT_KINDS),
    contactName: Type.Union([Type.String(), Type.Null()]),
    contactPhone: Type.Union([Type.String(), Type.Null()]),
    version: Type.Integer(),
  }),
);

const UnitInputSchema = Type.Object({
  regionCode: Type.String({ minLength: 1, maxLength: 32 }),
  name: Type.String({ minLength: 1, maxLength: 200 }),
  kind: Type.Enum(UNIT_KINDS),
  contactName: Type.Optional(Type.String({ maxLength: 100 })),
  contactPhone: Type.Optional(Type.String({ maxLength: 40 })),
});

/** Units (点单单位): create, read and list within the caller's region subtree. */
export function unitRoutes(app: DiandanApp, services: KernelServices, db: Database): void {
  app.post(
    '/v1/units',
    {
      preValidation: authorize(...REGION_STAFF),
      schema: {
        tags: ['units'],
        operationId: 'createUnit',
        summary: 'Register an ordering unit in a region of your subtree',
        security: BEARER,
        headers: Type.Object({ 'idempotency-key': Type.Optional(Type.String()) }),
        body: UnitInputSchema,
        response: { 201: ref(UnitSchema), ...problemResponses(401, 403, 404, 422) },
      },
    },
    async (req, reply) =>
      idempotentWrite(db, req, reply, async (tx) => ({
        status: 201,
        body: await services.units.create(tx, requireActor(req), req.body, req.id),
      })),
  );

  app.get(
    '/v1/units',
    {
      preValidation: authorize(),
      schema: {
        tags: ['units'],
        operationId: 'listUnits',
        summary: 'List the units in your region subtree',
        security: BEARER,
        querystring: Type.Object({
          ...PageQuery.properties,
          region: Type.Optional(Type.String({ description: 'Only units in this region’s subtree' })),
          kind: Type.Optional(Type.Enum(UNIT_KINDS)),
        }),
        response: { 200: Page(ref(UnitSchema), 'UnitPage'), ...problemResponses(401) },
      },
    },
    async (req) => services.units.list(requireActor(req), { region: req.query.region, kind: req.query.kind }, pageRequest(req.query)),
  );

  app.get(
    '/v1/units/:id',
    {
      preValidation: authorize(),
      schema: {
        tags: ['units'],
        operationId: 'getUnit',
        summary: 'Get one unit',
        security: BEARER,
        params: Type.Object({ id: Type.String({ format: 'uuid' }) }),
        response: { 200: ref(UnitSchema), ...problemResponses(401, 404) },
      },
    },
    async (req) => services.units.get(requireActor(req), req.params.id),
  );
}
