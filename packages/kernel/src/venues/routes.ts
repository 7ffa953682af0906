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
import { VENUE_KINDS } from './schema.js';

const VenueKind = Type.Enum(VENUE_KINDS);
const Location = Type.Object({ lat: Type.Number({ minimum: -90, maximum: 90 }), lng: Type.Number({ minimum: -180, maximum: 180 }) });

export const VenueSchema = model(
  'Venue',
  Type.Object({
    id: Type.String({ format: 'uuid' }),
    regionCode: Type.String(),
    name: Type.String(),
    kind: VenueKind,
    capacity: Type.Integer(),
    address: Type.String(),
    location: Type.Union([Location, Type.Null()]),
    version: Type.Integer(),
  }),
);

/** Venues (场馆): create, read and list within the caller's region subtree. */
export function venueRoutes(app: DiandanApp, services: KernelServices, db: Database): void {
  app.post(
    '/v1/venues',
    {
      preValidation: authorize(...REGION_STAFF),
      schema: {
        tags: ['venues'],
        operationId: 'createVenue',
        summary: 'Register a venue in a region of your subtree',
        security: BEARER,
        headers: Type.Object({ 'idempotency-key': Type.Optional(Type.String()) }),
        body: Type.Object({
          regionCode: Type.String({ minLength: 1, maxLength: 32 }),
          name: Type.String({ minLength: 1, maxLength: 200 }),
          kind: VenueKind,
          capacity: Type.Integer({ minimum: 1, maximum: 1_000_000 }),
          address: Type.String({ minLength: 1, maxLength: 300 }),
          location: Type.Optional(Type.Union([Location, Type.Null()])),
        }),
        response: { 201: ref(VenueSchema), ...problemResponses(401, 403, 404, 422) },
      },
    },
    async (req, reply) =>
      idempotentWrite(db, req, reply, async (tx) => ({
        status: 201,
        body: await services.venues.create(tx, requireActor(req), { ...req.body, location: req.body.location ?? null }, req.id),
      })),
  );

  app.get(
    '/v1/venues',
    {
      preValidation: authorize(),
      schema: {
        tags: ['venues'],
        operationId: 'listVenues',
        summary: 'List the venues in your region subtree',
        security: BEARER,
        querystring: Type.Object({
          ...PageQuery.properties,
          region: Type.Optional(Type.String({ description: 'Only venues in this region’s subtree' })),
          kind: Type.Optional(VenueKind),
          minCapacity: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 })),
        }),
        response: { 200: Page(ref(VenueSchema), 'VenuePage'), ...problemResponses(401) },
      },
    },
    async (req) => services.venues.list(requireActor(req), req.query, pageRequest(req.query)),
  );

  app.get(
    '/v1/venues/:id',
    {
      preValidation: authorize(),
      schema: {
        tags: ['venues'],
        operationId: 'getVenue',
        summary: 'Get one venue',
        security: BEARER,
        params: Type.Object({ id: Type.String({ format: 'uuid' }) }),
        response: { 200: ref(VenueSchema), ...problemResponses(401, 404) },
      },
    },
    async (req) => services.venues.get(requireActor(req), req.params.id),
  );
}
