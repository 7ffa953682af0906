import {
  BEARER,
  FileResponses,
  IdempotencyKeyHeader,
  Type,
  UploadBodySchema,
  authorize,
  model,
  problemResponses,
  readIdempotencyKey,
  readUpload,
  ref,
  requireActor,
  sendFile,
  type DiandanApp,
} from '@diandan/kernel';
import type { ProductMediaLibrary } from '../product-media.js';

export const ProductMediaSchema = model(
  'ProductMediaFile',
  Type.Object({
    fileId: Type.String({ format: 'uuid' }),
    productId: Type.String({ format: 'uuid' }),
    kind: Type.Enum(['image', 'video', 'document'], { description: 'From the content type sniffed from the bytes' }),
    contentType: Type.String(),
    name: Type.String({ description: 'The uploader’s file name, only ever shown' }),
    size: Type.Integer(),
    sha256: Type.String(),
    caption: Type.Union([Type.String(), Type.Null()]),
    position: Type.Integer({ description: 'Display order, in upload order; the first image is the cover' }),
    url: Type.String({ description: 'Download path (public once the product is listed)' }),
    createdAt: Type.String({ format: 'date-time' }),
  }),
);

/** On every kernel product read (`extensions['supplier-registry'].media`). */
export const ProductMediaSummarySchema = Type.Object({
  count: Type.Integer(),
  cover: Type.Union([ref(ProductMediaSchema), Type.Null()], { description: 'The first image in display order, else the first file' }),
});

const ProductParams = Type.Object({ id: Type.String({ format: 'uuid' }) });
const MediaParams = Type.Object({ id: Type.String({ format: 'uuid' }), fileId: Type.String({ format: 'uuid' }) });
const OPTIONAL_BEARER = [{}, ...BEARER];

/** Product media (产品展示素材): the product's supplier uploads them; anyone sees them once the product is listed. */
export function mediaRoutes(app: DiandanApp, media: ProductMediaLibrary, maxBytes: number): void {
  app.post(
    '/v1/products/:id/media',
    {
      preValidation: authorize('supplier'),
      schema: {
        tags: ['supplier-registry'],
        operationId: 'uploadProductMedia',
        summary: 'Upload a photo, video or programme PDF of a product (its supplier, while the product is draft, rejected or delisted)',
        description:
          'multipart/form-data: an optional `caption` text field, then one `file` field. The type is decided from the bytes (`415 FILE_TYPE_NOT_ALLOWED`), the size is limited (`413 FILE_TOO_LARGE`), the name is only ever shown. A listed or submitted product is `409 PRODUCT_NOT_EDITABLE` (delist it first, as for its content); more than the configured number of files is `409 PRODUCT_MEDIA_LIMIT`. With `Idempotency-Key`, a retry stores nothing and answers the first upload (`idempotent-replayed: true`).',
        security: BEARER,
        params: ProductParams,
        headers: IdempotencyKeyHeader,
        body: UploadBodySchema,
        response: { 201: ref(ProductMediaSchema), ...problemResponses(400, 403, 404, 409, 413, 415, 422) },
      },
    },
    async (req, reply) => {
      const actor = requireActor(req);
      // Who may upload is decided before the bytes are read; the upload checks it again under the product's lock.
      await media.editable(undefined, req.params.id, actor);
      const idempotencyKey = readIdempotencyKey(req);
      const { data, name, fields } = await readUpload(req, { maxBytes });
      const caption = fields.caption?.trim().slice(0, 200) || undefined;
      const { media: file, replayed } = await media.upload({ productId: req.params.id, data, name, caption, idempotencyKey }, { actor, requestId: req.id });
      if (replayed) reply.header('idempotent-replayed', 'true');
      return reply.code(201).send(file);
    },
  );

  app.get(
    '/v1/products/:id/media',
    {
      schema: {
        tags: ['supplier-registry'],
        operationId: 'listProductMedia',
        summary: 'A product’s media files in display order (anyone once it is listed; before that its supplier and curators)',
        security: OPTIONAL_BEARER,
        params: ProductParams,
        response: { 200: Type.Object({ items: Type.Array(ref(ProductMediaSchema)) }), ...problemResponses(404) },
      },
    },
    async (req) => ({ items: await media.list(req.params.id, req.actor) }),
  );

  app.get(
    '/v1/products/:id/media/:fileId',
    {
      schema: {
        tags: ['supplier-registry'],
        operationId: 'downloadProductMedia',
        summary: 'A product’s media file, shown inline (anyone once the product is listed; before that its supplier and curators)',
        security: OPTIONAL_BEARER,
        params: MediaParams,
        response: {
          ...FileResponses,
          ...problemResponses(404),
        },
      },
    },
    async (req, reply) => {
      const { file, stream, public: isPublic } = await media.open(req.params.id, req.params.fileId, req.actor);
      return sendFile(reply, file, stream, { inline: true, public: isPublic });
    },
  );

  app.delete(
    '/v1/products/:id/media/:fileId',
    {
      preValidation: authorize('supplier'),
      schema: {
        tags: ['supplier-registry'],
        operationId: 'removeProductMedia',
        summary: 'Remove a product’s media file (its supplier, while the product is draft, rejected or delisted)',
        security: BEARER,
        params: MediaParams,
        response: { 204: { description: 'Removed', type: 'null' }, ...problemResponses(400, 403, 404, 409, 413, 415) },
      },
    },
    async (req, reply) => {
      await media.remove({ productId: req.params.id, fileId: req.params.fileId }, { actor: requireActor(req), requestId: req.id });
      return reply.code(204).send(null);
    },
  );
}
