import {
  BEARER,
  IdempotencyKeyHeader,
  Page,
  PageQuery,
  REGION_STAFF,
  Type,
  authorize,
  idempotentWrite,
  model,
  pageRequest,
  problemResponses,
  ref,
  requireActor,
  type Database,
  type DiandanApp,
} from '@diandan/kernel';
import type { NoticeService } from '../service.js';

/** The shared model, registered once through `definePlugin({ schemas })`. */
export const NoticeSchema = model(
  'Notice',
  Type.Object({
    id: Type.Integer(),
    regionCode: Type.String(),
    body: Type.String(),
    postedBy: Type.String({ description: 'The user who posted it, or `system:<plugin>`' }),
    createdAt: Type.String({ format: 'date-time' }),
  }),
);

const NoticePage = Page(ref(NoticeSchema), 'NoticePage');

/** Thin HTTP wrappers over the service: who may call, what comes in, what goes out. */
export function noticeRoutes(app: DiandanApp, notices: NoticeService, db: Database): void {
  app.post(
    '/v1/notices',
    {
      preValidation: authorize(...REGION_STAFF),
      schema: {
        tags: ['notices'],
        operationId: 'createNotice',
        summary: 'Post a notice for a region of your subtree (region staff)',
        security: BEARER,
        headers: IdempotencyKeyHeader,
        body: Type.Object({ regionCode: Type.String({ maxLength: 32 }), body: Type.String({ minLength: 1, maxLength: 200 }) }),
        response: { 201: ref(NoticeSchema), ...problemResponses(403, 404, 422) },
      },
    },
    // A retry with the same Idempotency-Key gets the first answer instead of a second notice.
    async (req, reply) =>
      idempotentWrite(db, req, reply, async (tx) => ({
        status: 201,
        body: await notices.post(req.body, { actor: requireActor(req), tx, requestId: req.id }),
      })),
  );

  app.get(
    '/v1/notices',
    {
      schema: {
        tags: ['notices'],
        operationId: 'listNotices',
        summary: 'List the notices of a region, newest first',
        security: [],
        querystring: Type.Object({ ...PageQuery.properties, regionCode: Type.String({ maxLength: 32 }) }),
        response: { 200: NoticePage, ...problemResponses() },
      },
    },
    async (req) => notices.list({ regionCode: req.query.regionCode, page: pageRequest(req.query) }),
  );
}
