import { createTokenVerifier, ROLES, signDevelopmentToken, type Role } from '@diandan/kernel';
import { authHeader, client, createTestServer, seedRegions, TEST_AUTH_SECRET, type Call, type Who } from '@diandan/testing';
import type { FastifyInstance } from 'fastify';
import { jwtVerify, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

let app: FastifyInstance;
let call: Call;

async function withAuthorization(authorization: string, url = '/v1/units') {
  const res = await app.inject({ method: 'GET', url, headers: { authorization } });
  return { status: res.statusCode, body: res.json() };
}

/** An HS256 token with arbitrary claims (the test helper only signs well-formed ones). */
function rawToken(claims: Record<string, unknown>, options: { secret?: string; alg?: string; exp?: string | number } = {}) {
  const jwt = new SignJWT(claims)
    .setProtectedHeader({ alg: options.alg ?? 'HS256' })
    .setIssuedAt()
    .setExpirationTime(options.exp ?? '1h');
  return jwt.sign(new TextEncoder().encode(options.secret ?? TEST_AUTH_SECRET));
}

const cityAdmin: Who = { roles: ['city-admin'], region: '440100', sub: 'matrix-city-admin' };
/** The community the matrix's "home" records are in: every staff role's home region lies above it. */
const HOME = '440103001001';

// Records the matrix reads, one in each district (and one in each street of 440103).
const seeded = {
  unit: { home: '', other: '' },
  venue: { home: '', other: '' },
  supplier: '',
  streetUnits: { own: '', sibling: '' },
  districtUnit: '',
};

beforeAll(async () => {
  app = await createTestServer();
  await seedRegions(app);
  call = client(app);
  const create = async (url: string, payload: object) => {
    const res = await call(cityAdmin, 'POST', url, payload);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body.id as string;
  };
  const unit = (regionCode: string) => create('/v1/units', { regionCode, name: `单位 ${regionCode}`, kind: 'cultural-station' });
  const venue = (regionCode: string) =>
    create('/v1/venues', { regionCode, name: `场馆 ${regionCode}`, kind: 'library', capacity: 80, address: '测试路' });
  seeded.unit = { home: await unit(HOME), other: await unit('440104') };
  seeded.venue = { home: await venue(HOME), other: await venue('440104') };
  seeded.districtUnit = await unit('440103');
  seeded.supplier = await create('/v1/suppliers', { name: '矩阵测试剧团', kind: 'troupe' });
  seeded.streetUnits = { own: await unit('440103001'), sibling: await unit('440103002') };
});
afterAll(() => app?.close());

describe('bearer tokens', () => {
  it('leaves a request without Authorization anonymous: public routes answer, protected ones say 401 UNAUTHENTICATED', async () => {
    expect((await call(null, 'GET', '/health')).status).toBe(200);
    expect((await call(null, 'GET', '/v1/regions')).status).toBe(200);
    for (const url of ['/v1/units', '/v1/venues', '/v1/suppliers', '/v1/audit-log']) {
      const res = await call(null, 'GET', url);
      expect(res.status, url).toBe(401);
      expect(res.contentType).toContain('application/problem+json');
      expect(res.body).toMatchObject({ status: 401, code: 'UNAUTHENTICATED' });
    }
  });

  it('accepts a valid token, whatever the case of the scheme', async () => {
    const token = (await authHeader(cityAdmin)).authorization.slice('Bearer '.length);
    expect((await withAuthorization(`Bearer ${token}`)).status).toBe(200);
    expect((await withAuthorization(`bearer ${token}`)).status).toBe(200);
  });

  it.each([
    ['another scheme', 'Basic dXNlcjpwYXNz'],
    ['a scheme without a token', 'Bearer'],
    ['a scheme with an empty token', 'Bearer '],
    ['no scheme', 'eyJhbGciOiJIUzI1NiJ9.e30.abc'],
    ['a token that is not a JWT', 'Bearer not-a-jwt'],
    ['a JWT with a broken signature', 'Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.AAAA'],
  ])('refuses %s with 401 INVALID_TOKEN', async (_what, authorization) => {
    const res = await withAuthorization(authorization);
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ status: 401, code: 'INVALID_TOKEN' });
  });

  const badTokens: [string, () => Promise<string>][] = [
    ['signed with another secret', () => signDevelopmentToken('another-secret-0123456789abcdef-xyz', { sub: 'x', roles: ['city-admin'], region: '440100' })],
    ['expired', () => signDevelopmentToken(TEST_AUTH_SECRET, { sub: 'x', roles: ['city-admin'], region: '440100' }, { expiresIn: '-1s' })],
    ['signed with HS384 (only HS256 is accepted)', () => rawToken({ sub: 'x', roles: ['city-admin'], region: '440100' }, { alg: 'HS384' })],
    [
      'unsigned (alg none)',
      async () => {
        const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
        return `${part({ alg: 'none' })}.${part({ sub: 'x', roles: ['city-admin'], region: '440100', exp: Math.floor(Date.now() / 1000) + 3600 })}.`;
      },
    ],
    ['carrying only unknown roles', () => rawToken({ sub: 'x', roles: ['mayor', 'citizen'], region: '440100' })],
    ['carrying no roles', () => rawToken({ sub: 'x', roles: [], region: '440100' })],
    ['carrying roles that are not a list', () => rawToken({ sub: 'x', roles: 'city-admin', region: '440100' })],
    ['without a subject', () => rawToken({ roles: ['city-admin'], region: '440100' })],
    ['without a region', () => rawToken({ sub: 'x', roles: ['city-admin'] })],
    ['for a region that does not exist', () => signDevelopmentToken(TEST_AUTH_SECRET, { sub: 'x', roles: ['city-admin'], region: '999999' })],
  ];

  it.each(badTokens)('refuses a token %s with 401 INVALID_TOKEN, on protected and public routes alike', async (_what, make) => {
    const token = await make();
    for (const url of ['/v1/units', '/v1/suppliers', '/v1/audit-log', '/health', '/v1/regions']) {
      const res = await withAuthorization(`Bearer ${token}`, url);
      expect(res.status, url).toBe(401);
      expect(res.body).toMatchObject({ status: 401, code: 'INVALID_TOKEN' });
    }
  });

  it('ignores unknown roles next to known ones: the token acts with the known roles only', async () => {
    const token = await rawToken({ sub: 'mixed', roles: ['mayor', 'reviewer'], region: '440100' });
    const headers = { authorization: `Bearer ${token}` };
    expect((await app.inject({ method: 'GET', url: '/v1/units', headers })).statusCode).toBe(200);
    const post = await app.inject({ method: 'POST', url: '/v1/units', headers, payload: { regionCode: '440103', name: 'x', kind: 'other' } });
    expect(post.statusCode).toBe(403);
    expect(post.json().code).toBe('FORBIDDEN');
  });
});

