import {
  BEARER,
  FileResponses,
  IdempotencyKeyHeader,
  StoredFileSchema,
  Type,
  UploadBodySchema,
  authorize,
  problemResponses,
  readIdempotencyKey,
  readUpload,
  ref,
  requireActor,
  sendFile,
  type DiandanApp,
} from '@diandan/kernel';
import { REVIEWER_ROLES, type SupplierRegistry } from '../registry.js';

const IdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });
const FileParams = Type.Object({ id: Type.String({ format: 'uuid' }), fileId: Type.String({ format: 'uuid' }) });

/** Qualification files: uploaded by the applicant, downloaded by whoever may see the application. */
export function fileRoutes(app: DiandanApp, registry: SupplierRegistry, maxFileBytes: number): void {
  app.post(
    '/v1/supplier-applications/:id/files',
    {
      preValidation: authorize('supplier'),
      schema: {
        tags: ['supplier-registry'],
        operationId: 'uploadSupplierFile',
        summary: 'Upload a qualification file (PDF, PNG or JPEG; the applicant) — then name it in a qualification’s `fileId`',
        description:
          'multipart/form-data with one `file` field. The type is decided from the bytes (`415 FILE_TYPE_NOT_ALLOWED`), the size is limited (`413 FILE_TOO_LARGE`), the name is only ever shown. With `Idempotency-Key`, a retry stores nothing and answers the first upload (`idempotent-replayed: true`); the same key with other bytes is `422 IDEMPOTENCY_KEY_REUSED`.',
        security: BEARER,
        params: IdParams,
        headers: IdempotencyKeyHeader,
        body: UploadBodySchema,
        response: { 201: ref(StoredFileSchema), ...problemResponses(400, 403, 404, 409, 413, 415, 422) },
      },
    },
    async (req, reply) => {
      const actor = requireActor(req);
      // Who may upload is decided before the bytes are read; the registry checks it again.
      await registry.get(req.params.id, { actor });
      const idempotencyKey = readIdempotencyKey(req);
      const { data, name } = await readUpload(req, { maxBytes: maxFileBytes });
      const { file, replayed } = await registry.addFile({ id: req.params.id, data, name, idempotencyKey }, { actor, requestId: req.id });
      if (replayed) reply.header('idempotent-replayed', 'true');
      return reply.code(201).send(file);
    },
  );

  app.get(
    '/v1/supplier-applications/:id/files/:fileId',
    {
      preValidation: authorize('supplier', ...REVIEWER_ROLES),
      schema: {
        tags: ['supplier-registry'],
        operationId: 'downloadSupplierFile',
        summary: 'Download a qualification file (the applicant, the supplier, reviewers and admins of its region)',
        security: BEARER,
        params: FileParams,
        response: {
          ...FileResponses,
          ...problemResponses(403, 404),
        },
      },
    },
    async (req, reply) => {
      const { file, stream } = await registry.openFile({ id: req.params.id, fileId: req.params.fileId }, { actor: requireActor(req) });
      return sendFile(reply, file, stream);
    },
  );
}
