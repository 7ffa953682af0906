import {
  BEARER,
  IdempotencyKeyHeader,
  IfMatchHeader,
  REGION_STAFF,
  Type,
  authorize,
  expectedVersion,
  idempotentWrite,
  model,
  problemResponses,
  ref,
  requireActor,
  sendVersion,
  type Database,
  type DiandanApp,
} from '@diandan/kernel';
import type { VenueDetails } from '../details.js';
import { Day, DateTime, IdParams, ListQuery, Nullable, TAG, Text, Time, Uuid } from './common.js';

export const RoomSchema = model('VenueRoom', Type.Object({ id: Uuid, venueId: Uuid, name: Type.String(), capacity: Type.Integer() }));
export const EquipmentSchema = model(
  'VenueEquipment',
  Type.Object({ id: Uuid, venueId: Uuid, roomId: Nullable(Uuid), name: Type.String(), kind: Type.String({ description: 'e.g. projector, piano, sound-system' }), quantity: Type.Integer() }),
);
// An [opens, closes] pair. Not Type.Tuple: its draft-07 `items: [...]` is not valid in OpenAPI 3.1.
const IntervalSchema = Type.Unsafe<[string, string]>(Type.Array(Time, { minItems: 2, maxItems: 2, description: '[opens, closes], HH:MM' }));
const WeeklySchema = Type.Object({ weekday: Type.Integer({ minimum: 1, maximum: 7, description: '1 = Monday … 7 = Sunday' }), opens: Time, closes: Time });
export const ProfileSchema = model(
  'VenueProfile',
  Type.Object({
    venueId: Uuid,
    networkRole: Nullable(Type.Enum(['main', 'branch'], { description: '总馆 / 分馆 of the main-and-branch network (总分馆制)' })),
    mainVenueId: Nullable(Uuid),
    description: Type.String(),
    onHoliday: Type.Enum(['closed', 'weekly', 'sunday'], { description: 'Hours on a public holiday: closed, its weekday’s, or Sunday’s' }),
    onMakeUpDay: Type.Enum(['weekly', 'workday'], { description: 'Hours on a make-up working day (调休): its own weekday’s, or those of the weekday it stands in for' }),
    version: Type.Integer({ description: '0 until first written' }),
  }),
);
const DayHoursSchema = Type.Object({
  day: Day,
  weekday: Type.Integer(),
  intervals: Type.Array(IntervalSchema),
  rule: Type.Enum(['weekly', 'exception', 'holiday', 'make-up-day']),
  note: Nullable(Type.String()),
});
export const OpeningSchema = model(
  'VenueOpening',
  Type.Object({
    at: DateTime,
    open: Type.Boolean(),
    nextChange: Nullable(Type.Object({ at: DateTime, to: Type.Enum(['open', 'closed']) })),
    today: DayHoursSchema,
    days: Type.Array(DayHoursSchema),
  }),
);
const CalendarDaySchema = Type.Object({
  day: Day,
  kind: Type.Enum(['holiday', 'workday'], { description: 'holiday: 放假; workday: a weekend day worked (调休上班)' }),
  name: Text(50),
  asWeekday: Type.Optional(Type.Integer({ minimum: 1, maximum: 5, description: 'A make-up day works as this weekday; default Monday' })),
});
export const CalendarSchema = model('VenueHolidayCalendar', Type.Object({ year: Type.Integer(), source: Type.String(), days: Type.Array(CalendarDaySchema) }));
const UseSchema = Type.Object({ id: Type.Integer(), equipmentId: Uuid, sessionId: Nullable(Uuid), usedOn: Day, hours: Type.Integer(), purpose: Type.String(), recordedBy: Type.String(), createdAt: DateTime });
const ChangeSchema = Type.Object({ id: Type.Integer(), venueId: Uuid, changedBy: Type.String(), reason: Type.String(), before: Type.Unknown(), after: Type.Unknown(), changedAt: DateTime });
const Year = Type.Object({ year: Type.Integer({ minimum: 2000, maximum: 2100 }) });