// ---------------------------------------------------------------------------------
// Authorization matrix. Each staff role signs in at its own level above community
// 440103001001 ("home"): the district admin at 440103, the street operator at
// 440103001, the community operator at 440103001001, the city admin at the city
// 440100 (which covers both districts). The other roles sign in at 440103. "other" is
// the sibling district 440104. For writes the place is the region written to; for
// reads it is the region of a record seeded in beforeAll.
//
// Outcomes: an HTTP status, or for lists `listed` / `hidden` (200, and the record of
// that place is / is not among the items). A single outcome means the route is not
// region-scoped (the supplier directory is city-wide).
// ---------------------------------------------------------------------------------

type Place = 'home' | 'other';
type Outcome = 200 | 201 | 403 | 404 | 'listed' | 'hidden';
type Cell = Outcome | readonly [home: Outcome, other: Outcome];

interface RouteCase {
  /** Sends the request for `place` (ignored by city-wide routes). */
  send(who: Who | null, place: Place): Promise<{ status: number; body: any }>;
  /** The problem code of a 404 on this route. */
  notFound?: string;
  /** For lists: the id whose presence `listed` / `hidden` is about. */
  recordOf?(place: Place): string;
}

const homeRegion = { home: HOME, other: '440104' } as const;
let posted = 0;
const ROUTES = {
  'POST /v1/units': {
    send: (who, place) => call(who, 'POST', '/v1/units', { regionCode: homeRegion[place], name: `矩阵单位 ${++posted}`, kind: 'school' }),
    notFound: 'REGION_NOT_FOUND',
  },
  'GET /v1/units': {
    send: (who) => call(who, 'GET', '/v1/units?limit=200'),
    recordOf: (place) => seeded.unit[place],
  },
  'GET /v1/units/:id': { send: (who, place) => call(who, 'GET', `/v1/units/${seeded.unit[place]}`), notFound: 'UNIT_NOT_FOUND' },
  'POST /v1/venues': {
    send: (who, place) =>
      call(who, 'POST', '/v1/venues', { regionCode: homeRegion[place], name: `矩阵场馆 ${++posted}`, kind: 'square', capacity: 300, address: '广场路' }),
    notFound: 'REGION_NOT_FOUND',
  },
  'GET /v1/venues': {
    send: (who) => call(who, 'GET', '/v1/venues?limit=200'),
    recordOf: (place) => seeded.venue[place],
  },
  'GET /v1/venues/:id': { send: (who, place) => call(who, 'GET', `/v1/venues/${seeded.venue[place]}`), notFound: 'VENUE_NOT_FOUND' },
  'POST /v1/suppliers': { send: (who) => call(who, 'POST', '/v1/suppliers', { name: `矩阵供应商 ${++posted}`, kind: 'individual-artist' }) },
  'GET /v1/suppliers': { send: (who) => call(who, 'GET', '/v1/suppliers?limit=200'), recordOf: () => seeded.supplier },
  'GET /v1/suppliers/:id': { send: (who) => call(who, 'GET', `/v1/suppliers/${seeded.supplier}`) },
  'GET /v1/audit-log': {
    // The audit record of the seeded unit of each place.
    send: (who, place) => call(who, 'GET', `/v1/audit-log?entityType=unit&entityId=${seeded.unit[place]}`),
    recordOf: (place) => seeded.unit[place],
  },
} satisfies Record<string, RouteCase>;
type RouteName = keyof typeof ROUTES;

