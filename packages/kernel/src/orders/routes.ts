import Type from 'typebox';
import { authorize, BEARER, requireActor } from '../auth/http.js';
import type { Database } from '../db/database.js';
import { splitExtensions } from '../directory/routes.js';
import type { ExtensionRegistry } from '../extensions/extensions.js';
import { Page, PageQuery, pageRequest } from '../http/pagination.js';
import { problemResponses } from '../http/problem.js';
import { model, ref } from '../http/schemas.js';
import type { DiandanApp } from '../plugin/define.js';
import { expectedVersion, IfMatchHeader, sendVersion } from '../safe-writes/etag.js';
import { IdempotencyKeyHeader, idempotencyClaim, idempotentWrite, replay } from '../safe-writes/idempotency.js';
import type { DeliveryReport, Order, OrderService } from './orders.js';
import { ORDER_ACTORS, ORDER_STATES, type OrderAction } from './lifecycle.js';

const Day = Type.String({ format: 'date', description: 'YYYY-MM-DD' });
const DeliveryReportSchema = Type.Object({
  deliveredOn: Day,
  actualAudience: Type.Integer({ minimum: 0, maximum: 1_000_000 }),
  notes: Type.Optional(Type.String({ maxLength: 5000, description: 'Default: empty' })),
  photos: Type.Optional(Type.Array(Type.String({ format: 'uri', maxLength: 2000 }), { maxItems: 50, description: 'Default: none' })),
});
const DeliverySchema = Type.Object({
  deliveredOn: Day,
  actualAudience: Type.Integer(),
  notes: Type.String(),
  photos: Type.Array(Type.String()),
});

export const OrderSchema = model(
  'Order',
  Type.Object({
    id: Type.String({ format: 'uuid' }),
    unitId: Type.String({ format: 'uuid' }),
    regionCode: Type.String(),
    productId: Type.String({ format: 'uuid' }),
    productContentVersion: Type.Integer(),
    supplierId: Type.String({ format: 'uuid' }),
    venueId: Type.String({ format: 'uuid' }),
    windowStart: Day,
    windowEnd: Day,
    expectedAudience: Type.Integer(),
    cost: Type.Integer({ description: 'Whole yuan, the product’s cost when ordered' }),
    budgetYear: Type.Integer(),
    status: Type.Enum(ORDER_STATES),
    approvalChain: Type.Array(Type.String(), { description: 'Region codes that approve, nearest first' }),
    approvedSteps: Type.Integer(),
    awaitingApprovalBy: Type.Union([Type.String(), Type.Null()]),
    scheduledOn: Type.Union([Day, Type.Null()]),
    rejectionReason: Type.Union([Type.String(), Type.Null()]),
    cancellationReason: Type.Union([Type.String(), Type.Null()]),
    delivery: Type.Union([DeliverySchema, Type.Null()]),
    version: Type.Integer(),
  }),
);

const IdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });
const Reason = Type.Object({ reason: Type.String({ minLength: 1, maxLength: 1000 }) });

const ACTIONS: { action: OrderAction; operationId: string; summary: string; body?: ReturnType<typeof Type.Object> }[] = [
  { action: 'submit', operationId: 'submitOrder', summary: 'Submit a draft order for approval' },
  { action: 'approve', operationId: 'approveOrder', summary: 'Approve at your level of the approval chain' },
  { action: 'reject', operationId: 'rejectOrder', summary: 'Reject at your level of the approval chain', body: Reason },
  { action: 'schedule', operationId: 'scheduleOrder', summary: 'Confirm the delivery date (supplier)', body: Type.Object({ scheduledOn: Day }) },
  { action: 'deliver', operationId: 'deliverOrder', summary: 'Report the delivery', body: DeliveryReportSchema },
  { action: 'close', operationId: 'closeOrder', summary: 'Close a delivered order' },
  { action: 'cancel', operationId: 'cancelOrder', summary: 'Cancel an order before delivery', body: Reason },
];

