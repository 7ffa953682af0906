import Type, { type Static } from 'typebox';
import { authorize, BEARER, requireActor } from '../auth/http.js';
import type { Database } from '../db/database.js';
import { splitExtensions } from '../directory/routes.js';
import type { ExtensionRegistry } from '../extensions/extensions.js';
import { Page, PageQuery, pageRequest } from '../http/pagination.js';
import { problemResponses } from '../http/problem.js';
import { model, ref } from '../http/schemas.js';
import type { DiandanApp } from '../plugin/define.js';
import { expectedVersion, IfMatchHeader, sendVersion } from '../safe-writes/etag.js';
import { IdempotencyKeyHeader, idempotentWrite } from '../safe-writes/idempotency.js';
import { PRODUCT_STATES, type ProductAction } from './lifecycle.js';
import type { ProductService } from './products.js';

const Key = Type.String({ pattern: '^[a-z][a-z0-9-]*$', maxLength: 60 });
const RegionCode = Type.String({ minLength: 1, maxLength: 32 });
const Media = Type.Object({
  url: Type.String({ format: 'uri', maxLength: 2000 }),
  kind: Type.Enum(['image', 'video', 'document']),
  caption: Type.Optional(Type.String({ maxLength: 200 })),
});

const summaryProperties = {
  id: Type.String({ format: 'uuid' }),
  supplierId: Type.String({ format: 'uuid' }),
  status: Type.Enum(PRODUCT_STATES),
  title: Type.String(),
  summary: Type.String(),
  category: Type.String(),
  form: Type.String(),
  targetGroups: Type.Array(Type.String()),
  audienceMin: Type.Integer(),
  audienceMax: Type.Integer(),
  durationMinutes: Type.Integer(),
  costPerSession: Type.Integer({ description: 'Whole yuan per session' }),
  serviceableRegions: Type.Array(Type.String()),
  tags: Type.Array(Type.String()),
  version: Type.Integer({ description: 'Changes with every update; the ETag is `"v<version>"`' }),
  contentVersion: Type.Integer({ description: 'Changes with every content edit' }),
};

export const ProductSummarySchema = model('ProductSummary', Type.Object(summaryProperties));
export const ProductSchema = model(
  'Product',
  Type.Object({
    ...summaryProperties,
    description: Type.String(),
    media: Type.Array(Media),
    rejectionReasons: Type.Union([Type.Array(Type.String()), Type.Null()]),
  }),
);

const ProductContentSchema = Type.Object({
  title: Type.String({ minLength: 1, maxLength: 120 }),
  summary: Type.String({ minLength: 1, maxLength: 300 }),
  description: Type.String({ maxLength: 20_000 }),
  category: Key,
  form: Type.String({ minLength: 1, maxLength: 40 }),
  targetGroups: Type.Array(Key, { minItems: 1, maxItems: 20, uniqueItems: true }),
  audienceMin: Type.Integer({ minimum: 1, maximum: 1_000_000 }),
  audienceMax: Type.Integer({ minimum: 1, maximum: 1_000_000 }),
  durationMinutes: Type.Integer({ minimum: 1, maximum: 24 * 60 }),
  costPerSession: Type.Integer({ minimum: 0, maximum: 100_000_000 }),
  serviceableRegions: Type.Array(RegionCode, { minItems: 1, maxItems: 500, uniqueItems: true }),
  tags: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 30 }), { maxItems: 30, description: 'Default: none' })),
  media: Type.Optional(Type.Array(Media, { maxItems: 30, description: 'Default: none' })),
});

const IdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });

const TRANSITIONS: { path: string; action: ProductAction; summary: string; operationId: string }[] = [
  { path: 'submit', action: 'submit', summary: 'Submit a product for review (its supplier)', operationId: 'submitProduct' },
  { path: 'start-review', action: 'startReview', summary: 'Take a submitted product into review (reviewer)', operationId: 'startProductReview' },
  { path: 'list', action: 'list', summary: 'List a reviewed product in the library (reviewer)', operationId: 'listProduct' },
  { path: 'reject', action: 'reject', summary: 'Reject a product under review, with reasons (reviewer)', operationId: 'rejectProduct' },
  { path: 'delist', action: 'delist', summary: 'Take a listed product off the library (reviewer, city admin, or its own supplier withdrawing it)', operationId: 'delistProduct' },
];

