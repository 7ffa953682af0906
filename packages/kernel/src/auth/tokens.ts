import { webcrypto } from 'node:crypto';
import { createRemoteJWKSet, jwtVerify, SignJWT, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { DomainError } from '../errors.js';
import { REGION_CODE } from '../core/regions.js';
import type { Role } from './roles.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** How bearer tokens are verified: a shared secret (HS256, development) or a JWKS URL (production). */
export interface AuthConfig {
  /** HS256 secret, at least 32 characters. For development and tests. */
  readonly secret?: string | undefined;
  /** URL of the identity provider's JSON Web Key Set; RS256/ES256 tokens are verified against it. */
  readonly jwksUrl?: string | undefined;
  /** Expected `iss` claim, when set. */
  readonly issuer?: string | undefined;
  /** Expected `aud` claim, when set. */
  readonly audience?: string | undefined;
  /**
   * How long a verified token is remembered in this process, in seconds (default 60; 0:
   * verify every request), never past its `exp`. The signature check is a third or more
   * of an authenticated cached read's CPU. The cost: a token verified with a key later
   * removed from the JWKS is still accepted for up to this long.
   */
  readonly tokenCacheSeconds?: number | undefined;
}

/** The claims Diandan reads from a token. */
export interface TokenClaims {
  readonly sub: string;
  /** The token's roles; the deployment's role registry decides which are known. */
  readonly roles: readonly Role[];
  /** Home region code. */
  readonly region: string;
  readonly unit?: string | undefined;
  readonly supplier?: string | undefined;
}

/** Verifies a compact JWT and returns its Diandan claims; throws `INVALID_TOKEN` (401) otherwise. */
export type TokenVerifier = (token: string) => Promise<TokenClaims>;

export function createTokenVerifier(config: AuthConfig): TokenVerifier {
  // Tokens must expire: a leaked token without `exp` would be valid for ever.
  const options = {
    requiredClaims: ['exp'],
    ...(config.issuer ? { issuer: config.issuer } : {}),
    ...(config.audience ? { audience: config.audience } : {}),
  };
  let verify: (token: string) => Promise<JWTPayload>;
  if (config.jwksUrl) {
    const keys: JWTVerifyGetKey = createRemoteJWKSet(new URL(config.jwksUrl));
    const asymmetric = { ...options, algorithms: ['RS256', 'ES256', 'EdDSA'] };
    verify = async (token) => (await jwtVerify(token, keys, asymmetric)).payload;
  } else if (config.secret) {
    // Imported once: given the secret's bytes, jose imports them through WebCrypto on
    // every verification (its `rawKey`), about a third of a cached request's CPU; a
    // CryptoKey it uses as it is. (JWKS keys are imported once per key by jose already.)
    const key = hmacKey(config.secret);
    const hs256 = { ...options, algorithms: ['HS256'] };
    verify = async (token) => (await jwtVerify(token, await key, hs256)).payload;
  } else {
    verify = async () => {
      throw new Error('this deployment has no auth configured');
    };
  }
  const cacheMs = (config.tokenCacheSeconds ?? 60) * 1000;
  const verified = new Map<string, { claims: TokenClaims; until: number }>();
  /** The token's claims and when it expires (ms), or INVALID_TOKEN. */
  const check = async (token: string): Promise<{ claims: TokenClaims; expiresAt: number }> => {
    let payload: JWTPayload;
    try {
      payload = await verify(token);
    } catch (error) {
      throw new DomainError('unauthenticated', 'INVALID_TOKEN', `The bearer token was refused: ${(error as Error).message}`);
    }
    const roles = Array.isArray(payload.roles) ? payload.roles.filter((r): r is string => typeof r === 'string' && r.length <= 100) : [];
    if (typeof payload.sub !== 'string' || typeof payload.region !== 'string' || roles.length === 0) {
      throw new DomainError('unauthenticated', 'INVALID_TOKEN', 'The bearer token lacks `sub`, `region` or `roles`');
    }
    // Claims end up in queries: refuse shapes no record can have instead of failing in the database.
    const malformed = [
      payload.sub.includes('\u0000') && 'sub',
      !REGION_CODE.test(payload.region) && 'region',
      typeof payload.unit === 'string' && !UUID.test(payload.unit) && 'unit',
      typeof payload.supplier === 'string' && !UUID.test(payload.supplier) && 'supplier',
    ].filter(Boolean);
    if (malformed.length) throw new DomainError('unauthenticated', 'INVALID_TOKEN', `The bearer token has a malformed ${malformed.join(', ')} claim`);
    const claims: TokenClaims = {
      sub: payload.sub,
      roles,
      region: payload.region,
      unit: typeof payload.unit === 'string' ? payload.unit : undefined,
      supplier: typeof payload.supplier === 'string' ? payload.supplier : undefined,
    };
    return { claims, expiresAt: (payload.exp ?? 0) * 1000 };
  };
  if (cacheMs <= 0) return async (token) => (await check(token)).claims;
  // Only tokens that passed every check are kept (refused ones would let anyone fill the
  // cache), each until the earlier of its `exp` and the cache's lifetime; bounded by
  // dropping everything when full, as the library cache does.
  return async (token) => {
    const now = Date.now();
    const hit = verified.get(token);
    if (hit && now < hit.until) return hit.claims;
    const { claims, expiresAt } = await check(token);
    if (verified.size >= MAX_CACHED_TOKENS) verified.clear();
    verified.set(token, { claims, until: Math.min(expiresAt, now + cacheMs) });
    return claims;
  };
}

const MAX_CACHED_TOKENS = 10_000;

/** The HS256 verification key for a secret, as a non-extractable CryptoKey. */
function hmacKey(secret: string): Promise<webcrypto.CryptoKey> {
  const key = webcrypto.subtle.importKey('raw', new TextEncoder().encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['verify']);
  // Awaited by every verification; this only keeps a failure from being reported as unhandled.
  key.catch(() => {});
  return key;
}

/** Signs an HS256 token — for development tools and tests, never for production logins. */
export async function signDevelopmentToken(
  secret: string,
  claims: TokenClaims,
  options: { expiresIn?: string; issuer?: string; audience?: string } = {},
): Promise<string> {
  let jwt = new SignJWT({ roles: [...claims.roles], region: claims.region, unit: claims.unit, supplier: claims.supplier })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(claims.sub)
    .setIssuedAt()
    .setExpirationTime(options.expiresIn ?? '8h');
  if (options.issuer) jwt = jwt.setIssuer(options.issuer);
  if (options.audience) jwt = jwt.setAudience(options.audience);
  return jwt.sign(new TextEncoder().encode(secret));
}
