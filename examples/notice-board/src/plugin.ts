import { fileURLToPath } from 'node:url';
import { Type, categoryList, definePlugin, extension, filter, kernel, on, regionsImported, type PluginOptions } from '@diandan/kernel';
import { noticeRoutes, NoticeSchema } from './routes/notices.js';
import { NoticeService } from './service.js';

const config = Type.Object({
  /** Put in front of every notice. */
  greeting: Type.String({ default: '你好' }),
  /** Category keys to hide from `GET /v1/categories`. */
  hideCategories: Type.Array(Type.String(), { default: [] }),
  /** Notices older than this many days are deleted by the daily clean-up job. */
  keepDays: Type.Integer({ minimum: 1, default: 90 }),
});

/** The plugin definition: one metadata object for the whole package. */
export const noticeBoardPlugin = definePlugin({
  name: 'notice-board',
  version: '0.1.0',
  kernel: '^0.1.0',
  deps: { kernel },
  config,
  db: { schema: 'notice_board', migrations: fileURLToPath(new URL('../drizzle', import.meta.url)) },
  schemas: [NoticeSchema],
  tags: [{ name: 'notices', description: 'Notices for the residents of a region (公告)' }],

  init(ctx) {
    const notices = new NoticeService(ctx.db, ctx.deps.kernel, ctx.hooks, ctx.config.greeting);
    const cleanUp = ctx.jobs.define('clean-up', async () => ({ deleted: await notices.purge(ctx.config.keepDays) }));
    return { notices, cleanUp };
  },

  hooks: (ctx) => [
    on(regionsImported, ({ created }) => {
      ctx.log.info({ created }, 'regions imported');
    }),
    filter(categoryList, (items) => items.filter((c) => !ctx.config.hideCategories.includes(c.key))),
  ],

  // Units show their region's newest notice: `extensions['notice-board']` on every unit read,
  // loaded for a whole page of units with one query.
  extensions: (_ctx, { notices }) => [
    extension('unit', {
      schema: Type.Object({ latest: Type.String(), count: Type.Integer({ description: 'Notices of the unit’s region' }) }),
      load: (units, { db }) => notices.latestFor(units, db),
    }),
  ],

  // Every night at 03:30, once across all processes.
  ready: (ctx, { cleanUp }) => ctx.jobs.schedule(cleanUp, '30 3 * * *', {}),

  routes: (app, ctx, { notices }) => noticeRoutes(app, notices, ctx.db),
});

/** The factory a deployment calls: `plugins: [noticeBoard({ greeting: '各位居民' })]`. */
export const noticeBoard = (options: PluginOptions<typeof config> = {}) => noticeBoardPlugin.configure(options);
