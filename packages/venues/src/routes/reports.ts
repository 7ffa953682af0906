import { BEARER, REGION_STAFF, Type, authorize, model, problemResponses, ref, requireActor, type DiandanApp } from '@diandan/kernel';
import type { CalendarFeeds } from '../calendars.js';
import type { CitizenService } from '../citizens.js';
import type { NoShowService } from '../no-shows.js';
import type { UtilisationReport } from '../utilisation.js';
import { DateTime, IdParams, Nullable, TAG, Uuid } from './common.js';
import { CitizenHeaders, citizenAuth } from './sessions.js';

const Ratio = Nullable(Type.Number({ minimum: 0 }));
const FigureFields = {
  sessions: Type.Integer(),
  capacityOffered: Type.Integer({ description: 'Σ capacity of the sessions not cancelled' }),
  seatsReserved: Type.Integer({ description: 'Σ seats of reservations not cancelled (confirmed, checked in, no-show)' }),
  seatsCheckedIn: Type.Integer(),
  seatsNoShow: Type.Integer(),
  bookingRate: { ...Ratio, description: 'seatsReserved ÷ capacityOffered' },
  reservationUtilisation: { ...Ratio, description: 'seatsCheckedIn ÷ capacityOffered' },
  noShowRate: { ...Ratio, description: 'seatsNoShow ÷ (seatsCheckedIn + seatsNoShow)' },
  waitlistJoined: Type.Integer(),
  waitlistAccepted: Type.Integer(),
  waitlistConversion: { ...Ratio, description: 'waitlistAccepted ÷ waitlistJoined' },
};
export const FiguresSchema = model('VenueUtilisationFigures', Type.Object(FigureFields));
export const UtilisationSchema = model(
  'VenueUtilisation',
  Type.Object({
    venueId: Uuid,
    from: DateTime,
    to: DateTime,
    totals: ref(FiguresSchema),
    rooms: Type.Array(Type.Object({ roomId: Nullable(Uuid), name: Nullable(Type.String()), ...FigureFields })),
    slots: Type.Array(Type.Object({ weekday: Type.Integer({ minimum: 1, maximum: 7 }), hour: Type.Integer({ minimum: 0, maximum: 23 }), ...FigureFields }), { description: 'By local start (Asia/Shanghai): the weekday × hour heat map' }),
  }),
);
const NoShowSchema = Type.Object({ reservationId: Uuid, sessionId: Uuid, title: Type.String(), startsAt: DateTime, noShowAt: DateTime });
export const StandingSchema = model(
  'VenueCitizenStanding',
  Type.Object({
    blocked: Type.Boolean(),
    block: Nullable(Type.Object({ startsAt: DateTime, endsAt: DateTime, reason: Type.String(), noShows: Type.Array(NoShowSchema) })),
    noShows: Type.Array(NoShowSchema, { description: 'No-shows within the period, newest first' }),
    rule: Type.Object({ blockAfter: Type.Integer(), periodDays: Type.Integer(), blockDays: Type.Integer(), graceMinutes: Type.Integer() }),
  }),
);
const Ics = { 200: { description: 'An iCalendar file (Asia/Shanghai)', content: { 'text/calendar': { schema: Type.String() } } } };

export function reportRoutes(app: DiandanApp, services: { citizens: CitizenService; noShows: NoShowService; calendars: CalendarFeeds; utilisation: UtilisationReport }): void {
  const { citizens, noShows, calendars, utilisation } = services;
  const { citizenOf } = citizenAuth(citizens);
  const ics = (name: string) => ({ 'content-type': 'text/calendar; charset=utf-8', 'content-disposition': `inline; filename="${name}.ics"` });

  app.get(
    '/v1/venue-citizen/standing',
    {
      schema: { tags: TAG, operationId: 'getMyVenueStanding', summary: 'Whether the citizen may book, and if blocked, why (citizen)', security: [], headers: CitizenHeaders, response: { 200: ref(StandingSchema) } },
    },
    async (req) => noShows.standing(await citizenOf(req)),
  );

  app.get(
    '/v1/venues/:id/sessions.ics',
    { schema: { tags: TAG, operationId: 'getVenueSessionsCalendar', summary: 'The venue’s sessions as an iCalendar feed (public)', security: [], params: IdParams, response: { ...Ics, ...problemResponses(404) } } },
    async (req, reply) => reply.headers(ics(`venue-${req.params.id}`)).send(await calendars.venueFeed(req.params.id)),
  );

  app.get(
    '/v1/venue-reservations/calendar',
    {
      schema: {
        tags: TAG,
        operationId: 'getMyVenueCalendarFeed',
        summary: 'The address of the citizen’s reservations feed, to subscribe to in a calendar app (citizen)',
        security: [],
        headers: CitizenHeaders,
        response: { 200: Type.Object({ path: Type.String({ description: 'Relative to the API; anyone with it sees the feed' }) }) },
      },
    },
    async (req) => ({ path: `/v1/venue-calendar-feeds/${calendars.feedKey((await citizenOf(req)).id)}.ics` }),
  );

  app.get(
    '/v1/venue-calendar-feeds/:key',
    {
      schema: {
        tags: TAG,
        operationId: 'getVenueCalendarFeed',
        summary: 'A citizen’s reservations as an iCalendar feed, by its feed key (`…ics`)',
        security: [],
        params: Type.Object({ key: Type.String({ minLength: 1, maxLength: 100, description: '`{citizenId}.{mac}.ics`' }) }),
        response: { ...Ics, ...problemResponses(404) },
      },
    },
    async (req, reply) => {
      const citizenId = calendars.citizenOfKey(req.params.key.replace(/\.ics$/, ''));
      return reply.headers(ics('reservations')).send(await calendars.citizenFeed({ id: citizenId }));
    },
  );

  app.get(
    '/v1/venues/:id/utilisation',
    {
      preValidation: authorize(...REGION_STAFF),
      schema: {
        tags: TAG,
        operationId: 'getVenueUtilisation',
        summary: 'Capacity offered, seats reserved and checked in, no-show rate and reservation utilisation, per venue, room and weekday × hour (region staff)',
        security: BEARER,
        params: IdParams,
        querystring: Type.Object({ from: DateTime, to: DateTime, roomId: Type.Optional(Uuid) }),
        response: { 200: ref(UtilisationSchema), ...problemResponses(403, 404, 422) },
      },
    },
    async (req) => utilisation.of({ venueId: req.params.id, ...req.query }, { actor: requireActor(req) }),
  );
}

export const reportSchemas = [FiguresSchema, UtilisationSchema, StandingSchema];
