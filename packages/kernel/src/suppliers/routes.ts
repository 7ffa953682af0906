import Type from 'typebox';
import { authorize, BEARER, requireActor } from '../auth/http.js';
import type { Database } from '../db/database.js';
import { listKey, splitExtensions, withKinds } from '../directory/routes.js';
import type { ExtensionRegistry } from '../extensions/extensions.js';
import { Page, PageQuery, pageRequest } from '../http/pagination.js';
import { problemResponses } from '../http/problem.js';
import { model, ref } from '../http/schemas.js';
import type { DiandanApp } from '../plugin/define.js';
import type { OpenList } from '../plugin/lists.js';
import { expectedVersion, IfMatchHeader, sendVersion } from '../safe-writes/etag.js';
import { IdempotencyKeyHeader, idempotentWrite } from '../safe-writes/idempotency.js';
import { SUPPLIER_STATUSES } from './schema.js';
import type { SupplierService } from './suppliers.js';

const SupplierSchema = model(
  'Supplier',
  Type.Object({
    id: Type.String({ format: 'uuid' }),
    name: Type.String(),
    kind: Type.String(),
    status: Type.Enum(SUPPLIER_STATUSES, { description: '`suspended`: its products are hidden from the library and cannot be ordered' }),
    statusReason: Type.Union([Type.String(), Type.Null()], { description: 'Why it was last suspended or reinstated' }),
    statusCode: Type.Union([Type.String(), Type.Null()], {
      description: 'While suspended: the problem code new orders are refused with (`SUPPLIER_SUSPENDED` unless the suspending party chose one)',
    }),
    statusChangedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    version: Type.Integer(),
  }),
);

/** The Supplier model of a deployment: its own supplier kinds. */
export const supplierModel = (kinds: OpenList) => withKinds(SupplierSchema, kinds);

const IdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });
const Reason = Type.String({ minLength: 1, maxLength: 1000 });

/** The supplier directory (供应商名录): city administrators add, change, suspend and reinstate; every signed-in user reads. */
export function supplierRoutes(
  app: DiandanApp,
  services: { suppliers: SupplierService; kinds: OpenList; extensions: ExtensionRegistry },
  db: Database,
): void {
  const { suppliers, kinds, extensions } = services;
  const fields = { name: Type.String({ minLength: 1, maxLength: 200 }), kind: listKey(kinds) };

  app.post(
    '/v1/suppliers',
    {
      preValidation: authorize('city-admin'),
      schema: {
        tags: ['suppliers'],
        operationId: 'createSupplier',
        summary: 'Add a supplier to the directory',
        security: BEARER,
        headers: IdempotencyKeyHeader,
        body: extensions.extendInput('supplier', Type.Object(fields)),
        response: { 201: ref(SupplierSchema), ...problemResponses(401, 403, 422) },
      },
    },
    async (req, reply) => {
      const { fields: input, extensions: data } = splitExtensions(req.body);
      const supplier = await idempotentWrite(db, req, reply, async (tx) => ({
        status: 201,
        body: await suppliers.create({ ...input, extensions: data }, { actor: requireActor(req), tx, requestId: req.id }),
      }));
      sendVersion(reply, supplier.version);
      return supplier;
    },
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
        querystring: Type.Object({ ...PageQuery.properties, kind: Type.Optional(listKey(kinds)), status: Type.Optional(Type.Enum(SUPPLIER_STATUSES)) }),
        response: { 200: Page(ref(SupplierSchema), 'SupplierPage'), ...problemResponses(401) },
      },
    },
    async (req) => suppliers.list({ kind: req.query.kind, status: req.query.status, page: pageRequest(req.query) }),
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
        params: IdParams,
        response: { 200: ref(SupplierSchema), ...problemResponses(401, 404) },
      },
    },
    async (req, reply) => {
      const supplier = await suppliers.get(req.params.id);
      sendVersion(reply, supplier.version);
      return supplier;
    },
  );

  app.patch(
    '/v1/suppliers/:id',
    {
      preValidation: authorize('city-admin'),
      schema: {
        tags: ['suppliers'],
        operationId: 'updateSupplier',
        summary: 'Change a supplier’s name or kind (city admin; needs If-Match)',
        security: BEARER,
        params: IdParams,
        headers: IfMatchHeader,
        body: extensions.extendInput('supplier', Type.Partial(Type.Object(fields), { minProperties: 1 })),
        response: { 200: ref(SupplierSchema), ...problemResponses(401, 403, 404, 412, 422, 428) },
      },
    },
    async (req, reply) => {
      const { fields: changes, extensions: data } = splitExtensions(req.body);
      const supplier = await suppliers.update(
        { id: req.params.id, expectedVersion: expectedVersion(req), ...changes, extensions: data },
        { actor: requireActor(req), requestId: req.id },
      );
      sendVersion(reply, supplier.version);
      return supplier;
    },
  );

  for (const [action, status, summary] of [
    ['suspend', 'suspended', 'Suspend a supplier: its products leave the library and cannot be ordered'],
    ['reinstate', 'active', 'Reinstate a suspended supplier'],
  ] as const) {
    app.post(
      `/v1/suppliers/:id/${action}`,
      {
        preValidation: authorize('city-admin'),
        schema: {
          tags: ['suppliers'],
          operationId: `${action}Supplier`,
          summary: `${summary} (city admin; needs If-Match)`,
          description: 'Orders already approved or scheduled are not touched: the unit and the supplier settle them, or the unit cancels them.',
          security: BEARER,
          params: IdParams,
          headers: Type.Object({ ...IfMatchHeader.properties, ...IdempotencyKeyHeader.properties }),
          body: Type.Object({
            reason: Reason,
            ...(status === 'suspended'
              ? { code: Type.Optional(Type.String({ pattern: '^[A-Z][A-Z0-9_]{2,63}$', description: 'The problem code new orders are refused with' })) }
              : {}),
          }),
          response: { 200: ref(SupplierSchema), ...problemResponses(401, 403, 404, 409, 412, 422, 428) },
        },
      },
      async (req, reply) => {
        const supplier = await idempotentWrite(db, req, reply, async (tx) => ({
          status: 200,
          body: await suppliers.setStatus(
            { id: req.params.id, status, reason: req.body.reason, code: (req.body as { code?: string }).code, expectedVersion: expectedVersion(req) },
            { actor: requireActor(req), tx, requestId: req.id },
          ),
        }));
        sendVersion(reply, supplier.version);
        return supplier;
      },
    );
  }
}
