import { signDevelopmentToken, type Role } from '@diandan/kernel';

/** The HS256 secret `createTestServer` configures unless a test passes its own `auth`. */
export const TEST_AUTH_SECRET = 'diandan-test-secret-0123456789abcdef';

/**
 * Who a test request comes from: the claims of its bearer token. `region` is the home
 * region code (it must exist in the test database, at the level the role is signed
 * at, when the token is used).
 */
export interface Who {
  readonly roles: readonly Role[];
  readonly region: string;
  readonly sub?: string | undefined;
  readonly unit?: string | undefined;
  readonly supplier?: string | undefined;
}

/** A bearer token for a test user. */
export async function testToken(claims: Who): Promise<string> {
  return signDevelopmentToken(TEST_AUTH_SECRET, {
    sub: claims.sub ?? `${claims.roles[0]}@${claims.region}`,
    roles: claims.roles,
    region: claims.region,
    unit: claims.unit,
    supplier: claims.supplier,
  });
}

/** `{ authorization: 'Bearer …' }` for `app.inject({ headers })`. */
export async function authHeader(claims: Who): Promise<{ authorization: string }> {
  return { authorization: `Bearer ${await testToken(claims)}` };
}
