import Type from 'typebox';
import { authorize, BEARER, requireActor } from '../auth/http.js';
import type { KernelServices } from '../core/plugin.js';
import type { Database } from '../db/database.js';
import { Page, PageQuery, pageRequest } from '../http/pagination.js';
import { problemResponses } from '../http/problem.js';
import { model, ref } from '../http/schemas.js';
import type { DiandanApp } from '../plugin/define.js';
import { idempotentWrite } from '../safe-writes/idempotency.js';
import { SUPPLIER_KINDS, SUPPLIER_STATUSES } from './schema.js';

const SupplierKind = Type.Enum(SUPPLIER_KINDS);
const SupplierStatus = Type.Enum(SUPPLIER_STATUSES);

export const SupplierSchema = model(
  'Supplier',
  Type.Object({ id: Type.String({ format: 'uuid' }), name: Type.String(), kind: SupplierKind, status: SupplierStatus, version: Type.Integer() }),
);

/** The supplier directory (供应商名录): city administrators add; every signed-in user reads. */
export function supplierRoutes(app: DiandanApp, services: KernelServices, db: Database): void {
  app.post(
    '/v1/suppliers',
    {
      preValidation: authorize('city-admin'),
      schema: {
        tags: ['suppliers'],
        operationId: 'createSupplier',
        summary: 'Add a supplier to the directory',
        security: BEARER,
        headers: Type.Object({ 'idempotency-key': Type.Optional(Type.String()) }),
        body: Type.Object({ name: Type.String({ minLength: 1, maxLength: 200 }), kind: SupplierKind }),
        response: { 201: ref(SupplierSchema), ...problemResponses(401, 403, 422) },
      },
    },
    async (req, reply) =>
      idempotentWrite(db, req, reply, async (tx) => ({
        status: 201,
        body: await services.suppliers.create(tx, requireActor(req), req.body, req.id),
      })),
  );

  app.get(
    '/v1/suppliers',
    {
      preValidation: authorize(),
      schema: {
        tags: ['suppliers'],
        operationId: 'listSuppliers',
        summary: 'List suppliers',
        security: BEARER,
        querystring: Type.Object({ ...PageQuery.properties, kind: Type.Optional(SupplierKind), status: Type.Optional(SupplierStatus) }),
        response: { 200: Page(ref(SupplierSchema), 'SupplierPage'), ...problemResponses(401) },
      },
    },
    async (req) => services.suppliers.list(req.query, pageRequest(req.query)),
  );

  app.get(
    '/v1/suppliers/:id',
    {
      preValidation: authorize(),
      schema: {
        tags: ['suppliers'],
        operationId: 'getSupplier',
        summary: 'Get one supplier',
        security: BEARER,
        params: Type.Object({ id: Type.String({ format: 'uuid' }) }),
        response: { 200: ref(SupplierSchema), ...problemResponses(401, 404) },
      },
    },
    async (req) => services.suppliers.get(req.params.id),
  );
}
