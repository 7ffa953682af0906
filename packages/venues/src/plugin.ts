import { fileURLToPath } from 'node:url';
import { Type, definePlugin, extension, kernel, kernelReady, on, orderScheduled, type Actor, type PluginOptions, type Transaction } from '@diandan/kernel';
import { demandSignalled, surveyPlugin } from '@diandan/survey';
import { CalendarFeeds } from './calendars.js';
import { CheckInService } from './check-in.js';
import { CitizenService } from './citizens.js';
import { seedVenuesDemo } from './demo.js';
import { DemandSignals } from './demand.js';
import { NoShowService } from './no-shows.js';
import { HoursProposals } from './proposals.js';
import { ReminderService } from './reminders.js';
import { proposalRoutes, proposalSchemas } from './routes/proposals.js';
import { doorRoutes, doorSchemas } from './routes/door.js';
import { reportRoutes, reportSchemas } from './routes/reports.js';
import { TicketSigner } from './tickets.js';
import { UtilisationReport } from './utilisation.js';
import { VenueDetails } from './details.js';
import { ReservationService } from './reservations.js';
import { detailRoutes, detailSchemas } from './routes/details.js';
import { guardCitizenRoutes, sessionRoutes, sessionSchemas } from './routes/sessions.js';
import { SessionService } from './sessions.js';

