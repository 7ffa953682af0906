import { Page, PageQuery, Type, model, problemResponses, ref, type DiandanApp } from '@diandan/kernel';
import type { NoticeService } from '../service.js';

/** The shared model, registered once through `definePlugin({ schemas })`. */
export const NoticeSchema = model(
  'Notice',
  Type.Object({
    id: Type.Integer(),
    regionCode: Type.String(),
    body: Type.String(),
    createdAt: Type.String({ format: 'date-time' }),
  }),
);

const NoticePage = Page(ref(NoticeSchema), 'NoticePage');

/** Thin HTTP wrappers over the service. */
export function noticeRoutes(app: DiandanApp, notices: NoticeService): void {
  app.post(
    '/v1/notices',
    {
      schema: {
        tags: ['notices'],
        operationId: 'createNotice',
        summary: 'Post a notice for a region',
        security: [],
        body: Type.Object(
          { regionCode: Type.String(), body: Type.String({ minLength: 1, maxLength: 200 }) },
          { additionalProperties: false },
        ),
        response: { 201: ref(NoticeSchema), ...problemResponses(404, 422) },
      },
    },
    async (req, reply) => reply.code(201).send(await notices.post(req.body.regionCode, req.body.body)),
  );

  app.get(
    '/v1/notices',
    {
      schema: {
        tags: ['notices'],
        operationId: 'listNotices',
        summary: 'List the notices of a region, newest first',
        security: [],
        querystring: Type.Object({ ...PageQuery.properties, regionCode: Type.String() }),
        response: { 200: NoticePage, ...problemResponses() },
      },
    },
    async (req) => notices.list(req.query.regionCode, { limit: req.query.limit ?? 50, cursor: req.query.cursor }),
  );
}
