import { fileURLToPath } from 'node:url';
import { Type, definePlugin, extension, kernel, type Actor, type PluginOptions } from '@diandan/kernel';
import { VenueDetails } from './details.js';
import { detailRoutes, detailSchemas } from './routes/details.js';

const config = Type.Object({
  /** Load the shipped 2026 and 2027 holiday calendars for years the deployment has none of. */
  seedCalendars: Type.Boolean({ default: true }),
});

const VenueSummary = Type.Object({
  networkRole: Type.Union([Type.Enum(['main', 'branch']), Type.Null()]),
  mainVenueId: Type.Union([Type.String({ format: 'uuid' }), Type.Null()]),
  rooms: Type.Integer(),
});

/** Venues (场馆): rooms, equipment, opening hours with China's holiday calendar, sessions, reservations, waiting lists, check-in. */
export const venuesPlugin = definePlugin({
  name: 'venues',
  version: '0.1.0',
  kernel: '^0.1.0',
  deps: { kernel },
  config,
  db: { schema: 'venues', migrations: fileURLToPath(new URL('../drizzle', import.meta.url)) },
  schemas: [...detailSchemas],
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
    const details = new VenueDetails(ctx.db, ctx.deps.kernel, readAll);
    return { details };
  },

  extensions: (_ctx, { details }) => [
    // The network role and room count on every kernel venue read, a page in one query.
    extension('venue', { schema: VenueSummary, load: (venues, { db }) => details.profiles(venues.map((v) => v.id), db) }),
  ],

  async ready(ctx, { details }) {
    if (ctx.config.seedCalendars) await details.seedCalendars(await ctx.systemActor({ roles: ['city-admin'] }));
  },

  routes: (app, ctx, { details }) => {
    detailRoutes(app, details, ctx.db);
  },
});

/** The factory a deployment calls: `plugins: [venues()]`. */
export const venues = (options: PluginOptions<typeof config> = {}) => venuesPlugin.configure(options);
