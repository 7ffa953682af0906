import {
  BEARER,
  IdempotencyKeyHeader,
  REGION_STAFF,
  Type,
  authorize,
  idempotentWrite,
  model,
  problemResponses,
  readIdempotencyKey,
  ref,
  requireActor,
  type Database,
  type DiandanApp,
  type Transaction,
} from '@diandan/kernel';
import type { FastifyRequest } from 'fastify';
import type { CitizenService } from '../citizens.js';
import type { Reservation, ReservationService, WaitlistEntry } from '../reservations.js';
import type { SessionService } from '../sessions.js';
import { DateTime, IdParams, Nullable, TAG, Text, Uuid } from './common.js';

export const SessionSchema = model(
  'VenueSession',
  Type.Object({
    id: Uuid,
    venueId: Uuid,
    roomId: Nullable(Uuid),
    regionCode: Type.String(),
    orderId: Nullable(Uuid),
    source: Type.Enum(['order', 'programme'], { description: 'order: made from a scheduled kernel order; programme: the venue’s own' }),
    title: Type.String(),
    description: Type.String(),
    startsAt: DateTime,
    endsAt: DateTime,
    capacity: Type.Integer(),
    confirmed: Type.Integer({ description: 'Seats of reservations not cancelled' }),
    held: Type.Integer({ description: 'Seats held for waiting-list offers' }),
    available: Type.Integer({ description: 'capacity − confirmed − held' }),
    bookingOpensAt: DateTime,
    bookingClosesAt: DateTime,
    checkInOpensAt: DateTime,
    checkInClosesAt: DateTime,
    cancelUntilMinutes: Type.Integer(),
    perCitizenLimit: Type.Integer(),
    audienceGroups: Type.Array(Type.String()),
    category: Nullable(Type.String({ description: 'A kernel category: what the waiting list’s unserved demand is signalled as (null: no signal)' })),
    status: Type.Enum(['open', 'cancelled']),
    version: Type.Integer(),
  }),
);
export const ReservationSchema = model(
  'VenueReservation',
  Type.Object({
    id: Uuid,
    sessionId: Uuid,
    quantity: Type.Integer(),
    groupName: Nullable(Type.String()),
    status: Type.Enum(['confirmed', 'checked-in', 'cancelled', 'no-show']),
    code: Type.String({ description: 'The door code, typed in when the QR code cannot be read' }),
    ticket: Type.String({ description: 'The signed ticket the QR code carries (Ed25519; verifiable offline with GET /v1/venue-checkin-key)' }),
    waitlistEntryId: Nullable(Type.Integer()),
    checkedInAt: Nullable(DateTime),
    checkedInVia: Nullable(Type.Enum(['online', 'offline'])),
    cancelledAt: Nullable(DateTime),
    noShowAt: Nullable(DateTime),
    createdAt: DateTime,
    phone: Type.String({ description: 'masked' }),
  }),
);
export const WaitlistEntrySchema = model(
  'VenueWaitlistEntry',
  Type.Object({
    id: Type.Integer({ description: 'Also the arrival order' }),
    sessionId: Uuid,
    quantity: Type.Integer(),
    status: Type.Enum(['waiting', 'offered', 'accepted', 'lapsed', 'left']),
    position: Nullable(Type.Integer({ description: '1: the next to be offered seats' })),
    offerExpiresAt: Nullable(DateTime),
    reservationId: Nullable(Uuid),
    createdAt: DateTime,
  }),
);

export const CitizenHeaders = Type.Object({ 'x-citizen-token': Type.Optional(Type.String({ maxLength: 100, description: 'From POST /v1/citizen-codes/{id}/verify' })) });
export const CitizenWriteHeaders = Type.Object({ ...CitizenHeaders.properties, ...IdempotencyKeyHeader.properties });
const Limit = Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })) });
const EntryParams = Type.Object({ id: Type.Integer({ minimum: 1, maximum: 2147483647 }) });

type CitizenRequest = FastifyRequest & { citizen?: Awaited<ReturnType<CitizenService['authenticate']>> };

/**
 * Authenticates citizens before validation on every route that takes the citizen token
 * header, so that a caller without a valid token gets 401 whatever the request's shape
 * (as the kernel's bearer routes do).
 */
export function guardCitizenRoutes(app: DiandanApp, citizens: CitizenService): void {
  const { citizenOf } = citizenAuth(citizens);
  const guard = async (req: FastifyRequest) => void (await citizenOf(req));
  app.addHook('onRoute', (route) => {
    const headers = (route.schema as { headers?: { properties?: Record<string, unknown> } } | undefined)?.headers;
    if (!headers?.properties?.['x-citizen-token']) return;
    const before = route.preValidation;
    route.preValidation = [...(before ? (Array.isArray(before) ? before : [before]) : []), guard] as never;
  });
}