/** The product library: write (suppliers), review (reviewers), search (everyone signed in). */
export function productRoutes(app: DiandanApp, services: { products: ProductService; extensions: ExtensionRegistry }, db: Database): void {
  const { products, extensions } = services;
  const ContentBody = extensions.extendInput('product', ProductContentSchema);

  app.post(
    '/v1/products',
    {
      preValidation: authorize('supplier'),
      schema: {
        tags: ['products'],
        operationId: 'createProduct',
        summary: 'Draft a product (supplier)',
        security: BEARER,
        headers: IdempotencyKeyHeader,
        body: ContentBody,
        response: { 201: ref(ProductSchema), ...problemResponses(401, 403, 422) },
      },
    },
    async (req, reply) => {
      const { fields, extensions: data } = splitExtensions(req.body);
      const product = await idempotentWrite(db, req, reply, async (tx) => ({
        status: 201,
        body: await products.create({ ...withDefaults(fields), extensions: data }, { actor: requireActor(req), tx, requestId: req.id }),
      }));
      sendVersion(reply, product.version);
      return product;
    },
  );

  app.get(
    '/v1/products',
    {
      preValidation: authorize(),
      schema: {
        tags: ['products'],
        operationId: 'searchProducts',
        summary: 'Search the product library',
        description:
          'Lists listed products of active suppliers unless `status` says otherwise (other states: curators, and suppliers for their own).',
        security: BEARER,
        querystring: Type.Object({
          ...PageQuery.properties,
          status: Type.Optional(Type.Enum(PRODUCT_STATES)),
          category: Type.Optional(Key),
          group: Type.Optional(Key),
          region: Type.Optional(Type.String({ maxLength: 32, description: 'Deliverable to this region' })),
          q: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: 'Text in title or summary' })),
          costMin: Type.Optional(Type.Integer({ minimum: 0, maximum: 100_000_000 })),
          costMax: Type.Optional(Type.Integer({ minimum: 0, maximum: 100_000_000 })),
          supplierId: Type.Optional(Type.String({ format: 'uuid' })),
        }),
        response: { 200: Page(ref(ProductSummarySchema), 'ProductPage'), ...problemResponses(401) },
      },
    },
    async (req) => {
      const { limit, cursor, ...filter } = req.query;
      return products.list({ ...filter, page: pageRequest({ limit, cursor }) }, { actor: requireActor(req) });
    },
  );

  app.get(
    '/v1/products/:id',
    {
      preValidation: authorize(),
      schema: {
        tags: ['products'],
        operationId: 'getProduct',
        summary: 'Get one product with its description and media',
        security: BEARER,
        params: IdParams,
        response: { 200: ref(ProductSchema), ...problemResponses(401, 404) },
      },
    },
    async (req, reply) => {
      const product = await products.get(req.params.id, { actor: requireActor(req) });
      sendVersion(reply, product.version);
      return product;
    },
  );

  app.put(
    '/v1/products/:id',
    {
      preValidation: authorize('supplier'),
      schema: {
        tags: ['products'],
        operationId: 'updateProduct',
        summary: 'Change a draft, rejected or delisted product (its supplier; needs If-Match)',
        security: BEARER,
        params: IdParams,
        headers: IfMatchHeader,
        body: ContentBody,
        response: { 200: ref(ProductSchema), ...problemResponses(401, 403, 404, 409, 412, 422, 428) },
      },
    },
    async (req, reply) => {
      const { fields, extensions: data } = splitExtensions(req.body);
      const product = await products.update(
        { id: req.params.id, expectedVersion: expectedVersion(req), content: withDefaults(fields), extensions: data },
        { actor: requireActor(req), requestId: req.id },
      );
      sendVersion(reply, product.version);
      return product;
    },
  );

  for (const t of TRANSITIONS) {
    app.post(
      `/v1/products/:id/${t.path}`,
      {
        preValidation: authorize(),
        schema: {
          tags: ['products'],
          operationId: t.operationId,
          summary: t.summary,
          description: 'Needs If-Match. A retry with the same Idempotency-Key gets the first answer.',
          security: BEARER,
          params: IdParams,
          headers: Type.Object({ ...IfMatchHeader.properties, ...IdempotencyKeyHeader.properties }),
          ...(t.action === 'reject'
            ? { body: Type.Object({ reasons: Type.Array(Type.String({ minLength: 1, maxLength: 500 }), { minItems: 1, maxItems: 20 }) }) }
            : {}),
          response: { 200: ref(ProductSchema), ...problemResponses(401, 403, 404, 409, 412, 422, 428) },
        },
      },
      async (req, reply) => {
        const reasons = (req.body as { reasons?: string[] } | undefined)?.reasons;
        const product = await idempotentWrite(db, req, reply, async (tx) => ({
          status: 200,
          body: await products.transition(
            { id: req.params.id, action: t.action, expectedVersion: expectedVersion(req), reasons },
            { actor: requireActor(req), tx, requestId: req.id },
          ),
        }));
        sendVersion(reply, product.version);
        return product;
      },
    );
  }
}

function withDefaults(body: Static<typeof ProductContentSchema>) {
  return { ...body, tags: body.tags ?? [], media: body.media ?? [] };
}
