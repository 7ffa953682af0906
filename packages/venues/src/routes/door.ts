import { BEARER, IdempotencyKeyHeader, REGION_STAFF, Type, authorize, idempotentWrite, model, problemResponses, ref, requireActor, type Database, type DiandanApp } from '@diandan/kernel';
import type QRCodeModule from 'qrcode';
import type { CheckInService } from '../check-in.js';
import type { CitizenService } from '../citizens.js';
import type { ReservationService } from '../reservations.js';
import type { TicketSigner } from '../tickets.js';
import { DateTime, IdParams, Nullable, TAG, Text, Uuid } from './common.js';
import { CitizenHeaders, ReservationSchema, citizenAuth } from './sessions.js';

// qrcode is loaded on the first QR code asked for, not at start-up (it is ~35 ms of every start).
let qrcode: Promise<typeof QRCodeModule> | undefined;
const loadQrCode = () => (qrcode ??= import('qrcode').then((m) => m.default));

export const ScanResultSchema = model(
  'VenueOfflineScanResult',
  Type.Object({
    index: Type.Integer({ description: 'The scan’s place in the upload' }),
    reservationId: Nullable(Uuid),
    scannedAt: DateTime,
    outcome: Type.Enum(['checked-in', 'conflict', 'refused', 'duplicate-upload'], {
      description: 'conflict: valid at the door, but checked in, cancelled or released meanwhile (double entry refused); refused: forged, another session’s, or outside the window',
    }),
    code: Nullable(Type.String({ description: 'The refusal’s problem code' })),
    message: Nullable(Type.String()),
  }),
);

export const RevocationListSchema = model(
  'VenueRevocationList',
  Type.Object({
    sessionId: Uuid,
    since: Nullable(DateTime),
    until: DateTime,
    tickets: Type.Array(Type.Object({ reservationId: Uuid, status: Type.Enum(['cancelled', 'no-show']), at: DateTime })),
    signature: Type.String({ description: 'Ed25519 (the check-in key) over the canonical JSON of the other fields; verify with verifyRevocations' }),
  }),
);

const Ticket = Type.String({ minLength: 1, maxLength: 200 });

export function doorRoutes(app: DiandanApp, services: { citizens: CitizenService; reservations: ReservationService; checkIns: CheckInService; signer: TicketSigner }, db: Database): void {
  const { citizens, reservations, checkIns, signer } = services;
  const { citizenOf } = citizenAuth(citizens);

  app.get(
    '/v1/venue-checkin-key',
    {
      schema: {
        tags: TAG,
        operationId: 'getVenueCheckInKey',
        summary: 'The public key door devices verify signed tickets with when offline (public)',
        security: [],
        response: { 200: Type.Object({ alg: Type.Literal('Ed25519'), publicKey: Type.String({ description: 'base64url of the 32 raw bytes (JWK x)' }), ticketPrefix: Type.String() }) },
      },
    },
    async () => ({ alg: 'Ed25519' as const, publicKey: signer.publicKeyRaw(), ticketPrefix: 'DV1.' }),
  );

  app.get(
    '/v1/venue-reservations/:id/qr',
    {
      schema: {
        tags: TAG,
        operationId: 'getMyVenueReservationQrCode',
        summary: 'The reservation’s QR code (SVG) carrying its signed ticket (citizen)',
        security: [],
        params: IdParams,
        headers: CitizenHeaders,
        response: { 200: { description: 'The QR code', content: { 'image/svg+xml': { schema: Type.String() } } }, ...problemResponses(404) },
      },
    },
    async (req, reply) => {
      const { reservation } = await reservations.one(req.params.id, await citizenOf(req));
      const svg = await (await loadQrCode()).toString(reservation.ticket, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
      return reply.type('image/svg+xml').header('cache-control', 'private, no-store').send(svg);
    },
  );

  app.post(
    '/v1/venue-sessions/:id/check-ins',
    {
      preValidation: authorize(...REGION_STAFF),
      schema: {
        tags: TAG,
        operationId: 'checkInVenueReservation',
        summary: 'Check a reservation in at the door by its code or signed ticket; every refusal has its reason (region staff)',
        security: BEARER,
        params: IdParams,
        headers: IdempotencyKeyHeader,
        body: Type.Union([Type.Object({ code: Type.String({ minLength: 1, maxLength: 64 }) }, { additionalProperties: false }), Type.Object({ ticket: Ticket }, { additionalProperties: false })]),
        response: { 200: ref(ReservationSchema), ...problemResponses(403, 404, 409, 422) },
      },
    },
    async (req, reply) =>
      idempotentWrite(db, req, reply, async (tx) => {
        const body = req.body as { code?: string; ticket?: string };
        return { status: 200, body: await checkIns.checkIn({ sessionId: req.params.id, code: body.code, ticket: body.ticket }, requireActor(req), tx) };
      }),
  );

  app.post(
    '/v1/venue-sessions/:id/offline-check-ins',
    {
      preValidation: authorize(...REGION_STAFF),
      schema: {
        tags: TAG,
        operationId: 'reconcileVenueOfflineCheckIns',
        summary: 'Upload the scans a door device made offline; applied in scan order, conflicts reported (region staff)',
        security: BEARER,
        params: IdParams,
        headers: IdempotencyKeyHeader,
        body: Type.Object({
          deviceId: Text(64),
          scans: Type.Array(Type.Object({ ticket: Ticket, scannedAt: DateTime }), { minItems: 1, maxItems: 2000 }),
        }),
        response: {
          200: Type.Object({ results: Type.Array(ref(ScanResultSchema)), checkedIn: Type.Integer(), conflicts: Type.Integer(), refused: Type.Integer() }),
          ...problemResponses(403, 404, 422),
        },
      },
    },
    async (req, reply) => idempotentWrite(db, req, reply, async (tx) => ({ status: 200, body: await checkIns.reconcile({ sessionId: req.params.id, ...req.body }, requireActor(req), tx) })),
  );

  app.get(
    '/v1/venue-sessions/:id/revoked-tickets',
    {
      preValidation: authorize(...REGION_STAFF),
      schema: {
        tags: TAG,
        operationId: 'getVenueRevokedTickets',
        summary: 'The session’s cancelled (and no-show released) tickets since a time, signed, for door devices to refuse them offline (region staff)',
        security: BEARER,
        params: IdParams,
        querystring: Type.Object({ since: Type.Optional(DateTime) }),
        response: { 200: ref(RevocationListSchema), ...problemResponses(403, 404) },
      },
    },
    async (req, reply) => reply.header('cache-control', 'private, no-store').send(await checkIns.revocations({ sessionId: req.params.id, since: req.query.since }, requireActor(req))),
  );
}

export const doorSchemas = [ScanResultSchema, RevocationListSchema];