// Columns follow ROLES: city-admin, district-admin, street-operator, community-operator, unit-operator, supplier, reviewer.
const MATRIX: Record<RouteName, readonly Cell[]> = {
  'POST /v1/units': [[201, 201], [201, 404], [201, 404], [201, 404], 403, 403, 403],
  'GET /v1/units': [['listed', 'listed'], ['listed', 'hidden'], ['listed', 'hidden'], ['listed', 'hidden'], ['listed', 'hidden'], ['listed', 'hidden'], ['listed', 'hidden']],
  'GET /v1/units/:id': [[200, 200], [200, 404], [200, 404], [200, 404], [200, 404], [200, 404], [200, 404]],
  'POST /v1/venues': [[201, 201], [201, 404], [201, 404], [201, 404], 403, 403, 403],
  'GET /v1/venues': [['listed', 'listed'], ['listed', 'hidden'], ['listed', 'hidden'], ['listed', 'hidden'], ['listed', 'hidden'], ['listed', 'hidden'], ['listed', 'hidden']],
  'GET /v1/venues/:id': [[200, 200], [200, 404], [200, 404], [200, 404], [200, 404], [200, 404], [200, 404]],
  'POST /v1/suppliers': [201, 403, 403, 403, 403, 403, 403],
  'GET /v1/suppliers': ['listed', 'listed', 'listed', 'listed', 'listed', 'listed', 'listed'],
  'GET /v1/suppliers/:id': [200, 200, 200, 200, 200, 200, 200],
  'GET /v1/audit-log': [['listed', 'listed'], ['listed', 'hidden'], 403, 403, 403, 403, 403],
};

const STAFF_REGION: Partial<Record<Role, string>> = {
  'city-admin': '440100',
  'district-admin': '440103',
  'street-operator': '440103001',
  'community-operator': HOME,
};
const actorOf = (role: Role): Who => ({ roles: [role], region: STAFF_REGION[role] ?? '440103', sub: `matrix-${role}` });

const cases = (Object.keys(MATRIX) as RouteName[]).flatMap((route) =>
  ROLES.flatMap((role, i) => {
    const cell = MATRIX[route][i]!;
    return Array.isArray(cell)
      ? (['home', 'other'] as const).map((place, j) => ({ route, role, place: place as Place | '-', outcome: cell[j] as Outcome }))
      : [{ route, role, place: '-' as Place | '-', outcome: cell as Outcome }];
  }),
);