/** Citizens' authentication by their token header (once per request). */
export function citizenAuth(citizens: CitizenService) {
  const citizenOf = async (req: FastifyRequest) => ((req as CitizenRequest).citizen ??= await citizens.authenticate(req.headers['x-citizen-token'] as string | undefined));
  return { citizenOf };
}

/**
 * Citizens carry no bearer token, so the kernel would keep their Idempotency-Keys with
 * every anonymous caller's: they are kept per citizen (`idempotentWrite`'s scope), so
 * that one citizen's key never replays another's answer.
 */
const citizenScope = (citizen: { id: string }) => ({ scope: `citizen:${citizen.id}` });

export function sessionRoutes(app: DiandanApp, services: { sessions: SessionService; citizens: CitizenService; reservations: ReservationService }, db: Database): void {
  const { sessions, citizens, reservations } = services;
  const { citizenOf } = citizenAuth(citizens);

  app.post(
    '/v1/venues/:id/sessions',
    {
      preValidation: authorize(...REGION_STAFF),
      schema: {
        tags: TAG,
        operationId: 'createVenueSession',
        summary: 'Add a session to the venue’s own programme',
        security: BEARER,
        params: IdParams,
        headers: IdempotencyKeyHeader,
        body: Type.Object({
          title: Text(200),
          description: Type.Optional(Text(4000, 0)),
          roomId: Type.Optional(Nullable(Uuid)),
          startsAt: DateTime,
          endsAt: DateTime,
          capacity: Type.Optional(Type.Integer({ minimum: 1, maximum: 100000, description: 'Default: the room’s (or venue’s) capacity' })),
          bookingOpensAt: Type.Optional(DateTime),
          bookingClosesAt: Type.Optional(DateTime),
          checkInOpensMinutes: Type.Optional(Type.Integer({ minimum: 0, maximum: 1440, description: 'Check-in opens this long before the start' })),
          checkInClosesMinutes: Type.Optional(Type.Integer({ minimum: 0, maximum: 1440, description: 'and closes this long after it' })),
          cancelUntilMinutes: Type.Optional(Type.Integer({ minimum: 0, maximum: 10080 })),
          perCitizenLimit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
          audienceGroups: Type.Optional(Type.Array(Text(64), { maxItems: 20 })),
          category: Type.Optional(Nullable(Text(64))),
        }),
        response: { 201: ref(SessionSchema), ...problemResponses(403, 404, 422) },
      },
    },
    async (req, reply) =>
      idempotentWrite(db, req, reply, async (tx) => ({ status: 201, body: await sessions.create({ venueId: req.params.id, ...req.body }, { actor: requireActor(req), tx, requestId: req.id }) })),
  );

  app.get(
    '/v1/venues/:id/sessions',
    {
      schema: {
        tags: TAG,
        operationId: 'listVenueSessions',
        summary: 'A venue’s sessions in start order, with seats available (public)',
        security: [],
        params: IdParams,
        querystring: Type.Object({ from: Type.Optional(DateTime), to: Type.Optional(DateTime), ...Limit.properties }),
        response: { 200: Type.Object({ items: Type.Array(ref(SessionSchema)) }), ...problemResponses(404) },
      },
    },
    async (req) => ({ items: await sessions.list({ venueId: req.params.id, from: req.query.from, to: req.query.to, limit: req.query.limit ?? 50 }) }),
  );

  app.get(
    '/v1/venue-sessions/:id',
    {
      schema: { tags: TAG, operationId: 'getVenueSession', summary: 'A session (public)', security: [], params: IdParams, response: { 200: ref(SessionSchema), ...problemResponses(404) } },
    },
    async (req) => sessions.get(req.params.id),
  );

  app.put(
    '/v1/venue-sessions/:id/category',
    {
      preValidation: authorize(...REGION_STAFF),
      schema: {
        tags: TAG,
        operationId: 'setVenueSessionCategory',
        summary: 'Give a session a kernel category, so its unserved waiting list can be signalled as demand (region staff)',
        security: BEARER,
        params: IdParams,
        body: Type.Object({ category: Nullable(Text(64)) }),
        response: { 200: ref(SessionSchema), ...problemResponses(403, 404, 422) },
      },
    },
    async (req) => sessions.setCategory({ id: req.params.id, category: req.body.category }, { actor: requireActor(req), requestId: req.id }),
  );

  // ── citizens: one-time codes ───────────────────────────────────────────────
  app.post(
    '/v1/citizen-codes',
    {
      schema: {
        tags: TAG,
        operationId: 'requestCitizenCode',
        summary: 'Send a one-time code to a citizen’s phone (public)',
        security: [],
        body: Type.Object({ phone: Type.String({ minLength: 11, maxLength: 20, description: 'Mainland mobile number; never stored raw, shown masked' }) }),
        response: { 201: Type.Object({ challengeId: Uuid, phone: Type.String({ description: 'masked' }), expiresAt: DateTime }), ...problemResponses(409, 422) },
      },
    },
    async (req, reply) => reply.code(201).send(await citizens.requestCode(req.body.phone)),
  );

  app.post(
    '/v1/citizen-codes/:id/verify',
    {
      schema: {
        tags: TAG,
        operationId: 'verifyCitizenCode',
        summary: 'Check a one-time code; the right one gives a citizen token (public)',
        security: [],
        params: IdParams,
        body: Type.Object({ code: Type.String({ pattern: '^[0-9]{6}$' }) }),
        response: { 200: Type.Object({ token: Type.String(), expiresAt: DateTime, citizen: Type.Object({ id: Uuid, phone: Type.String({ description: 'masked' }) }) }), ...problemResponses(404, 409, 422) },
      },
    },
    async (req) => citizens.verify(req.params.id, req.body.code),
  );

  // ── reservations ───────────────────────────────────────────────────────────
  app.post(
    '/v1/venue-sessions/:id/reservations',
    {
      schema: {
        tags: TAG,
        operationId: 'reserveVenueSession',
        summary: 'Book seats, all or nothing (citizen); with `waitlist: true` a full session waitlists the request instead',
        security: [],
        params: IdParams,
        headers: CitizenWriteHeaders,
        body: Type.Object({
          quantity: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 1 })),
          groupName: Type.Optional(Text(100)),
          waitlist: Type.Optional(Type.Boolean()),
        }),
        response: {
          201: ref(ReservationSchema),
          202: ref(WaitlistEntrySchema),
          ...problemResponses(404, 409, 422),
        },
      },
    },
    async (req, reply) => {
      const citizen = await citizenOf(req);
      // Many citizens book one popular session at once, and each booking holds the session's
      // row lock until its commit: the commit does not wait for the disk there (it would hold
      // the lock for the flush time, which bounds a session's bookings per second), and the
      // answer waits for the flush here instead — all waiting bookings share one flush. A
      // citizen is never told of a booking (or a replayed one) that a crash could lose.
      // Without an Idempotency-Key the booking is its own transaction, sent in one round trip
      // with its BEGIN and COMMIT; with one, it shares the key's transaction.
      const input = { sessionId: req.params.id, quantity: req.body.quantity ?? 1, groupName: req.body.groupName, waitlist: req.body.waitlist };
      const book = async (tx?: Transaction) => {
        const outcome = await reservations.reserve(input, citizen, tx, { earlyLockRelease: true });
        return outcome.kind === 'reserved' ? { status: 201 as const, body: outcome.reservation } : { status: 202 as const, body: outcome.entry };
      };
      let body: Reservation | WaitlistEntry;
      if (readIdempotencyKey(req) === undefined) {
        const result = await book();
        reply.code(result.status);
        body = result.body;
      } else body = await idempotentWrite<Reservation | WaitlistEntry>(db, req, reply, book, citizenScope(citizen));
      await reservations.flushCommitted();
      return body;
    },
  );

  app.get(
    '/v1/venue-reservations',
    {
      schema: { tags: TAG, operationId: 'listMyVenueReservations', summary: 'The citizen’s reservations, newest first', security: [], headers: CitizenHeaders, querystring: Limit, response: { 200: Type.Object({ items: Type.Array(ref(ReservationSchema)) }) } },
    },
    async (req) => ({ items: await reservations.mine(await citizenOf(req), req.query.limit ?? 50) }),
  );

  app.get(
    '/v1/venue-reservations/:id',
    {
      schema: {
        tags: TAG,
        operationId: 'getMyVenueReservation',
        summary: 'One of the citizen’s reservations, with its session',
        security: [],
        params: IdParams,
        headers: CitizenHeaders,
        response: { 200: Type.Object({ reservation: ref(ReservationSchema), session: ref(SessionSchema) }), ...problemResponses(404) },
      },
    },
    async (req) => reservations.one(req.params.id, await citizenOf(req)),
  );

  app.post(
    '/v1/venue-reservations/:id/cancel',
    {
      schema: {
        tags: TAG,
        operationId: 'cancelVenueReservation',
        summary: 'Cancel a reservation until the session’s cancellation deadline; freed seats go to the waiting list',
        security: [],
        params: IdParams,
        headers: CitizenWriteHeaders,
        response: { 200: ref(ReservationSchema), ...problemResponses(404, 409) },
      },
    },
    async (req, reply) => {
      const citizen = await citizenOf(req);
      return idempotentWrite(db, req, reply, async (tx) => ({ status: 200, body: await reservations.cancel(req.params.id, citizen, tx) }), citizenScope(citizen));
    },
  );

  app.get(
    '/v1/venue-sessions/:id/reservations',
    {
      preValidation: authorize(...REGION_STAFF),
      schema: {
        tags: TAG,
        operationId: 'listVenueSessionReservations',
        summary: 'A session’s reservations, phones masked (region staff of its subtree)',
        security: BEARER,
        params: IdParams,
        querystring: Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 200 })) }),
        response: { 200: Type.Object({ items: Type.Array(ref(ReservationSchema)) }), ...problemResponses(403, 404) },
      },
    },
    async (req) => ({ items: await reservations.ofSession(req.params.id, requireActor(req), req.query.limit ?? 200) }),
  );

  // ── waiting lists ──────────────────────────────────────────────────────────
  app.post(
    '/v1/venue-sessions/:id/waitlist',
    {
      schema: {
        tags: TAG,
        operationId: 'joinVenueWaitlist',
        summary: 'Join a full session’s waiting list with a quantity (citizen)',
        security: [],
        params: IdParams,
        headers: CitizenWriteHeaders,
        body: Type.Object({ quantity: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 1 })) }),
        response: { 201: ref(WaitlistEntrySchema), ...problemResponses(404, 409, 422) },
      },
    },
    async (req, reply) => {
      const citizen = await citizenOf(req);
      return idempotentWrite(db, req, reply, async (tx) => ({ status: 201, body: await reservations.join({ sessionId: req.params.id, quantity: req.body.quantity ?? 1 }, citizen, tx) }), citizenScope(citizen));
    },
  );

  app.get(
    '/v1/venue-waitlist',
    {
      schema: { tags: TAG, operationId: 'listMyVenueWaitlist', summary: 'The citizen’s waiting-list entries and offers, newest first', security: [], headers: CitizenHeaders, querystring: Limit, response: { 200: Type.Object({ items: Type.Array(ref(WaitlistEntrySchema)) }) } },
    },
    async (req) => ({ items: await reservations.myEntries(await citizenOf(req), req.query.limit ?? 50) }),
  );

  for (const [action, summary] of [
    ['accept', 'Accept a waiting-list offer: the held seats become a reservation'],
    ['leave', 'Leave a waiting list (or decline an offer)'],
    ['decline', 'Decline an open offer: its seats go to the next entry at once'],
  ] as const) {
    app.post(
      `/v1/venue-waitlist/:id/${action}`,
      {
        schema: {
          tags: TAG,
          operationId: { accept: 'acceptVenueWaitlistOffer', leave: 'leaveVenueWaitlist', decline: 'declineVenueWaitlistOffer' }[action],
          summary,
          security: [],
          params: EntryParams,
          headers: CitizenWriteHeaders,
          response: { 200: action === 'accept' ? ref(ReservationSchema) : ref(WaitlistEntrySchema), ...problemResponses(404, 409) },
        },
      },
      async (req, reply) => {
        const citizen = await citizenOf(req);
        return idempotentWrite<Reservation | WaitlistEntry>(db, req, reply, async (tx) => ({
          status: 200,
          body:
            action === 'accept'
              ? await reservations.accept(req.params.id, citizen, tx)
              : action === 'decline'
                ? await reservations.decline(req.params.id, citizen, tx)
                : await reservations.leave(req.params.id, citizen, tx),
        }), citizenScope(citizen));
      },
    );
  }

  app.get(
    '/v1/venue-sessions/:id/waitlist',
    {
      preValidation: authorize(...REGION_STAFF),
      schema: {
        tags: TAG,
        operationId: 'listVenueSessionWaitlist',
        summary: 'A session’s waiting list in arrival order (region staff of its subtree)',
        security: BEARER,
        params: IdParams,
        querystring: Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 200 })) }),
        response: { 200: Type.Object({ items: Type.Array(ref(WaitlistEntrySchema)) }), ...problemResponses(403, 404) },
      },
    },
    async (req) => ({ items: await reservations.waitlistOf(req.params.id, requireActor(req), req.query.limit ?? 200) }),
  );
}

export const sessionSchemas = [SessionSchema, ReservationSchema, WaitlistEntrySchema];
