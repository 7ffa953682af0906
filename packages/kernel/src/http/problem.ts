import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import Type, { type Static } from 'typebox';
import { DomainError, type DomainErrorKind } from '../errors.js';
import { databaseErrorCode, isDatabaseUnavailable } from '../db/availability.js';
import { model } from './schemas.js';

/** RFC 9457 problem details, as every error response of the API is shaped. */
export const ProblemSchema = model(
  'Problem',
  Type.Object(
  {
    type: Type.String({ description: 'URI naming the problem type: `urn:diandan:problem:<code>`' }),
    title: Type.String({ description: 'Short summary of the problem type' }),
    status: Type.Integer({ description: 'HTTP status code' }),
    code: Type.String({ description: 'Stable machine-readable code, e.g. `VALIDATION_FAILED`' }),
    detail: Type.Optional(Type.String({ description: 'What went wrong in this occurrence' })),
    instance: Type.Optional(Type.String({ description: 'The request path' })),
    requestId: Type.Optional(Type.String({ description: 'Quote this when reporting an unexpected error' })),
    details: Type.Optional(
      Type.Object({}, { additionalProperties: true, description: 'Machine-readable facts about this occurrence' }),
    ),
    errors: Type.Optional(
      Type.Array(
        Type.Object({
          field: Type.String({ description: 'Where: `body.title`, `querystring.limit`, `params.code`' }),
          message: Type.String(),
        }),
        { description: 'Each invalid field, for validation errors' },
      ),
    ),
  },
  { description: 'RFC 9457 problem details (application/problem+json)' },
  ),
);
export type Problem = Static<typeof ProblemSchema>;

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad request',
  401: 'Unauthenticated',
  403: 'Forbidden',
  404: 'Not found',
  405: 'Method not allowed',
  406: 'Not acceptable',
  408: 'Request timeout',
  409: 'Conflict',
  412: 'Precondition failed',
  413: 'Payload too large',
  415: 'Unsupported media type',
  422: 'Unprocessable content',
  428: 'Precondition required',
  429: 'Too many requests',
  500: 'Internal server error',
  503: 'Service unavailable',
};

/** Problem responses for a route's schema: `response: { 200: …, ...problemResponses(404) }`. */
export function problemResponses(...statuses: number[]) {
  const all = [...new Set([400, ...statuses, 500])].sort();
  return Object.fromEntries(
    all.map((status) => [
      status,
      {
        description: STATUS_TEXT[status] ?? 'Error',
        content: { [PROBLEM_CONTENT_TYPE]: { schema: Type.Unsafe<Problem>(Type.Ref('Problem')) } },
      },
    ]),
  ) as Record<number, { description: string; content: { [PROBLEM_CONTENT_TYPE]: { schema: ReturnType<typeof Type.Unsafe<Problem>> } } }>;
}

/** The problem details of a response (for hooks that must return a payload rather than send it). */
export function problemBody(
  url: string,
  status: number,
  code: string,
  detail: string,
  extra: Partial<Pick<Problem, 'errors' | 'requestId' | 'details'>> = {},
): Problem {
  return {
    type: `urn:diandan:problem:${code.toLowerCase().replaceAll('_', '-')}`,
    title: STATUS_TEXT[status] ?? 'Error',
    status,
    code,
    detail,
    instance: url.split('?')[0]!,
    ...extra,
  };
}

/** Sends a problem+json response. */
export function sendProblem(
  reply: FastifyReply,
  status: number,
  code: string,
  detail: string,
  extra: Partial<Pick<Problem, 'errors' | 'requestId' | 'details'>> = {},
): FastifyReply {
  const problem = problemBody(reply.request.url, status, code, detail, extra);
  if (status === 401) reply.header('www-authenticate', 'Bearer');
  return reply.code(status).type(PROBLEM_CONTENT_TYPE).send(problem);
}

/** Seconds a client is told to wait (`Retry-After`) when the database is unavailable. */
export const DATABASE_RETRY_AFTER_SECONDS = 1;

