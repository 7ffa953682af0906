import type { FastifyInstance, FastifyRequest } from 'fastify';
import { DomainError, forbidden, ProblemCodes } from '../errors.js';
import type { AccessService } from './access.js';
import type { Actor } from './actor.js';
import { hasRole } from './actor.js';
import type { Role } from './roles.js';
import type { TokenVerifier } from './tokens.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Who is calling, from a verified bearer token; null for anonymous requests. */
    actor: Actor | null;
  }
}

/** OpenAPI `security` for routes that need a bearer token. */
export const BEARER = [{ bearerAuth: [] }];

/**
 * Reads `Authorization: Bearer …` on every request. A missing header leaves the
 * request anonymous (routes decide whether that is enough); a bad token is a 401
 * whatever the route, and so is one whose claims break the deployment's rules (see
 * `AccessService.fromClaims`).
 */
export function registerAuthentication(app: FastifyInstance, verify: TokenVerifier, access: AccessService): void {
  app.decorateRequest('actor', null);
  app.addHook('onRequest', async (request) => {
    const header = request.headers.authorization;
    if (!header) return;
    const [scheme, token] = header.split(' ');
    if (scheme?.toLowerCase() !== 'bearer' || !token) {
      throw new DomainError('unauthenticated', ProblemCodes.INVALID_TOKEN, 'Authorization must be `Bearer <token>`');
    }
    request.actor = await access.fromClaims(await verify(token));
  });
}

/** The caller, or a 401 when the request carries no token. */
export function requireActor(request: FastifyRequest): Actor {
  if (!request.actor) throw new DomainError('unauthenticated', ProblemCodes.UNAUTHENTICATED, 'This route needs a bearer token');
  return request.actor;
}

/**
 * A route hook that admits only callers holding one of `roles` (401 without a token,
 * 403 without the role). Use it as `preValidation`, so that who may call is decided
 * before what was sent is checked: an anonymous caller learns nothing from a 400.
 */
export function authorize(...roles: Role[]): (request: FastifyRequest) => Promise<void> {
  return async (request) => {
    const actor = requireActor(request);
    if (roles.length > 0 && !hasRole(actor, roles)) {
      throw forbidden(`This action needs one of the roles: ${roles.join(', ')}`);
    }
  };
}
