import { signDevelopmentToken, type Role } from '@diandan/kernel';

/** The HS256 secret `createTestServer` configures unless a test passes its own `auth`. */
export const TEST_AUTH_SECRET = 'diandan-test-secret-0123456789abcdef';

/**
 * A bearer token for a test user. `region` is the home region code (it must exist in
 * the test database when the token is used).
 */
export async function testToken(claims: {
  roles: Role[];
  region: string;
  sub?: string;
  unit?: string;
  supplier?: string;
}): Promise<string> {
  return signDevelopmentToken(TEST_AUTH_SECRET, { sub: claims.sub ?? `${claims.roles[0]}@${claims.region}`, ...claims });
}

/** `{ authorization: 'Bearer …' }` for `app.inject({ headers })`. */
export async function authHeader(claims: Parameters<typeof testToken>[0]): Promise<{ authorization: string }> {
  return { authorization: `Bearer ${await testToken(claims)}` };
}
