import { fileURLToPath } from 'node:url';
import { Type, categoryList, definePlugin, filter, kernel, on, regionsImported, type PluginOptions } from '@diandan/kernel';
import { noticeRoutes, NoticeSchema } from './routes/notices.js';
import { NoticeService } from './service.js';

const config = Type.Object({
  /** Put in front of every notice. */
  greeting: Type.String({ default: '你好' }),
  /** Category keys to hide from `GET /v1/categories`. */
  hideCategories: Type.Array(Type.String(), { default: [] }),
});

/** The plugin definition: one metadata object for the whole package. */
export const noticeBoardPlugin = definePlugin({
  name: 'notice-board',
  version: '0.1.0',
  kernel: '^0.1.0',
  config,
  db: { schema: 'notice_board', migrations: fileURLToPath(new URL('../drizzle', import.meta.url)) },
  schemas: [NoticeSchema],
  tags: [{ name: 'notices', description: 'Notices for the residents of a region (公告)' }],

  init(ctx) {
    const { regions } = ctx.services.get(kernel);
    return new NoticeService(ctx.db, regions, ctx.hooks, ctx.config.greeting);
  },

  hooks: (ctx) => [
    on(regionsImported, ({ created }) => {
      ctx.log.info({ created }, 'regions imported');
    }),
    filter(categoryList, (items) => items.filter((c) => !ctx.config.hideCategories.includes(c.key))),
  ],

  routes: (app, _ctx, notices) => noticeRoutes(app, notices),
});

/** The factory a deployment calls: `plugins: [noticeBoard({ greeting: '各位居民' })]`. */
export const noticeBoard = (options: PluginOptions<typeof config> = {}) => noticeBoardPlugin.configure(options);