/**
 * `503 DATABASE_UNAVAILABLE` with `Retry-After`: the database cannot be reached (down,
 * restarting, its connection lost). Nothing may be assumed about a write that got it:
 * retry it with the same `Idempotency-Key` (or re-read before an `If-Match` update).
 */
export function sendDatabaseUnavailable(reply: FastifyReply): FastifyReply {
  reply.header('retry-after', String(DATABASE_RETRY_AFTER_SECONDS));
  return sendProblem(
    reply,
    503,
    'DATABASE_UNAVAILABLE',
    'The database is unavailable. Retry after the Retry-After delay; retry a write with the same Idempotency-Key.',
    { requestId: String(reply.request.id) },
  );
}

const KIND_STATUS: Record<DomainErrorKind, number> = {
  bad_request: 400,
  invalid: 422,
  not_found: 404,
  conflict: 409,
  forbidden: 403,
  unauthenticated: 401,
  precondition_failed: 412,
  precondition_required: 428,
  too_large: 413,
  unsupported_media_type: 415,
};

// Fastify's own client errors, given stable codes of ours.
const FASTIFY_CODES: Record<string, string> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'MALFORMED_BODY',
  FST_ERR_CTP_INVALID_JSON_BODY: 'MALFORMED_BODY',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'MALFORMED_BODY',
  // @fastify/multipart's, for uploads (files/http.ts turns most into domain errors first).
  FST_REQ_FILE_TOO_LARGE: 'FILE_TOO_LARGE',
  FST_FILES_LIMIT: 'PAYLOAD_TOO_LARGE',
  FST_PARTS_LIMIT: 'PAYLOAD_TOO_LARGE',
  FST_FIELDS_LIMIT: 'PAYLOAD_TOO_LARGE',
  FST_PROTO_VIOLATION: 'MALFORMED_BODY',
};

type ValidationItem = NonNullable<FastifyError['validation']>[number];

function fieldOf(context: string | undefined, v: ValidationItem): string {
  const params = v.params as Record<string, unknown>;
  const segments = (v.instancePath ?? '').split('/').filter(Boolean);
  if (typeof params.missingProperty === 'string') segments.push(params.missingProperty);
  if (typeof params.additionalProperty === 'string') segments.push(params.additionalProperty);
  return [context ?? 'body', ...segments].join('.');
}

/**
 * Turns every error into problem+json: schema-validation errors name each field,
 * domain errors keep their code, and anything unexpected becomes a 500 with a
 * request id — logged in full, never shown to the client.
 */
export function registerProblemHandlers(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    if (error.validation) {
      const errors = error.validation.map((v) => ({
        field: fieldOf(error.validationContext, v),
        message: v.params && (v.params as { additionalProperty?: string }).additionalProperty ? 'is not a known property' : (v.message ?? 'is invalid'),
      }));
      return sendProblem(
        reply,
        400,
        'VALIDATION_FAILED',
        errors.map((e) => `${e.field} ${e.message}`).join('; '),
        { errors },
      );
    }
    if (error instanceof DomainError) {
      return sendProblem(reply, KIND_STATUS[error.kind], error.code, error.message, error.details ? { details: error.details } : {});
    }
    if (isDatabaseUnavailable(error)) {
      request.log.warn({ err: error, code: databaseErrorCode(error) }, 'database unavailable');
      return sendDatabaseUnavailable(reply);
    }
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      const code = FASTIFY_CODES[error.code] ?? (STATUS_TEXT[status] ?? 'Bad request').toUpperCase().replaceAll(' ', '_');
      return sendProblem(reply, status, code, error.message);
    }
    request.log.error({ err: error }, 'unexpected error');
    return sendProblem(reply, 500, 'INTERNAL_ERROR', `An unexpected error occurred. Quote request id ${request.id} when reporting it.`, {
      requestId: String(request.id),
    });
  });

  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, 404, 'ROUTE_NOT_FOUND', `No route ${request.method} ${request.url.split('?')[0]}`),
  );
}