describe('authorization matrix', () => {
  it('covers every route for every role', () => {
    for (const cells of Object.values(MATRIX)) expect(cells).toHaveLength(ROLES.length);
  });

  it.each(cases.map((c) => [`${c.route} as ${c.role}${c.place === '-' ? '' : ` (${c.place})`} → ${c.outcome}`, c] as const))('%s', async (_name, { route, role, place, outcome }) => {
    const spec: RouteCase = ROUTES[route];
    const res = await spec.send(actorOf(role), place === '-' ? 'home' : place);
    if (outcome === 'listed' || outcome === 'hidden') {
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      const ids = (res.body.items as { id: string; entityId?: string }[]).map((item) => item.entityId ?? item.id);
      const record = spec.recordOf!(place === '-' ? 'home' : place);
      if (outcome === 'listed') expect(ids).toContain(record);
      else expect(ids).not.toContain(record);
      return;
    }
    expect(res.status, JSON.stringify(res.body)).toBe(outcome);
    if (outcome === 403) expect(res.body.code).toBe('FORBIDDEN');
    if (outcome === 404) expect(res.body.code).toBe(spec.notFound);
  });

  it.each(Object.keys(ROUTES) as RouteName[])('%s without a token → 401 UNAUTHENTICATED', async (route) => {
    const res = await ROUTES[route].send(null, 'home');
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('UNAUTHENTICATED');
  });

  it('never lists a record outside the caller’s subtree, on any page', async () => {
    for (const role of ROLES.filter((r) => r !== 'city-admin')) {
      for (const list of ['/v1/units', '/v1/venues']) {
        const ids: string[] = [];
        let cursor: string | null = null;
        do {
          const page: { status: number; body: any } = await call(actorOf(role), 'GET', `${list}?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
          expect(page.status).toBe(200);
          ids.push(...page.body.items.map((item: { id: string; regionCode: string }) => item.id));
          const home = actorOf(role).region;
          for (const item of page.body.items as { regionCode: string }[]) expect(item.regionCode.startsWith(home), `${role} ${list}`).toBe(true);
          cursor = page.body.nextCursor;
        } while (cursor);
        expect(ids.length).toBeGreaterThan(0);
      }
    }
  });
});

describe('nested scopes below a district', () => {
  const streetOperator: Who = { roles: ['street-operator'], region: '440103001', sub: 'street-op-440103001' };
  const communityOperator: Who = { roles: ['community-operator'], region: '440103001001', sub: 'community-op-440103001001' };

  it('lets a street operator at 440103001 see its street’s units but not its sibling street’s', async () => {
    const list = await call(streetOperator, 'GET', '/v1/units?limit=200');
    const ids = list.body.items.map((u: { id: string }) => u.id);
    expect(ids).toContain(seeded.streetUnits.own);
    expect(ids).not.toContain(seeded.streetUnits.sibling);
    expect(ids).not.toContain(seeded.districtUnit); // the district itself is above the street
    for (const u of list.body.items as { regionCode: string }[]) expect(u.regionCode.startsWith('440103001')).toBe(true);
    expect((await call(streetOperator, 'GET', `/v1/units/${seeded.streetUnits.own}`)).status).toBe(200);
    const sibling = await call(streetOperator, 'GET', `/v1/units/${seeded.streetUnits.sibling}`);
    expect(sibling.status).toBe(404);
    expect(sibling.body.code).toBe('UNIT_NOT_FOUND');
    // Asking for the sibling street's subtree explicitly does not widen the scope.
    expect((await call(streetOperator, 'GET', '/v1/units?region=440103002')).body.items).toEqual([]);
    expect((await call(streetOperator, 'GET', '/v1/units?region=440103')).body.items.map((u: { id: string }) => u.id)).toEqual(
      expect.not.arrayContaining([seeded.streetUnits.sibling, seeded.districtUnit]),
    );
  });

  it.each([
    ['440103001001', 201],
    ['440103001', 201],
    ['440103002', 404],
    ['440103', 404],
    ['440104', 404],
  ] as const)('lets a street operator at 440103001 create a unit in %s → %i', async (regionCode, status) => {
    const res = await call(streetOperator, 'POST', '/v1/units', { regionCode, name: `街道单位 ${regionCode}`, kind: 'other' });
    expect(res.status).toBe(status);
    if (status === 404) expect(res.body.code).toBe('REGION_NOT_FOUND');
  });

  it.each([
    ['440103001001', 201],
    ['440103001002', 404],
    ['440103001', 404],
  ] as const)('lets a community operator at 440103001001 create a venue in %s → %i', async (regionCode, status) => {
    const res = await call(communityOperator, 'POST', '/v1/venues', { regionCode, name: '活动室', kind: 'community-room', capacity: 40, address: '社区路' });
    expect(res.status).toBe(status);
    if (status === 404) expect(res.body.code).toBe('REGION_NOT_FOUND');
  });

  it('answers a region that does not exist exactly like one out of scope', async () => {
    const missing = await call(streetOperator, 'POST', '/v1/units', { regionCode: '440199999', name: 'x', kind: 'other' });
    const outside = await call(streetOperator, 'POST', '/v1/units', { regionCode: '440104', name: 'x', kind: 'other' });
    expect(missing.status).toBe(404);
    expect(outside.status).toBe(404);
    expect(missing.body.code).toBe(outside.body.code);
  });
});

describe('order of checks', () => {
  it('answers who may call before what was sent: 401 and 403 come before 400', async () => {
    const anonymous = await app.inject({ method: 'POST', url: '/v1/units', payload: { kind: 'not-a-kind' } });
    expect(anonymous.statusCode).toBe(401);
    const reviewer = await app.inject({
      method: 'POST',
      url: '/v1/units',
      headers: await authHeader({ roles: ['reviewer'], region: '440100' }),
      payload: { kind: 'not-a-kind' },
    });
    expect(reviewer.statusCode).toBe(403);
  });

  it('refuses a token that never expires', async () => {
    const forever = await new SignJWT({ roles: ['city-admin'], region: '440100' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('no-exp')
      .sign(new TextEncoder().encode(TEST_AUTH_SECRET));
    const res = await app.inject({ url: '/v1/units', headers: { authorization: `Bearer ${forever}` } });
    expect(res.statusCode).toBe(401);
    expect(res.json().code).toBe('INVALID_TOKEN');
  });
});

describe('the level rule: each staff role is signed at its own region level', () => {
  it.each([
    ['city-admin', '440103', 'district'],
    ['district-admin', '440100', 'city'],
    ['district-admin', '440103001', 'street'],
    ['street-operator', '440103', 'district'],
    ['street-operator', '440103001001', 'community'],
    ['community-operator', '440103001', 'street'],
  ] as const)('refuses a %s token signed at %s (a %s) with 401 INVALID_TOKEN', async (role, region, level) => {
    const res = await call({ roles: [role], region, sub: 'misfiled' }, 'GET', '/v1/units');
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ code: 'INVALID_TOKEN', detail: expect.stringContaining(`is a ${level}: the role ${role} is signed at`) });
  });

  it('refuses a token whose roles disagree on the level, and accepts roles without a level anywhere', async () => {
    expect((await call({ roles: ['district-admin', 'street-operator'], region: '440103' }, 'GET', '/v1/units')).status).toBe(401);
    for (const region of ['440100', '440103', '440103001', '440103001001']) {
      for (const role of ['unit-operator', 'supplier', 'reviewer'] as const) {
        expect((await call({ roles: [role], region }, 'GET', '/v1/suppliers')).status, `${role} at ${region}`).toBe(200);
      }
    }
    expect((await call({ roles: ['district-admin', 'reviewer'], region: '440103' }, 'GET', '/v1/units')).status).toBe(200);
  });

  it('shows each role’s level in /v1/deployment', async () => {
    const roles = (await call(null, 'GET', '/v1/deployment')).body.roles as { key: string; level: string | null; source: string }[];
    expect(roles.map((r) => [r.key, r.level])).toEqual([
      ['city-admin', 'city'],
      ['district-admin', 'district'],
      ['street-operator', 'street'],
      ['community-operator', 'community'],
      ['unit-operator', null],
      ['supplier', null],
      ['reviewer', null],
    ]);
    expect(new Set(roles.map((r) => r.source))).toEqual(new Set(['kernel']));
  });
});

describe('the HS256 verifier', () => {
  const claims = { sub: 'v', roles: ['city-admin'] as Role[], region: '440100' };

  it('imports the secret once, not once per verification', async () => {
    const tokens = await Promise.all(Array.from({ length: 5 }, (_, i) => signDevelopmentToken(TEST_AUTH_SECRET, { ...claims, sub: `v${i}` })));
    const importKey = vi.spyOn(globalThis.crypto.subtle, 'importKey');
    try {
      const verify = createTokenVerifier({ secret: TEST_AUTH_SECRET });
      for (const token of tokens) expect((await verify(token)).sub).toMatch(/^v\d$/);
      expect(importKey).toHaveBeenCalledTimes(1);
    } finally {
      importKey.mockRestore();
    }
  });

  it('refuses with the same messages as verifying with the raw secret did', async () => {
    const options = { issuer: 'https://idp.example', audience: 'diandan' };
    const verify = createTokenVerifier({ secret: TEST_AUTH_SECRET, ...options });
    const secret = new TextEncoder().encode(TEST_AUTH_SECRET);
    const signed = (o: { secret?: string; alg?: string; exp?: string | number; iss?: string; aud?: string }) => {
      const jwt = new SignJWT({ ...claims }).setProtectedHeader({ alg: o.alg ?? 'HS256' }).setExpirationTime(o.exp ?? '1h');
      if (o.iss !== undefined) jwt.setIssuer(o.iss);
      if (o.aud !== undefined) jwt.setAudience(o.aud);
      return jwt.sign(new TextEncoder().encode(o.secret ?? TEST_AUTH_SECRET));
    };
    const good = { iss: options.issuer, aud: options.audience };
    const cases = [
      await signed({ ...good, secret: 'another-secret-0123456789abcdef-xyz' }),
      await signed({ ...good, exp: '-1s' }),
      await signed({ ...good, alg: 'HS384' }),
      await signed({ aud: options.audience }),
      await signed({ iss: options.issuer }),
      await signed({ ...good, iss: 'https://other.example' }),
      await new SignJWT({ ...claims }).setProtectedHeader({ alg: 'HS256' }).setIssuer(good.iss).setAudience(good.aud).sign(secret),
      'not-a-jwt',
    ];
    for (const token of cases) {
      const before = await jwtVerify(token, secret, { requiredClaims: ['exp'], ...options, algorithms: ['HS256'] }).then(
        () => 'accepted',
        (error: Error) => `The bearer token was refused: ${error.message}`,
      );
      const now = await verify(token).then(
        () => 'accepted',
        (error: Error) => error.message,
      );
      expect(before).not.toBe('accepted');
      expect(now, token).toBe(before);
    }
    expect((await verify(await signed(good))).sub).toBe('v');
  });
});

describe('the verified-token cache (auth.tokenCacheSeconds)', () => {
  const claims = { sub: 'cached', roles: ['city-admin'], region: '440100' };
  /** Counts the signature checks jose makes through WebCrypto. */
  const countChecks = () => vi.spyOn(globalThis.crypto.subtle, 'verify');

  it('checks a token’s signature once within the cache’s lifetime, every time with 0', async () => {
    const token = await rawToken(claims);
    const checks = countChecks();
    try {
      const cached = createTokenVerifier({ secret: TEST_AUTH_SECRET });
      for (let i = 0; i < 5; i++) expect(await cached(token)).toMatchObject({ sub: 'cached', roles: ['city-admin'] });
      expect(checks).toHaveBeenCalledTimes(1);
      checks.mockClear();
      const uncached = createTokenVerifier({ secret: TEST_AUTH_SECRET, tokenCacheSeconds: 0 });
      for (let i = 0; i < 5; i++) await uncached(token);
      expect(checks).toHaveBeenCalledTimes(5);
    } finally {
      checks.mockRestore();
    }
  });

  it('never accepts a cached token past its exp, and checks it again after tokenCacheSeconds', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const checks = countChecks();
    try {
      const now = Date.now();
      const verify = createTokenVerifier({ secret: TEST_AUTH_SECRET, tokenCacheSeconds: 60 });
      const shortLived = await rawToken(claims, { exp: Math.floor(now / 1000) + 5 });
      await verify(shortLived);
      vi.setSystemTime(now + 6_000);
      await expect(verify(shortLived)).rejects.toMatchObject({ code: 'INVALID_TOKEN' });

      const longLived = await rawToken(claims);
      await verify(longLived);
      checks.mockClear();
      vi.setSystemTime(now + 6_000 + 59_000);
      await verify(longLived);
      expect(checks).toHaveBeenCalledTimes(0);
      vi.setSystemTime(now + 6_000 + 61_000);
      await verify(longLived);
      expect(checks).toHaveBeenCalledTimes(1);
    } finally {
      checks.mockRestore();
      vi.useRealTimers();
    }
  });

  it('does not keep refused tokens', async () => {
    const verify = createTokenVerifier({ secret: TEST_AUTH_SECRET });
    const forged = await rawToken(claims, { secret: 'another-secret-0123456789abcdef-xyz' });
    for (let i = 0; i < 2; i++) await expect(verify(forged)).rejects.toMatchObject({ code: 'INVALID_TOKEN' });
  });
});
