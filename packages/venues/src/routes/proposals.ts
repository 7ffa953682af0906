import { BEARER, IdempotencyKeyHeader, IfMatchHeader, REGION_STAFF, Type, authorize, expectedVersion, idempotentWrite, model, problemResponses, ref, requireActor, sendVersion, type Database, type DiandanApp } from '@diandan/kernel';
import type { HoursProposals } from '../proposals.js';
import { DateTime, IdParams, ListQuery, Nullable, TAG, Time, Uuid } from './common.js';

export const HoursProposalSchema = model(
  'VenueHoursProposal',
  Type.Object({
    id: Type.Integer(),
    venueId: Uuid,
    weekly: Type.Array(Type.Object({ weekday: Type.Integer({ minimum: 1, maximum: 7 }), opens: Time, closes: Time }), { description: 'The whole week proposed' }),
    reason: Type.String(),
    basis: Type.Object({}, { additionalProperties: true, description: 'The figures it rests on (the built-in rule: the period and the slots that changed)' }),
    proposedBy: Type.String({ description: '`venues` (the built-in rule) or the plugin that replaced it through `venues.hours-proposals`' }),
    status: Type.Enum(['open', 'accepted', 'dismissed']),
    decidedBy: Nullable(Type.String()),
    decidedAt: Nullable(DateTime),
    hourChangeId: Nullable(Type.Integer({ description: 'The entry of the hours history it became' })),
    createdAt: DateTime,
  }),
);
const ProposalParams = Type.Object({ id: Type.Integer({ minimum: 1, maximum: 2147483647 }) });

export function proposalRoutes(app: DiandanApp, proposals: HoursProposals, db: Database): void {
  app.post(
    '/v1/venues/:id/hours-proposals',
    {
      preValidation: authorize(...REGION_STAFF),
      schema: {
        tags: TAG,
        operationId: 'proposeVenueHours',
        summary: 'Propose opening-hour changes from the venue’s utilisation (the built-in rule, or a plugin’s through `venues.hours-proposals`); earlier open proposals are superseded (region staff)',
        security: BEARER,
        params: IdParams,
        headers: IdempotencyKeyHeader,
        body: Type.Object({ from: Type.Optional(DateTime), to: Type.Optional(DateTime) }),
        response: { 201: Type.Object({ items: Type.Array(ref(HoursProposalSchema)) }), ...problemResponses(403, 404, 422) },
      },
    },
    async (req, reply) =>
      idempotentWrite(db, req, reply, async (tx) => ({ status: 201, body: { items: await proposals.propose({ venueId: req.params.id, ...req.body }, { actor: requireActor(req), tx, requestId: req.id }) } })),
  );

  app.get(
    '/v1/venues/:id/hours-proposals',
    {
      preValidation: authorize(...REGION_STAFF),
      schema: {
        tags: TAG,
        operationId: 'listVenueHoursProposals',
        summary: 'The venue’s opening-hour proposals, newest first (region staff)',
        security: BEARER,
        params: IdParams,
        querystring: Type.Object({ status: Type.Optional(Type.Enum(['open', 'accepted', 'dismissed'])), ...ListQuery.properties }),
        response: { 200: Type.Object({ items: Type.Array(ref(HoursProposalSchema)) }), ...problemResponses(403, 404) },
      },
    },
    async (req) => ({ items: await proposals.list({ venueId: req.params.id, status: req.query.status, limit: req.query.limit ?? 50, after: req.query.before }, { actor: requireActor(req) }) }),
  );

  app.post(
    '/v1/venue-hours-proposals/:id/accept',
    {
      preValidation: authorize(...REGION_STAFF),
      schema: {
        tags: TAG,
        operationId: 'acceptVenueHoursProposal',
        summary: 'Accept a proposal: the weekly hours become the proposed ones, kept in the hours history (If-Match: the profile’s version) (region staff)',
        security: BEARER,
        params: ProposalParams,
        headers: IfMatchHeader,
        response: { 200: ref(HoursProposalSchema), ...problemResponses(403, 404, 409, 412, 422, 428) },
      },
    },
    async (req, reply) => {
      const { proposal, profileVersion } = await proposals.accept({ id: req.params.id, expectedVersion: expectedVersion(req) }, { actor: requireActor(req), requestId: req.id });
      sendVersion(reply, profileVersion);
      return proposal;
    },
  );

  app.post(
    '/v1/venue-hours-proposals/:id/dismiss',
    {
      preValidation: authorize(...REGION_STAFF),
      schema: {
        tags: TAG,
        operationId: 'dismissVenueHoursProposal',
        summary: 'Dismiss a proposal; the hours stay (region staff)',
        security: BEARER,
        params: ProposalParams,
        response: { 200: ref(HoursProposalSchema), ...problemResponses(403, 404, 409) },
      },
    },
    async (req) => proposals.dismiss(req.params.id, { actor: requireActor(req), requestId: req.id }),
  );
}

export const proposalSchemas = [HoursProposalSchema];