export function detailRoutes(app: DiandanApp, details: VenueDetails, db: Database): void {
  app.get(
    '/v1/venues/:id/details',
    {
      schema: {
        tags: TAG,
        operationId: 'getVenueDetails',
        summary: 'A venue’s network role, rooms, equipment and weekly hours (public)',
        security: [],
        params: IdParams,
        response: {
          200: Type.Object({ profile: ref(ProfileSchema), rooms: Type.Array(ref(RoomSchema)), equipment: Type.Array(ref(EquipmentSchema)), weekly: Type.Array(WeeklySchema) }),
          ...problemResponses(404),
        },
      },
    },
    async (req, reply) => {
      const venue = await details.venue(req.params.id, {});
      const [profile, rooms, equipment, weekly] = await Promise.all([details.profile(venue.id), details.rooms(venue.id), details.equipment(venue.id), details.weekly(venue.id)]);
      sendVersion(reply, profile.version);
      return { profile, rooms, equipment, weekly };
    },
  );

  app.put(
    '/v1/venues/:id/profile',
    {
      preValidation: authorize(...REGION_STAFF),
      schema: {
        tags: TAG,
        operationId: 'setVenueProfile',
        summary: 'Set a venue’s network role and holiday rules (region staff of its subtree)',
        security: BEARER,
        params: IdParams,
        headers: IfMatchHeader,
        body: Type.Object({
          networkRole: Type.Optional(Nullable(Type.Enum(['main', 'branch']))),
          mainVenueId: Type.Optional(Nullable(Uuid)),
          description: Type.Optional(Text(2000, 0)),
          onHoliday: Type.Optional(Type.Enum(['closed', 'weekly', 'sunday'])),
          onMakeUpDay: Type.Optional(Type.Enum(['weekly', 'workday'])),
        }),
        response: { 200: ref(ProfileSchema), ...problemResponses(403, 404, 412, 422, 428) },
      },
    },
    async (req, reply) => {
      const profile = await details.setProfile({ venueId: req.params.id, expectedVersion: expectedVersion(req), ...req.body }, { actor: requireActor(req), requestId: req.id });
      sendVersion(reply, profile.version);
      return profile;
    },
  );

  app.put(
    '/v1/venues/:id/hours',
    {
      preValidation: authorize(...REGION_STAFF),
      schema: {
        tags: TAG,
        operationId: 'setVenueHours',
        summary: 'Replace a venue’s weekly opening hours; kept in its history (If-Match: the profile’s version)',
        security: BEARER,
        params: IdParams,
        headers: IfMatchHeader,
        body: Type.Object({ weekly: Type.Array(WeeklySchema, { maxItems: 28 }), reason: Text(500) }),
        response: { 200: ref(ProfileSchema), ...problemResponses(403, 404, 412, 422, 428) },
      },
    },
    async (req, reply) => {
      const profile = await details.setWeekly({ venueId: req.params.id, expectedVersion: expectedVersion(req), ...req.body }, { actor: requireActor(req), requestId: req.id });
      sendVersion(reply, profile.version);
      return profile;
    },
  );

  app.put(
    '/v1/venues/:id/hour-exceptions/:day',
    {
      preValidation: authorize(...REGION_STAFF),
      schema: {
        tags: TAG,
        operationId: 'setVenueHourException',
        summary: 'Set one day’s exception: a closure (`intervals: []`), special hours, or none (`intervals: null`)',
        security: BEARER,
        params: Type.Object({ id: Uuid, day: Day }),
        body: Type.Object({ intervals: Nullable(Type.Array(IntervalSchema, { maxItems: 4 })), reason: Text(500) }),
        response: { 200: Type.Object({ day: Day, intervals: Nullable(Type.Array(IntervalSchema)), reason: Type.String() }), ...problemResponses(403, 404, 422) },
      },
    },
    async (req) => details.setException({ venueId: req.params.id, day: req.params.day, intervals: req.body.intervals as [string, string][] | null, reason: req.body.reason }, { actor: requireActor(req), requestId: req.id }),
  );

  app.get(
    '/v1/venues/:id/opening',
    {
      schema: {
        tags: TAG,
        operationId: 'getVenueOpening',
        summary: 'Open now (or at `at`), the next change, and the coming days’ hours (public)',
        security: [],
        params: IdParams,
        querystring: Type.Object({ at: Type.Optional(DateTime), days: Type.Optional(Type.Integer({ minimum: 1, maximum: 31, default: 7 })) }),
        response: { 200: ref(OpeningSchema), ...problemResponses(404) },
      },
    },
    async (req) => details.opening({ venueId: req.params.id, at: req.query.at ? new Date(req.query.at) : undefined, days: req.query.days }),
  );

  app.get(
    '/v1/venues/:id/hour-changes',
    {
      preValidation: authorize(...REGION_STAFF),
      schema: {
        tags: TAG,
        operationId: 'listVenueHourChanges',
        summary: 'The history of a venue’s opening-hours changes, newest first',
        security: BEARER,
        params: IdParams,
        querystring: ListQuery,
        response: { 200: Type.Object({ items: Type.Array(ChangeSchema) }), ...problemResponses(403, 404) },
      },
    },
    async (req) => ({ items: await details.history({ venueId: req.params.id, limit: req.query.limit ?? 50, after: req.query.before }, { actor: requireActor(req) }) }),
  );

  app.post(
    '/v1/venues/:id/rooms',
    {
      preValidation: authorize(...REGION_STAFF),
      schema: {
        tags: TAG,
        operationId: 'addVenueRoom',
        summary: 'Add a room with its capacity',
        security: BEARER,
        params: IdParams,
        headers: IdempotencyKeyHeader,
        body: Type.Object({ name: Text(100), capacity: Type.Integer({ minimum: 1, maximum: 100000 }) }),
        response: { 201: ref(RoomSchema), ...problemResponses(403, 404, 422) },
      },
    },
    async (req, reply) =>
      idempotentWrite(db, req, reply, async (tx) => ({ status: 201, body: await details.addRoom({ venueId: req.params.id, ...req.body }, { actor: requireActor(req), tx, requestId: req.id }) })),
  );

  app.post(
    '/v1/venues/:id/equipment',
    {
      preValidation: authorize(...REGION_STAFF),
      schema: {
        tags: TAG,
        operationId: 'addVenueEquipment',
        summary: 'Add a facility or piece of equipment',
        security: BEARER,
        params: IdParams,
        headers: IdempotencyKeyHeader,
        body: Type.Object({ name: Text(100), kind: Text(50), quantity: Type.Optional(Type.Integer({ minimum: 1, maximum: 10000 })), roomId: Type.Optional(Nullable(Uuid)) }),
        response: { 201: ref(EquipmentSchema), ...problemResponses(403, 404, 422) },
      },
    },
    async (req, reply) =>
      idempotentWrite(db, req, reply, async (tx) => ({ status: 201, body: await details.addEquipment({ venueId: req.params.id, ...req.body }, { actor: requireActor(req), tx, requestId: req.id }) })),
  );

  app.post(
    '/v1/venue-equipment/:id/uses',
    {
      preValidation: authorize(...REGION_STAFF),
      schema: {
        tags: TAG,
        operationId: 'recordEquipmentUse',
        summary: 'Record a use of a piece of equipment (设施设备使用记录)',
        security: BEARER,
        params: IdParams,
        headers: IdempotencyKeyHeader,
        body: Type.Object({ usedOn: Day, hours: Type.Integer({ minimum: 1, maximum: 24 }), purpose: Text(500), sessionId: Type.Optional(Nullable(Uuid)) }),
        response: { 201: UseSchema, ...problemResponses(403, 404, 422) },
      },
    },
    async (req, reply) =>
      idempotentWrite(db, req, reply, async (tx) => ({ status: 201, body: await details.recordUse({ equipmentId: req.params.id, ...req.body }, { actor: requireActor(req), tx, requestId: req.id }) })),
  );

  app.get(
    '/v1/venue-equipment/:id/uses',
    {
      preValidation: authorize(...REGION_STAFF),
      schema: {
        tags: TAG,
        operationId: 'listEquipmentUses',
        summary: 'The use record of a piece of equipment, newest first, with totals',
        security: BEARER,
        params: IdParams,
        querystring: ListQuery,
        response: { 200: Type.Object({ items: Type.Array(UseSchema), total: Type.Object({ uses: Type.Integer(), hours: Type.Integer() }) }), ...problemResponses(403, 404) },
      },
    },
    async (req) => details.uses({ equipmentId: req.params.id, limit: req.query.limit ?? 50, after: req.query.before }, { actor: requireActor(req) }),
  );

  app.get(
    '/v1/venue-holidays/:year',
    {
      schema: {
        tags: TAG,
        operationId: 'getVenueHolidayCalendar',
        summary: 'A year’s public holidays and make-up working days (调休) (public)',
        security: [],
        params: Year,
        response: { 200: ref(CalendarSchema), ...problemResponses(404) },
      },
    },
    async (req) => details.calendar(req.params.year),
  );

  app.put(
    '/v1/venue-holidays/:year',
    {
      preValidation: authorize('city-admin'),
      schema: {
        tags: TAG,
        operationId: 'setVenueHolidayCalendar',
        summary: 'Replace a year’s holiday calendar (city administrators)',
        security: BEARER,
        params: Year,
        body: Type.Object({ source: Text(500), days: Type.Array(CalendarDaySchema, { maxItems: 366 }) }),
        response: { 200: ref(CalendarSchema), ...problemResponses(403, 422) },
      },
    },
    async (req) => details.setCalendar({ year: req.params.year, ...req.body }, { actor: requireActor(req), requestId: req.id }),
  );
}

export const detailSchemas = [RoomSchema, EquipmentSchema, ProfileSchema, OpeningSchema, CalendarSchema];