/** Orders (点单) and their lifecycle. */
export function orderRoutes(app: DiandanApp, services: { orders: OrderService; extensions: ExtensionRegistry }, db: Database): void {
  const { orders, extensions } = services;
  app.post(
    '/v1/orders',
    {
      preValidation: authorize('unit-operator', 'city-admin', 'district-admin', 'street-operator', 'community-operator'),
      schema: {
        tags: ['orders'],
        operationId: 'createOrder',
        summary: 'Draft an order for a listed product',
        security: BEARER,
        headers: IdempotencyKeyHeader,
        body: extensions.extendInput(
          'order',
          Type.Object({
            unitId: Type.String({ format: 'uuid' }),
            productId: Type.String({ format: 'uuid' }),
            venueId: Type.String({ format: 'uuid' }),
            windowStart: Day,
            windowEnd: Day,
            expectedAudience: Type.Integer({ minimum: 1, maximum: 1_000_000 }),
          }),
        ),
        response: { 201: ref(OrderSchema), ...problemResponses(401, 403, 404, 409, 422) },
      },
    },
    async (req, reply) => {
      const claim = idempotencyClaim(req);
      const { fields, extensions: data } = splitExtensions(req.body);
      const placed = await orders.place({ ...fields, extensions: data }, { actor: requireActor(req), claim, requestId: req.id });
      let order: Order;
      // A replay shows the order's extension data as it is now (the stored answer predates it).
      if ('replay' in placed) order = await extensions.attachOne('order', replay<Order>(reply, claim!, placed.replay), db);
      else {
        order = placed.order;
        reply.code(201);
      }
      sendVersion(reply, order.version);
      return order;
    },
  );

  app.get(
    '/v1/orders',
    {
      preValidation: authorize(),
      schema: {
        tags: ['orders'],
        operationId: 'listOrders',
        summary: 'List the orders you may see',
        security: BEARER,
        querystring: Type.Object({
          ...PageQuery.properties,
          status: Type.Optional(Type.Enum(ORDER_STATES)),
          unitId: Type.Optional(Type.String({ format: 'uuid' })),
          awaitingMyApproval: Type.Optional(Type.Boolean({ description: 'Only orders whose next approver is your region' })),
        }),
        response: { 200: Page(ref(OrderSchema), 'OrderPage'), ...problemResponses(401) },
      },
    },
    async (req) => {
      const { limit, cursor, ...filter } = req.query;
      return orders.list({ ...filter, page: pageRequest({ limit, cursor }) }, { actor: requireActor(req) });
    },
  );

  app.get(
    '/v1/orders/:id',
    {
      preValidation: authorize(),
      schema: {
        tags: ['orders'],
        operationId: 'getOrder',
        summary: 'Get one order',
        security: BEARER,
        params: IdParams,
        response: { 200: ref(OrderSchema), ...problemResponses(401, 404) },
      },
    },
    async (req, reply) => {
      const order = await orders.get(req.params.id, { actor: requireActor(req) });
      sendVersion(reply, order.version);
      return order;
    },
  );

  for (const a of ACTIONS) {
    app.post(
      `/v1/orders/:id/${a.action}`,
      {
        preValidation: authorize(),
        schema: {
          tags: ['orders'],
          operationId: a.operationId,
          summary: a.summary,
          description: `Who: ${ORDER_ACTORS[a.action]}. Needs If-Match. A retry with the same Idempotency-Key gets the first answer.`,
          security: BEARER,
          params: IdParams,
          headers: Type.Object({ ...IfMatchHeader.properties, ...IdempotencyKeyHeader.properties }),
          ...(a.body ? { body: a.body } : {}),
          response: { 200: ref(OrderSchema), ...problemResponses(401, 403, 404, 409, 412, 422, 428) },
        },
      },
      async (req, reply) => {
        const body = (req.body ?? {}) as { reason?: string; scheduledOn?: string } & Partial<DeliveryReport>;
        const order = await idempotentWrite(db, req, reply, async (tx) => ({
          status: 200,
          body: await orders.act(
            {
              id: req.params.id,
              action: a.action,
              expectedVersion: expectedVersion(req),
              reason: body.reason,
              scheduledOn: body.scheduledOn,
              delivery:
                a.action === 'deliver'
                  ? { deliveredOn: body.deliveredOn!, actualAudience: body.actualAudience!, notes: body.notes ?? '', photos: body.photos ?? [] }
                  : undefined,
            },
            { actor: requireActor(req), tx, requestId: req.id },
          ),
        }));
        sendVersion(reply, order.version);
        return order;
      },
    );
  }
}
