import {
  BEARER,
  IdempotencyKeyHeader,
  Page,
  PageQuery,
  Type,
  authorize,
  idempotentWrite,
  model,
  pageRequest,
  problemResponses,
  ref,
  requireActor,
  type Database,
  type DiandanApp,
} from '@diandan/kernel';
import { REVIEWER_ROLES } from '../registry.js';
import type { SupplierQualityService } from '../ratings.js';

const Score = Type.Integer({ minimum: 1, maximum: 5 });

export const RatingSchema = model(
  'SupplierRating',
  Type.Object({
    id: Type.Integer(),
    orderId: Type.String({ format: 'uuid' }),
    supplierId: Type.String({ format: 'uuid' }),
    unitId: Type.String({ format: 'uuid' }),
    punctuality: Score,
    quality: Score,
    cooperation: Score,
    comment: Type.String(),
    ratedBy: Type.String(),
    createdAt: Type.String({ format: 'date-time' }),
  }),
);

/** What the registry shows on kernel suppliers and products, and in the directory. */
export const SupplierQualitySchema = Type.Object({
  score: Type.Union([Type.Number({ minimum: 0, maximum: 5 }), Type.Null()], { description: 'Null until the supplier has the configured minimum of unit evaluations' }),
  tier: Type.Enum(['quality', 'standard'], { description: '`quality`: in the directory of quality suppliers (优质供应商名录)' }),
  unitRatings: Type.Integer(),
  citizenRatings: Type.Integer(),
  computedAt: Type.String({ format: 'date-time' }),
});

export const DirectoryEntrySchema = model(
  'SupplierDirectoryEntry',
  Type.Object({
    id: Type.String({ format: 'uuid' }),
    name: Type.String(),
    kind: Type.String(),
    description: Type.String(),
    categories: Type.Array(Type.String()),
    regionsServed: Type.Array(Type.String()),
    tier: Type.Enum(['quality', 'standard']),
    score: Type.Union([Type.Number(), Type.Null()]),
    unitRatings: Type.Integer(),
  }),
);

const IdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });

/** Ratings (履约评价) and the public directory (供应商名录). */
export function qualityRoutes(app: DiandanApp, quality: SupplierQualityService, db: Database): void {
  app.post(
    '/v1/supplier-ratings',
    {
      preValidation: authorize('unit-operator'),
      schema: {
        tags: ['supplier-registry'],
        operationId: 'rateSupplier',
        summary: 'Rate the supplier of a delivered order (the ordering unit’s operator; once per order)',
        security: BEARER,
        headers: IdempotencyKeyHeader,
        body: Type.Object({
          orderId: Type.String({ format: 'uuid' }),
          punctuality: Score,
          quality: Score,
          cooperation: Score,
          comment: Type.Optional(Type.String({ maxLength: 1000 })),
        }),
        response: { 201: ref(RatingSchema), ...problemResponses(403, 404, 409, 422) },
      },
    },
    async (req, reply) =>
      idempotentWrite(db, req, reply, async (tx) => ({
        status: 201,
        body: await quality.rate(req.body, { actor: requireActor(req), tx, requestId: req.id }),
      })),
  );

  app.get(
    '/v1/supplier-applications/:id/ratings',
    {
      preValidation: authorize('supplier', ...REVIEWER_ROLES),
      schema: {
        tags: ['supplier-registry'],
        operationId: 'listSupplierRatings',
        summary: 'The evaluations of a supplier, newest first (the supplier itself, reviewers and admins of its region)',
        security: BEARER,
        params: IdParams,
        querystring: PageQuery,
        response: { 200: Page(ref(RatingSchema), 'SupplierRatingPage'), ...problemResponses(403, 404) },
      },
    },
    async (req) => quality.ratingsOf({ applicationId: req.params.id, page: pageRequest(req.query) }, { actor: requireActor(req) }),
  );

  app.get(
    '/v1/supplier-directory',
    {
      schema: {
        tags: ['supplier-registry'],
        operationId: 'listSupplierDirectory',
        summary: 'The public directory of approved suppliers (供应商名录): search by name, kind, category, region served, tier',
        security: [],
        querystring: Type.Object({
          ...PageQuery.properties,
          q: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: 'Part of the name' })),
          kind: Type.Optional(Type.String({ maxLength: 64 })),
          category: Type.Optional(Type.String({ maxLength: 32 })),
          region: Type.Optional(Type.String({ maxLength: 32, description: 'Suppliers serving this region (or a region above it)' })),
          tier: Type.Optional(Type.Enum(['quality', 'standard'])),
        }),
        response: { 200: Page(ref(DirectoryEntrySchema), 'SupplierDirectoryPage'), ...problemResponses() },
      },
    },
    async (req) => quality.directory({ ...req.query, page: pageRequest(req.query) }),
  );

  app.get(
    '/v1/supplier-directory/:id',
    {
      schema: {
        tags: ['supplier-registry'],
        operationId: 'getSupplierDirectoryEntry',
        summary: 'One approved supplier of the public directory',
        security: [],
        params: IdParams,
        response: { 200: ref(DirectoryEntrySchema), ...problemResponses(404) },
      },
    },
    async (req) => quality.directoryEntry(req.params.id),
  );
}
