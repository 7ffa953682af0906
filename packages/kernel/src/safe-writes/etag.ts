import type { FastifyReply, FastifyRequest } from 'fastify';
import Type from 'typebox';
import { DomainError, ProblemCodes } from '../errors.js';

/** The `If-Match` request header of an update, for route schemas. */
export const IfMatchHeader = Type.Object({ 'if-match': Type.Optional(Type.String({ description: 'The ETag you read' })) });

/**
 * Optimistic concurrency for stateful records: every read sends `ETag: "v<version>"`,
 * every update must send it back in `If-Match`. The update itself checks the version
 * in its WHERE clause, so of two racing writers exactly one wins.
 */
export function etagOf(version: number): string {
  return `"v${version}"`;
}

/** Sets the ETag header of a response for a record at `version`. */
export function sendVersion(reply: FastifyReply, version: number): void {
  reply.header('etag', etagOf(version));
}

/**
 * The version the client says it is updating, from `If-Match`. Missing → 428
 * PRECONDITION_REQUIRED; not one of our ETags → 412 PRECONDITION_FAILED.
 */
export function expectedVersion(request: FastifyRequest): number {
  const header = request.headers['if-match'];
  if (!header) {
    throw new DomainError(
      'precondition_required',
      ProblemCodes.PRECONDITION_REQUIRED,
      'Send the record’s ETag in If-Match to update it (read it first)',
    );
  }
  const match = /^(?:W\/)?"v(\d{1,9})"$/.exec(header.trim());
  if (!match) throw stale();
  return Number(match[1]);
}

/** The error for an update whose If-Match no longer matches. */
export function stale(): DomainError {
  return new DomainError(
    'precondition_failed',
    ProblemCodes.PRECONDITION_FAILED,
    'The record changed since you read it; read it again and retry',
  );
}
