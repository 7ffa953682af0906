import multipart from '@fastify/multipart';
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import type { Readable } from 'node:stream';
import Type from 'typebox';
import { DomainError, ProblemCodes } from '../errors.js';
import { sendProblem } from '../http/problem.js';
import type { StoredFile } from './files.js';

/** Marks a body schema as an upload (see `UploadBodySchema`). */
const UPLOAD = 'x-diandan-upload';
/** Where an upload route's body schema is kept for the OpenAPI document only (Fastify does not parse multipart into `body`). */
export const UPLOAD_BODY_KEY = 'x-diandan-upload-body';

/**
 * The body of an upload route: `multipart/form-data` with one `file` field. Put it in
 * `schema.body`; the kernel documents it as multipart in `/openapi.json` and leaves the
 * parsing to `readUpload(request)` in the handler (the body is not validated as JSON).
 */
export const UploadBodySchema = Type.Object(
  {
    file: Type.String({ format: 'binary', contentMediaType: 'application/octet-stream', description: 'The file; its type is decided from its contents' }),
  },
  { [UPLOAD]: true, description: 'multipart/form-data with a single `file` field' },
);

/** Whether a route's body is an upload. */
function isUploadBody(body: unknown): boolean {
  return typeof body === 'object' && body !== null && (body as Record<string, unknown>)[UPLOAD] === true;
}

/**
 * For the server's `onRoute` hook: an upload route's body schema moves out of
 * Fastify's validation (kept for the OpenAPI document) and the route is marked as one
 * that takes multipart bodies.
 */
export function prepareUploadRoute(route: RouteOptions): void {
  const body = route.schema?.body;
  if (!isUploadBody(body)) return;
  const { body: _ignored, ...rest } = route.schema!;
  route.schema = { ...rest, [UPLOAD_BODY_KEY]: body } as RouteOptions['schema'];
  route.config = { ...(route.config as object), diandanUpload: true } as RouteOptions['config'];
}

/** For @fastify/swagger's `transform`: documents an upload route's body as `multipart/form-data`. */
export function documentUploadRoute<T extends { schema: Record<string, unknown> }>(route: T): T {
  const upload = route.schema?.[UPLOAD_BODY_KEY];
  if (!upload) return route;
  const { [UPLOAD_BODY_KEY]: _kept, ...rest } = route.schema;
  const { [UPLOAD]: _mark, ...body } = upload as Record<string, unknown>;
  return { ...route, schema: { ...rest, body, consumes: ['multipart/form-data'] } };
}

/**
 * Registers @fastify/multipart with bounded limits (one file, a few small fields), and
 * refuses multipart bodies on every route that is not an upload route (415, as before).
 */
export async function registerUploads(app: FastifyInstance, maxBytes: number): Promise<void> {
  await app.register(multipart, {
    limits: { fileSize: maxBytes + 1, files: 1, fields: 20, fieldSize: 64 * 1024, parts: 21, headerPairs: 200 },
    throwFileSizeLimit: true,
  });
  app.addHook('preValidation', async (request: FastifyRequest, reply: FastifyReply) => {
    if (request.isMultipart() && !(request.routeOptions.config as { diandanUpload?: boolean } | undefined)?.diandanUpload) {
      return sendProblem(reply, 415, ProblemCodes.UNSUPPORTED_MEDIA_TYPE, 'This route does not take multipart/form-data bodies.');
    }
  });
}

/**
 * Reads the `file` field of a `multipart/form-data` request (an upload route, with
 * `schema.body: UploadBodySchema`): its contents as a stream, to pass on to
 * `files.save`, and the client's file name. The stream stops at `maxBytes` + 1 bytes
 * (default the deployment's `files.maxBytes`), so `save` refuses an oversize file
 * without reading all of it. `fields` holds the text fields sent before the file (send
 * them first: the file's stream is handed on unread, so a field after it may not have
 * arrived yet). `415` when the body is not multipart, `400 FILE_MISSING` when it has no
 * `file`.
 */