const config = Type.Object({
  /** Seed synthetic venues, hours, sessions and reservations (the Guangzhou demo) once the deployment is ready. */
  demo: Type.Boolean({ default: false }),
  /** Load the shipped 2026 and 2027 holiday calendars for years the deployment has none of. */
  seedCalendars: Type.Boolean({ default: true }),
  /** Session defaults (each session may set its own). */
  sessions: Type.Object(
    {
      checkInOpensMinutes: Type.Integer({ minimum: 0, maximum: 1440, default: 60 }),
      checkInClosesMinutes: Type.Integer({ minimum: 0, maximum: 1440, default: 30 }),
      cancelUntilMinutes: Type.Integer({ minimum: 0, maximum: 10080, default: 120 }),
      perCitizenLimit: Type.Integer({ minimum: 1, maximum: 100, default: 4 }),
      /** Booking of a programme session opens this many days before its start (or now, if later). */
      bookingOpensDays: Type.Integer({ minimum: 0, maximum: 365, default: 14 }),
      /** Sessions made from scheduled orders start at this local time on the scheduled day. */
      orderSessionStart: Type.String({ pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$', default: '19:30' }),
    },
    { default: {} },
  ),
  reservations: Type.Object(
    {
      maxGroupSeats: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
      monthlyLimit: Type.Integer({ minimum: 1, maximum: 1000, default: 8 }),
      offerHoldMinutes: Type.Integer({ minimum: 1, maximum: 10080, default: 120 }),
      offerCloseMinutesBeforeStart: Type.Integer({ minimum: 0, maximum: 1440, default: 30 }),
      minOfferMinutes: Type.Integer({ minimum: 1, maximum: 1440, default: 10 }),
      /** How often due offers are swept (cron, Asia/Shanghai), besides each offer's own timed job. */
      sweepSchedule: Type.String({ default: '* * * * *' }),
    },
    { default: {} },
  ),
  noShows: Type.Object(
    {
      /** Unclaimed seats are released this long after a session's check-in window closes. */
      graceMinutes: Type.Integer({ minimum: 0, maximum: 1440, default: 15 }),
      /** This many no-shows within `periodDays` block booking for `blockDays`. */
      blockAfter: Type.Integer({ minimum: 1, maximum: 100, default: 3 }),
      periodDays: Type.Integer({ minimum: 1, maximum: 366, default: 90 }),
      blockDays: Type.Integer({ minimum: 1, maximum: 366, default: 30 }),
      /** How often due sessions' no-shows are released (cron, Asia/Shanghai). */
      sweepSchedule: Type.String({ default: '*/5 * * * *' }),
    },
    { default: {} },
  ),
  demand: Type.Object(
    {
      /** How often closed sessions' unserved waiting lists are counted and signalled to the survey (cron, Asia/Shanghai). */
      sweepSchedule: Type.String({ default: '*/10 * * * *' }),
    },
    { default: {} },
  ),
  reminders: Type.Object(
    {
      /** Each confirmed ticket's holder is reminded this long before the session. */
      minutesBefore: Type.Integer({ minimum: 5, maximum: 10080, default: 1440 }),
      /** How often due reminders are sent (cron, Asia/Shanghai). */
      sweepSchedule: Type.String({ default: '*/5 * * * *' }),
      /** Log reminders (phone masked) when no sender is plugged in: development only. */
      developmentSender: Type.Boolean({ default: false }),
    },
    { default: {} },
  ),
  hoursProposals: Type.Object(
    {
      /** A last opening hour booked at least this much, with a waiting list, is proposed an hour longer. */
      busyBookingRate: Type.Number({ minimum: 0, maximum: 1, default: 0.9 }),
      /** A first opening hour checked in less than this is proposed an hour later. */
      idleUtilisation: Type.Number({ minimum: 0, maximum: 1, default: 0.2 }),
      latestClose: Type.String({ pattern: '^([01][0-9]|2[0-3]):00$', default: '22:00' }),
      windowDays: Type.Integer({ minimum: 1, maximum: 366, default: 28 }),
    },
    { default: {} },
  ),
  otp: Type.Object(
    {
      /** Log codes (with the phone masked) instead of sending them: development only. */
      developmentSender: Type.Boolean({ default: false }),
      codeTtlSeconds: Type.Integer({ minimum: 30, maximum: 3600, default: 300 }),
      maxAttempts: Type.Integer({ minimum: 1, maximum: 20, default: 5 }),
      codesPerHour: Type.Integer({ minimum: 1, maximum: 100, default: 5 }),
      tokenTtlHours: Type.Integer({ minimum: 1, maximum: 720, default: 24 }),
      /** A verified citizen token is remembered in-process this long (0: checked in the database on every request). */
      tokenCacheSeconds: Type.Integer({ minimum: 0, maximum: 300, default: 30 }),
    },
    { default: {} },
  ),
});

const VenueSummary = Type.Object({
  networkRole: Type.Union([Type.Enum(['main', 'branch']), Type.Null()]),
  mainVenueId: Type.Union([Type.String({ format: 'uuid' }), Type.Null()]),
  rooms: Type.Integer(),
});

/** The message of the development sender's log line: the only line that may carry a code. */
export const DEVELOPMENT_CODE_MESSAGE = 'venues: development one-time code';

/** Venues (场馆): rooms, equipment, opening hours with China's holiday calendar, sessions, reservations, waiting lists, check-in. */
export const venuesPlugin = definePlugin({
  name: 'venues',
  version: '0.1.0',
  kernel: '^0.1.0',
  deps: { kernel },
  // Waiting-list demand goes to the survey when it is installed; without it, nothing is signalled.
  optionalDeps: { survey: surveyPlugin },
  config,
  db: { schema: 'venues', migrations: fileURLToPath(new URL('../drizzle', import.meta.url)) },
  schemas: [...detailSchemas, ...sessionSchemas, ...doorSchemas, ...reportSchemas, ...proposalSchemas],
  tags: [{ name: 'venues', description: 'Venues’ rooms, equipment, opening hours, sessions, reservations, waiting lists and check-in' }],
  contributes: {
    venueKinds: [
      { key: 'main-library', name: '总馆（图书馆）', nameEn: 'Main library' },
      { key: 'branch-library', name: '分馆（图书馆）', nameEn: 'Branch library' },
      { key: 'street-station', name: '街道（乡镇）综合文化站', nameEn: 'Street cultural station' },
      { key: 'new-cultural-space', name: '新型公共文化空间', nameEn: 'New cultural space' },
    ],
  },

  init(ctx) {
    let reader: Promise<Actor> | undefined;
    // Public reads (details, opening hours, sessions) see every venue of the deployment.
    const readAll = () => (reader ??= ctx.systemActor({ roles: ['city-admin'] }));
    // One clock for every service (tests and simulations move it).
    const clock = { now: () => new Date() };
    const now = () => clock.now();
    const details = new VenueDetails(ctx.db, ctx.deps.kernel, readAll, now);
    const sessions = new SessionService(ctx.db, ctx.deps.kernel, details, ctx.config.sessions, readAll, now);
    const citizens = new CitizenService(ctx.db, ctx.deps.kernel.personalData, ctx.config.otp, now);
    if (ctx.config.otp.developmentSender) {
      citizens.useSender({
        send: async ({ phoneMasked, code }) => ctx.log.info({ phone: phoneMasked, otp: code }, DEVELOPMENT_CODE_MESSAGE),
      });
    }
    // Keys derived from the deployment's secret (the personal-data key): the same on every process.
    const signer = new TicketSigner(Buffer.from(ctx.deps.kernel.personalData.hash('venues-ticket-signing', 'ed25519-seed'), 'hex'));
    const reservations = new ReservationService(ctx.db, ctx.config.reservations, signer, now);
    const checkIns = new CheckInService(ctx.db, reservations, signer, now);
    const noShows = new NoShowService(ctx.db, reservations, ctx.config.noShows, now);
    const calendars = new CalendarFeeds(ctx.db, details, Buffer.from(ctx.deps.kernel.personalData.hash('venues-calendar-feed', 'feed-key'), 'hex'), now);
    const utilisation = new UtilisationReport(ctx.db, details);
    const releaseNoShows = ctx.jobs.define('release-no-shows', async () => ({ released: await noShows.releaseDue() }));
    const demand = new DemandSignals(ctx.db, now);
    if (ctx.deps.survey) demand.publish = (tx, signals) => ctx.hooks.publish(tx as Transaction, demandSignalled, { source: ctx.name, signals });
    const signalDemand = ctx.jobs.define('signal-demand', async () => ({ sessions: (await demand.signalDue()).length }));
    const reminders = new ReminderService(ctx.db, citizens, ctx.config.reminders, now);
    if (ctx.config.reminders.developmentSender) {
      reminders.useSender({
        send: async ({ reservationId, startsAt, phoneMasked }) => ctx.log.info({ reservationId, startsAt, phone: phoneMasked }, 'venues: development reminder'),
      });
    }
    const sendReminders = ctx.jobs.define('send-reminders', async () => ({ sent: await reminders.sendDue() }));
    const proposals = new HoursProposals(ctx.db, ctx.hooks, details, utilisation, ctx.config.hoursProposals, now);
    const lapseOffer = ctx.jobs.define<{ entryId: number }>('lapse-offer', async (job) => ({ lapsed: await reservations.lapse(job.data.entryId) }));
    const sweepOffers = ctx.jobs.define('sweep-offers', async () => ({ lapsed: await reservations.lapseDue() }));
    const notifyOffer = ctx.jobs.define<{ entryId: number; expiresAt: string }>('notify-offer', async (job) => {
      // The development notifier: a deployment's push/SMS plugin would send it.
      job.log.info({ entryId: job.data.entryId, expiresAt: job.data.expiresAt }, 'venues: waiting-list offer');
      return { notified: true };
    });
    reservations.effects = {
      offered: async (tx, { id, expiresAt }) => {
        await ctx.jobs.send(lapseOffer, { entryId: id }, { startAfter: new Date(expiresAt.getTime() + 1000), tx: tx as Transaction });
        await ctx.jobs.send(notifyOffer, { entryId: id, expiresAt: expiresAt.toISOString() }, { tx: tx as Transaction });
      },
    };
    return { clock, details, sessions, citizens, reservations, checkIns, noShows, calendars, utilisation, signer, demand, reminders, proposals, lapseOffer, sweepOffers, releaseNoShows, signalDemand, sendReminders };
  },

  hooks: (ctx, services) => [
    ...(ctx.config.demo
      ? [
          // After every plugin's `ready` (the demo-data plugin seeds the regions there).
          on(kernelReady, async () => {
            try {
              await seedVenuesDemo(ctx, services);
            } catch (error) {
              ctx.log.error({ err: error }, 'the venues demo could not be seeded');
            }
          }),
        ]
      : []),
    // A scheduled order becomes a session; durable: none is lost, each made once.
    on(orderScheduled, async ({ order }, { eventId }) => void (await services.sessions.fromOrder(eventId, order, await ctx.systemActor({ roles: ['city-admin'] }))), { durable: true, name: 'order-sessions' }),
  ],

  extensions: (_ctx, { details }) => [
    // The network role and room count on every kernel venue read, a page in one query.
    extension('venue', { schema: VenueSummary, load: (venues, { db }) => details.profiles(venues.map((v) => v.id), db) }),
  ],

  async ready(ctx, { details, sweepOffers, releaseNoShows, signalDemand, sendReminders }) {
    if (ctx.config.seedCalendars) await details.seedCalendars(await ctx.systemActor({ roles: ['city-admin'] }));
    await ctx.jobs.schedule(sweepOffers, ctx.config.reservations.sweepSchedule, {}, { tz: 'Asia/Shanghai' });
    await ctx.jobs.schedule(releaseNoShows, ctx.config.noShows.sweepSchedule, {}, { tz: 'Asia/Shanghai' });
    await ctx.jobs.schedule(signalDemand, ctx.config.demand.sweepSchedule, {}, { tz: 'Asia/Shanghai' });
    await ctx.jobs.schedule(sendReminders, ctx.config.reminders.sweepSchedule, {}, { tz: 'Asia/Shanghai' });
  },

  routes: (app, ctx, { details, sessions, citizens, reservations, checkIns, noShows, calendars, utilisation, signer, proposals }) => {
    guardCitizenRoutes(app, citizens);
    detailRoutes(app, details, ctx.db);
    sessionRoutes(app, { sessions, citizens, reservations }, ctx.db);
    doorRoutes(app, { citizens, reservations, checkIns, signer }, ctx.db);
    reportRoutes(app, { citizens, noShows, calendars, utilisation });
    proposalRoutes(app, proposals, ctx.db);
  },
});

/** The factory a deployment calls: `plugins: [venues()]`. */
export const venues = (options: PluginOptions<typeof config> = {}) => venuesPlugin.configure(options);