export async function readUpload(request: FastifyRequest, options: { maxBytes?: number } = {}): Promise<{ data: Readable | Buffer; name: string; fields: Readonly<Record<string, string>> }> {
  if (!request.isMultipart()) {
    throw new DomainError('unsupported_media_type', ProblemCodes.UNSUPPORTED_MEDIA_TYPE, 'Send the file as multipart/form-data, in a field named `file`.');
  }
  const maxBytes = options.maxBytes ?? request.server.diandan.services.files.maxBytes;
  let part: Awaited<ReturnType<FastifyRequest['file']>>;
  try {
    part = await request.file({ limits: { fileSize: maxBytes + 1, files: 1, fields: 20, fieldSize: 64 * 1024, parts: 21, headerPairs: 200 } });
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'FST_REQ_FILE_TOO_LARGE') throw new DomainError('too_large', ProblemCodes.FILE_TOO_LARGE, `The file is larger than ${maxBytes} bytes.`, { maxBytes });
    if (code === 'FST_PARTS_LIMIT' || code === 'FST_FIELDS_LIMIT' || code === 'FST_FILES_LIMIT') {
      throw new DomainError('too_large', 'PAYLOAD_TOO_LARGE', 'The form has too many parts: send one `file` field.');
    }
    throw new DomainError('bad_request', ProblemCodes.MALFORMED_BODY, 'The multipart body is malformed.');
  }
  if (!part) throw new DomainError('bad_request', ProblemCodes.FILE_MISSING, 'The form has no `file` field.');
  if (part.fieldname !== 'file') {
    part.file.resume();
    throw new DomainError('bad_request', ProblemCodes.FILE_MISSING, 'Send the file in a field named `file`.', { field: part.fieldname.slice(0, 64) });
  }
  // Text fields sent before the file (a caption, say), copied now: later ones may or may not have arrived.
  const fields: Record<string, string> = {};
  for (const [key, value] of Object.entries(part.fields)) {
    const field = Array.isArray(value) ? value[0] : value;
    if (field && field.type === 'field' && key !== 'file') fields[key] = String(field.value);
  }
  return { data: part.file, name: part.filename, fields };
}

/** The responses of a route that answers with `sendFile`, for its `schema.response` (add its problems). */
export const FileResponses = {
  200: { description: 'The file, with the content type sniffed from its bytes', content: { 'application/octet-stream': { schema: Type.String({ format: 'binary' }) } } },
  304: { description: 'Not modified (`If-None-Match` named its ETag)', type: 'null' },
} as const;

/** How `sendFile` answers. */
export interface SendFileOptions {
  /**
   * `Content-Disposition: inline` (a browser shows it in the page, e.g. a product's
   * photo) instead of `attachment`. The sandboxing CSP and `nosniff` still apply.
   */
  readonly inline?: boolean | undefined;
  /** Public content (anyone may read it): shared caches may keep it five minutes (`public, max-age=300`) instead of `private, no-cache`. */
  readonly public?: boolean | undefined;
}

/**
 * Sends a stored file as a download: its stored (sniffed) content type, `Content-Length`,
 * `Content-Disposition: attachment` with the name encoded per RFC 6266/5987,
 * `X-Content-Type-Options: nosniff`, a sandboxing `Content-Security-Policy` and
 * `ETag` from its SHA-256 (`If-None-Match` → 304). Authorise the request first: the
 * plugin that owns the file decides who may read it.
 */
export function sendFile(reply: FastifyReply, file: StoredFile, stream: Readable, options: SendFileOptions = {}): FastifyReply {
  const etag = `"${file.sha256}"`;
  reply.header('etag', etag);
  reply.header('cache-control', options.public ? 'public, max-age=300' : 'private, no-cache');
  reply.header('x-content-type-options', 'nosniff');
  reply.header('content-security-policy', "default-src 'none'; sandbox");
  const inm = reply.request.headers['if-none-match'];
  if (typeof inm === 'string' && inm.split(',').some((t) => t.trim().replace(/^W\//, '') === etag)) {
    stream.destroy();
    return reply.code(304).send();
  }
  reply.header('content-type', file.contentType);
  reply.header('content-length', String(file.size));
  reply.header('content-disposition', contentDisposition(file.name, options.inline ? 'inline' : 'attachment'));
  return reply.send(stream);
}

/** `attachment; filename="<ASCII fallback>"; filename*=UTF-8''<percent-encoded>` (RFC 6266, RFC 5987). */
export function contentDisposition(name: string, type: 'attachment' | 'inline' = 'attachment'): string {
  const fallback = name.replace(/[^\x20-\x7e]/g, '_').replace(/["\\%]/g, '_') || 'file';
  const encoded = encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `${type}; filename="${fallback}"; filename*=UTF-8''${encoded}`;
}
