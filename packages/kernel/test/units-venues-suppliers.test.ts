import { kernelTables, on, supplierStatusChanged, supplierUpdated, definePlugin, type Supplier, type Unit, type Venue } from '@diandan/kernel';
import {
  addUnit,
  addVenue,
  client,
  createTestServer,
  ifMatch,
  listedProduct,
  orderBody,
  seedRegions,
  testActors,
  TEST_REGIONS,
  type Call,
  type Who,
} from '@diandan/testing';
import { eq } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countRows, expectProblem } from './support.js';

let app: FastifyInstance;
let call: Call;
const { cityAdmin, districtAdmin: liwanAdmin, otherDistrictAdmin: yuexiuAdmin, streetOperator } = testActors;

/** What the durable `supplier.updated` subscriber was told. */
const updateEvents: { eventId: string; before: string; after: string; version: number; actorId: string }[] = [];
/** What `supplier.statusChanged` handlers were told, in order. */
const statusEvents: { id: string; from: string; to: string; reason: string; actorId: string }[] = [];
const statusWatcher = definePlugin({
  name: 'status-watcher',
  version: '1.0.0',
  kernel: '^0.1.0',
  hooks: () => [
    on(supplierStatusChanged, ({ supplier, from, reason, actorId }) => {
      statusEvents.push({ id: supplier.id, from, to: supplier.status, reason, actorId });
    }),
    on(supplierUpdated, ({ before, after, actorId }, { eventId }) => void updateEvents.push({ eventId, before: before.name, after: after.name, version: after.version, actorId }), {
      durable: true,
      name: 'supplier-updates',
    }),
  ],
});

// Every unit and venue this file creates, so list expectations can be computed.
const units: Unit[] = [];
const venues: Venue[] = [];

async function createUnit(who: Who, input: Partial<Unit> & { regionCode: string }): Promise<Unit> {
  const res = await call(who, 'POST', '/v1/units', { name: `单位 ${units.length + 1}`, kind: 'cultural-station', ...input });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  units.push(res.body);
  return res.body;
}

async function createVenue(who: Who, input: Partial<Venue> & { regionCode: string }): Promise<Venue> {
  const res = await call(who, 'POST', '/v1/venues', { name: `场馆 ${venues.length + 1}`, kind: 'library', capacity: 100, address: '测试路1号', ...input });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  venues.push(res.body);
  return res.body;
}

// Materialised paths of the test regions, to compute which records lie in which subtree.
const PATHS = new Map<string, string>();
for (const r of TEST_REGIONS) PATHS.set(r.code, `${r.parentCode ? PATHS.get(r.parentCode)! : ''}${r.code}/`);
const within = (code: string, ancestor: string) => PATHS.get(code)!.startsWith(PATHS.get(ancestor)!);
const byId = <T extends { id: string }>(a: T, b: T) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** Every item of a list, following `nextCursor`; also checks that no page is over `limit`. */
async function walk<T>(who: Who, url: string, limit: number): Promise<{ items: T[]; pages: number }> {
  const items: T[] = [];
  let pages = 0;
  let cursor: string | null = null;
  do {
    const sep = url.includes('?') ? '&' : '?';
    const res: { status: number; body: any } = await call(who, 'GET', `${url}${sep}limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.items.length).toBeLessThanOrEqual(limit);
    items.push(...res.body.items);
    cursor = res.body.nextCursor;
    pages++;
  } while (cursor);
  return { items, pages };
}

beforeAll(async () => {
  app = await createTestServer({ plugins: [statusWatcher.configure()] });
  call = client(app);
  await seedRegions(app);
});
afterAll(() => app?.close());

const fieldsOf = (body: { errors?: { field: string }[] }) => (body.errors ?? []).map((e) => e.field).sort();

describe('validation', () => {
  it.each([
    ['an unknown kind', '/v1/units', { regionCode: '440103', name: 'x', kind: 'castle' }, ['body.kind']],
    ['a missing name', '/v1/units', { regionCode: '440103', kind: 'school' }, ['body.name']],
    ['an empty name', '/v1/units', { regionCode: '440103', name: '', kind: 'school' }, ['body.name']],
    ['an unknown body property', '/v1/units', { regionCode: '440103', name: 'x', kind: 'school', colour: 'red' }, ['body.colour']],
    ['several problems at once', '/v1/units', { name: 'x', kind: 'castle' }, ['body.kind', 'body.regionCode']],
    ['capacity 0', '/v1/venues', { regionCode: '440103', name: 'x', kind: 'library', capacity: 0, address: 'a' }, ['body.capacity']],
    ['a fractional capacity', '/v1/venues', { regionCode: '440103', name: 'x', kind: 'library', capacity: 2.5, address: 'a' }, ['body.capacity']],
    ['an unknown venue kind', '/v1/venues', { regionCode: '440103', name: 'x', kind: 'castle', capacity: 10, address: 'a' }, ['body.kind']],
    ['a missing address', '/v1/venues', { regionCode: '440103', name: 'x', kind: 'library', capacity: 10 }, ['body.address']],
    ['an unknown venue property', '/v1/venues', { regionCode: '440103', name: 'x', kind: 'library', capacity: 10, address: 'a', floors: 3 }, ['body.floors']],
    ['an unknown supplier kind', '/v1/suppliers', { name: 'x', kind: 'band' }, ['body.kind']],
    ['a missing supplier name', '/v1/suppliers', { kind: 'troupe' }, ['body.name']],
    ['an unknown supplier property', '/v1/suppliers', { name: 'x', kind: 'troupe', status: 'suspended' }, ['body.status']],
  ])('refuses %s on POST %s with 400 VALIDATION_FAILED naming the field', async (_what, url, payload, fields) => {
    const res = await call(cityAdmin, 'POST', url, payload);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: 'VALIDATION_FAILED', status: 400 });
    expect(fieldsOf(res.body)).toEqual(fields);
    for (const field of fields) expect(res.body.detail).toContain(field);
  });

  it('refuses an out-of-range location with 400', async () => {
    const res = await call(cityAdmin, 'POST', '/v1/venues', { regionCode: '440103', name: 'x', kind: 'library', capacity: 10, address: 'a', location: { lat: 95, lng: 113 } });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('VALIDATION_FAILED');
    expect(fieldsOf(res.body).every((f) => f.startsWith('body.location'))).toBe(true);
  });

  it.each([
    ['/v1/units?kind=castle', ['querystring.kind']],
    ['/v1/venues?minCapacity=0', ['querystring.minCapacity']],
    ['/v1/venues?kind=castle&limit=0', ['querystring.kind', 'querystring.limit']],
    ['/v1/suppliers?status=closed', ['querystring.status']],
    ['/v1/units/not-a-uuid', ['params.id']],
    ['/v1/venues/not-a-uuid', ['params.id']],
    ['/v1/suppliers/not-a-uuid', ['params.id']],
  ])('refuses GET %s with 400 naming the field', async (url, fields) => {
    const res = await call(cityAdmin, 'GET', url);
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('VALIDATION_FAILED');
    expect(fieldsOf(res.body)).toEqual(fields);
  });

  it('stores nothing for a refused request', async () => {
    const before = (await call(cityAdmin, 'GET', '/v1/audit-log?limit=200')).body.items.length;
    await call(cityAdmin, 'POST', '/v1/units', { regionCode: '440103', name: 'x', kind: 'castle' });
    await call(cityAdmin, 'POST', '/v1/units', { regionCode: '440199', name: 'x', kind: 'school' });
    expect((await call(cityAdmin, 'GET', '/v1/audit-log?limit=200')).body.items.length).toBe(before);
  });
});

describe('units', () => {
  it('creates a unit and reads it back in the same shape', async () => {
    const res = await call(streetOperator, 'POST', '/v1/units', {
      regionCode: '440103001001',
      name: '测试社区文化室',
      kind: 'cultural-station',
      contactName: '张三',
      contactPhone: '020-12345678',
    });
    expect(res.status).toBe(201);
    expect(res.headers['content-type']).toContain('application/json');
    expect(res.body).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      regionCode: '440103001001',
      name: '测试社区文化室',
      kind: 'cultural-station',
      contactName: '张*',
      // Personal data: stored sealed, answered masked (see unit-contacts.test.ts).
      contactPhone: '020-****5678',
      version: 1,
    });
    units.push(res.body);
    const got = await call(liwanAdmin, 'GET', `/v1/units/${res.body.id}`);
    expect(got.status).toBe(200);
    expect(got.body).toEqual(res.body);
  });

  it('stores absent contacts as null', async () => {
    const unit = await createUnit(cityAdmin, { regionCode: '440104', name: '越秀区某中学', kind: 'school' });
    expect(unit).toMatchObject({ contactName: null, contactPhone: null, version: 1 });
  });

  it('answers an unknown id with 404 UNIT_NOT_FOUND', async () => {
    const res = await call(cityAdmin, 'GET', '/v1/units/00000000-0000-4000-8000-000000000000');
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ code: 'UNIT_NOT_FOUND', status: 404 });
  });

  it('answers an unknown region with 404 REGION_NOT_FOUND', async () => {
    const res = await call(cityAdmin, 'POST', '/v1/units', { regionCode: '440199', name: 'x', kind: 'school' });
    expect(res.status).toBe(404);
    expect(res.body.code).toBe('REGION_NOT_FOUND');
  });

  it('filters lists by region subtree and kind, within the caller’s scope', async () => {
    const kinds = ['school', 'barracks', 'library-branch'] as const;
    for (const [i, regionCode] of ['440103', '440103001', '440103001001', '440103001002', '440103002', '440104'].entries()) {
      for (const kind of kinds.slice(0, 1 + (i % 3))) await createUnit(cityAdmin, { regionCode, kind });
    }
    const expectList = async (who: Who, query: string, predicate: (u: Unit) => boolean) => {
      const res = await call(who, 'GET', `/v1/units?limit=200${query}`);
      expect(res.status).toBe(200);
      expect(res.body.nextCursor).toBeNull();
      const expected = units.filter((u) => within(u.regionCode, who.region) && predicate(u)).sort(byId);
      expect(res.body.items, `${who.sub} ${query}`).toEqual(expected);
      return expected.length;
    };
    expect(await expectList(cityAdmin, '', () => true)).toBe(units.length);
    expect(await expectList(cityAdmin, '&region=440103001', (u) => within(u.regionCode, '440103001'))).toBeGreaterThan(2);
    expect(await expectList(cityAdmin, '&kind=barracks', (u) => u.kind === 'barracks')).toBeGreaterThan(2);
    expect(await expectList(cityAdmin, '&region=440103&kind=school', (u) => within(u.regionCode, '440103') && u.kind === 'school')).toBeGreaterThan(2);
    expect(await expectList(liwanAdmin, '', () => true)).toBeLessThan(units.length);
    expect(await expectList(streetOperator, '&kind=school', (u) => u.kind === 'school')).toBeGreaterThan(1);
    // A region filter outside the caller's subtree, or one that does not exist, lists nothing.
    expect(await expectList(liwanAdmin, '&region=440104', () => false)).toBe(0);
    expect(await expectList(cityAdmin, '&region=440199', () => false)).toBe(0);
    // A filter above the caller's home region does not widen its scope.
    expect(await expectList(streetOperator, '&region=440100', () => true)).toBeGreaterThan(0);
  });

  it('walks every page of a list exactly once, in id order, keeping the filters', async () => {
    for (let i = 0; i < 7; i++) await createUnit(liwanAdmin, { regionCode: '440103002', kind: 'enterprise' });
    const all = units.filter((u) => within(u.regionCode, '440103')).sort(byId);
    const { items, pages } = await walk<Unit>(liwanAdmin, '/v1/units', 3);
    expect(items).toEqual(all);
    expect(pages).toBe(Math.ceil(all.length / 3)); // a full last page already says nextCursor: null
    const filtered = await walk<Unit>(cityAdmin, '/v1/units?region=440103002&kind=enterprise', 2);
    expect(filtered.items).toEqual(units.filter((u) => u.regionCode === '440103002' && u.kind === 'enterprise').sort(byId));
    expect(filtered.items).toHaveLength(7);
    expect(filtered.pages).toBe(4);
  });

  it('refuses a cursor it did not make with 400 INVALID_CURSOR', async () => {
    const venuesPage = await call(cityAdmin, 'GET', '/v1/venues?limit=1');
    for (const cursor of ['garbage', Buffer.from('["units.by-id"]').toString('base64url'), venuesPage.body.nextCursor ?? 'x']) {
      const res = await call(cityAdmin, 'GET', `/v1/units?cursor=${encodeURIComponent(cursor)}`);
      expect(res.status, cursor).toBe(400);
      expect(res.body.code).toBe('INVALID_CURSOR');
    }
  });
});

describe('venues', () => {
  it('creates a venue with and without a location and reads it back in the same shape', async () => {
    const located = await createVenue(liwanAdmin, {
      regionCode: '440103001',
      name: '荔湾区文化馆',
      kind: 'culture-centre',
      capacity: 600,
      address: '荔湾路1号',
      location: { lat: 23.125, lng: 113.244 },
    });
    expect(located).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      regionCode: '440103001',
      name: '荔湾区文化馆',
      kind: 'culture-centre',
      capacity: 600,
      address: '荔湾路1号',
      location: { lat: 23.125, lng: 113.244 },
      version: 1,
    });
    expect((await call(liwanAdmin, 'GET', `/v1/venues/${located.id}`)).body).toEqual(located);
    const plain = await createVenue(liwanAdmin, { regionCode: '440103', kind: 'square', capacity: 2000, address: '广场' });
    expect(plain.location).toBeNull();
    const explicitNull = await createVenue(liwanAdmin, { regionCode: '440103', location: null });
    expect(explicitNull.location).toBeNull();
    expect((await call(cityAdmin, 'GET', `/v1/venues/${plain.id}`)).body).toEqual(plain);
  });

  it('answers an unknown id with 404 VENUE_NOT_FOUND', async () => {
    const res = await call(cityAdmin, 'GET', '/v1/venues/00000000-0000-4000-8000-000000000000');
    expect(res.status).toBe(404);
    expect(res.body.code).toBe('VENUE_NOT_FOUND');
  });

  it('filters by region subtree, kind and minimum capacity, and pages through the result', async () => {
    const spec: [string, Venue['kind'], number][] = [
      ['440103', 'theatre', 1200],
      ['440103001', 'community-room', 40],
      ['440103001001', 'community-room', 60],
      ['440103001002', 'library', 150],
      ['440103002', 'theatre', 800],
      ['440104', 'theatre', 900],
      ['440104', 'community-room', 30],
    ];
    for (const [regionCode, kind, capacity] of spec) await createVenue(cityAdmin, { regionCode, kind, capacity });
    const cases: [Who, string, (v: Venue) => boolean][] = [
      [cityAdmin, '', () => true],
      [cityAdmin, 'minCapacity=100', (v) => v.capacity >= 100],
      [cityAdmin, 'minCapacity=800&kind=theatre', (v) => v.capacity >= 800 && v.kind === 'theatre'],
      [cityAdmin, 'region=440103001', (v) => within(v.regionCode, '440103001')],
      [cityAdmin, 'region=440103001&kind=community-room&minCapacity=50', (v) => within(v.regionCode, '440103001') && v.kind === 'community-room' && v.capacity >= 50],
      [liwanAdmin, 'kind=theatre', (v) => v.kind === 'theatre'],
      [yuexiuAdmin, '', () => true],
      [streetOperator, 'minCapacity=50', (v) => v.capacity >= 50],
      [liwanAdmin, 'region=440104', () => false],
    ];
    for (const [who, query, predicate] of cases) {
      const expected = venues.filter((v) => within(v.regionCode, who.region) && predicate(v)).sort(byId);
      const { items } = await walk<Venue>(who, `/v1/venues?${query}`, 2);
      expect(items, `${who.sub} ${query}`).toEqual(expected);
    }
    const theatresInLiwan = await walk<Venue>(liwanAdmin, '/v1/venues?kind=theatre', 1);
    expect(theatresInLiwan.items.map((v) => v.capacity).sort()).toEqual([1200, 800]);
  });
});

describe('suppliers', () => {
  const suppliers: Supplier[] = [];

  it('lets the city admin add suppliers, active by default, and anyone signed in read them', async () => {
    for (const [name, kind] of [
      ['示范粤剧团', 'troupe'],
      ['示范文化公司', 'enterprise'],
      ['示范民间艺术社', 'folk-institution'],
      ['示范剪纸艺人', 'individual-artist'],
      ['示范二团', 'troupe'],
    ] as const) {
      const res = await call(cityAdmin, 'POST', '/v1/suppliers', { name, kind });
      expect(res.status).toBe(201);
      expect(res.body).toEqual({ id: expect.stringMatching(/^[0-9a-f-]{36}$/), name, kind, status: 'active', statusReason: null, statusCode: null, statusChangedAt: null, version: 1 });
      suppliers.push(res.body);
    }
    const got = await call(streetOperator, 'GET', `/v1/suppliers/${suppliers[0]!.id}`);
    expect(got.status).toBe(200);
    expect(got.body).toEqual(suppliers[0]);
  });

  it('lists suppliers city-wide with kind and status filters, paged', async () => {
    const sorted = [...suppliers].sort(byId);
    expect((await walk<Supplier>(yuexiuAdmin, '/v1/suppliers', 2)).items).toEqual(sorted);
    expect((await walk<Supplier>(streetOperator, '/v1/suppliers?kind=troupe', 1)).items).toEqual(sorted.filter((s) => s.kind === 'troupe'));
    expect((await walk<Supplier>(cityAdmin, '/v1/suppliers?status=active', 3)).items).toEqual(sorted);
    expect((await call(cityAdmin, 'GET', '/v1/suppliers?status=suspended')).body).toEqual({ items: [], nextCursor: null });
  });

  it('tells durable subscribers of a change of name (supplier.updated), once, with before and after', async () => {
    const created = await call(cityAdmin, 'POST', '/v1/suppliers', { name: '改名前的剧团（虚构）', kind: 'troupe' });
    const renamed = await call(cityAdmin, 'PATCH', `/v1/suppliers/${created.body.id}`, { name: '改名后的剧团（虚构）' }, ifMatch(created.body));
    expect(renamed.status, JSON.stringify(renamed.body)).toBe(200);
    const mine = () => updateEvents.filter((e) => e.before === '改名前的剧团（虚构）');
    for (let i = 0; i < 200 && mine().length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(mine()).toEqual([{ eventId: expect.any(String), before: '改名前的剧团（虚构）', after: '改名后的剧团（虚构）', version: 2, actorId: cityAdmin.sub }]);
    // A refused change (a stale version) tells no one.
    expect((await call(cityAdmin, 'PATCH', `/v1/suppliers/${created.body.id}`, { name: '第三个名字' }, ifMatch(created.body))).status).toBe(412);
    await app.diandan.hooks.settled();
    expect(updateEvents.filter((e) => e.after === '第三个名字')).toEqual([]);
  });

  it('answers an unknown id with 404 SUPPLIER_NOT_FOUND', async () => {
    const res = await call(cityAdmin, 'GET', '/v1/suppliers/00000000-0000-4000-8000-000000000000');
    expect(res.status).toBe(404);
    expect(res.body.code).toBe('SUPPLIER_NOT_FOUND');
  });
});

describe('audit trail of creates', () => {
  type AuditItem = {
    id: number;
    at: string;
    actorId: string;
    actorRoles: string[];
    actorRegion: string | null;
    entityType: string;
    entityId: string;
    action: string;
    regionCode: string | null;
    before: unknown;
    after: unknown;
    requestId: string | null;
  };
  const history = async (who: Who, entityType: string, entityId: string) => {
    const res = await call(who, 'GET', `/v1/audit-log?entityType=${entityType}&entityId=${entityId}`);
    expect(res.status).toBe(200);
    return res.body.items as AuditItem[];
  };

  it.each([
    ['unit', '/v1/units', streetOperator, { regionCode: '440103001002', name: '审计单位', kind: 'alliance' }],
    ['venue', '/v1/venues', streetOperator, { regionCode: '440103001', name: '审计场馆', kind: 'theatre', capacity: 500, address: '审计路' }],
    ['supplier', '/v1/suppliers', cityAdmin, { name: '审计供应商', kind: 'social-organisation' }],
  ] as const)('writes one %s.create record with actor, region and the record after', async (entityType, url, who, payload) => {
    const res = await call(who, 'POST', url, payload);
    expect(res.status).toBe(201);
    if (entityType === 'unit') units.push(res.body);
    if (entityType === 'venue') venues.push(res.body);
    const records = await history(cityAdmin, entityType, res.body.id);
    expect(records).toHaveLength(1);
    const record = records[0]!;
    expect(record).toEqual({
      id: expect.any(Number),
      at: expect.any(String),
      actorId: who.sub,
      actorRoles: who.roles,
      actorRegion: who.region,
      entityType,
      entityId: res.body.id,
      action: `${entityType}.create`,
      regionCode: 'regionCode' in payload ? payload.regionCode : '440100',
      before: null,
      after: res.body,
      requestId: res.headers['x-request-id'],
    });
    expect(Math.abs(Date.parse(record.at) - Date.now())).toBeLessThan(60_000);
  });

  it('shows a record to admins whose subtree holds its region, and to no one else', async () => {
    const unit = await createUnit(streetOperator, { regionCode: '440103001001', name: '可见性单位' });
    const venue = await createVenue(yuexiuAdmin, { regionCode: '440104', name: '越秀场馆' });
    const supplier = (await call(cityAdmin, 'POST', '/v1/suppliers', { name: '可见性供应商', kind: 'troupe' })).body as Supplier;

    expect(await history(cityAdmin, 'unit', unit.id)).toHaveLength(1);
    expect(await history(liwanAdmin, 'unit', unit.id)).toHaveLength(1);
    expect(await history(yuexiuAdmin, 'unit', unit.id)).toHaveLength(0);
    expect(await history(cityAdmin, 'venue', venue.id)).toHaveLength(1);
    expect(await history(yuexiuAdmin, 'venue', venue.id)).toHaveLength(1);
    expect(await history(liwanAdmin, 'venue', venue.id)).toHaveLength(0);
    // The supplier directory is city-wide: its records belong to the city.
    expect(await history(cityAdmin, 'supplier', supplier.id)).toHaveLength(1);
    expect(await history(liwanAdmin, 'supplier', supplier.id)).toHaveLength(0);

    // Unfiltered, a district admin's whole log stays inside its district, newest first.
    const { items } = await walk<AuditItem>(yuexiuAdmin, '/v1/audit-log', 4);
    expect(items.length).toBeGreaterThan(0);
    expect(items.every((r) => r.regionCode !== null && within(r.regionCode, '440104'))).toBe(true);
    expect(items.map((r) => r.id)).toEqual([...items.map((r) => r.id)].sort((a, b) => b - a));
    const liwan = await walk<AuditItem>(liwanAdmin, '/v1/audit-log', 50);
    expect(liwan.items.every((r) => r.regionCode !== null && within(r.regionCode, '440103'))).toBe(true);
    expect(liwan.items.map((r) => r.entityId)).toContain(unit.id);
  });

  it('records every create of this file exactly once', async () => {
    const { items } = await walk<AuditItem>(cityAdmin, '/v1/audit-log', 200);
    const creates = items.filter((r) => r.action === 'unit.create').map((r) => r.entityId).sort();
    expect(creates).toEqual(units.map((u) => u.id).sort());
    expect(items.filter((r) => r.action === 'venue.create').map((r) => r.entityId).sort()).toEqual(venues.map((v) => v.id).sort());
  });
});

describe('changing units and venues (PATCH with If-Match)', () => {
  it('changes only the fields sent, bumps the version and answers the new ETag', async () => {
    const unit = await createUnit(streetOperator, { regionCode: '440103001001', name: '改名前的文化室' });
    const res = await call(streetOperator, 'PATCH', `/v1/units/${unit.id}`, { name: '改名后的文化室', contactName: '王老师' }, ifMatch(unit));
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toEqual({ ...unit, name: '改名后的文化室', contactName: '王**', version: 2 });
    expect(res.etag).toBe('"v2"');
    expect((await call(liwanAdmin, 'GET', `/v1/units/${unit.id}`)).body).toEqual(res.body);
    const venue = await createVenue(liwanAdmin, { regionCode: '440103001', capacity: 120 });
    const moved = await call(liwanAdmin, 'PATCH', `/v1/venues/${venue.id}`, { capacity: 150, location: { lat: 23.12, lng: 113.24 } }, ifMatch(venue));
    expect(moved.body).toEqual({ ...venue, capacity: 150, location: { lat: 23.12, lng: 113.24 }, version: 2 });
  });

  it('needs If-Match (428), refuses a stale one (412) and changes nothing then', async () => {
    const unit = await createUnit(streetOperator, { regionCode: '440103001' });
    expectProblem(await call(streetOperator, 'PATCH', `/v1/units/${unit.id}`, { name: '无版本' }), 428, 'PRECONDITION_REQUIRED');
    await call(streetOperator, 'PATCH', `/v1/units/${unit.id}`, { name: '第一次' }, ifMatch(unit));
    expectProblem(await call(streetOperator, 'PATCH', `/v1/units/${unit.id}`, { name: '第二次' }, ifMatch(unit)), 412, 'PRECONDITION_FAILED');
    expect((await call(streetOperator, 'GET', `/v1/units/${unit.id}`)).body).toMatchObject({ name: '第一次', version: 2 });
  });

  it('keeps changes in the caller’s subtree: another district’s unit is not found, moving out of scope is refused', async () => {
    const unit = await createUnit(liwanAdmin, { regionCode: '440103002' });
    expectProblem(await call(yuexiuAdmin, 'PATCH', `/v1/units/${unit.id}`, { name: '越权' }, ifMatch(unit)), 404, 'UNIT_NOT_FOUND');
    expectProblem(await call(streetOperator, 'PATCH', `/v1/units/${unit.id}`, { name: '越权' }, ifMatch(unit)), 404, 'UNIT_NOT_FOUND');
    expectProblem(await call(liwanAdmin, 'PATCH', `/v1/units/${unit.id}`, { regionCode: '440104' }, ifMatch(unit)), 404, 'REGION_NOT_FOUND');
    const moved = await call(liwanAdmin, 'PATCH', `/v1/units/${unit.id}`, { regionCode: '440103001' }, ifMatch(unit));
    expect(moved.body).toMatchObject({ regionCode: '440103001', version: 2 });
    expectProblem(await call({ roles: ['reviewer'], region: '440100' }, 'PATCH', `/v1/units/${unit.id}`, { name: 'x' }, ifMatch(moved.body)), 403, 'FORBIDDEN');
  });

  it('records every change in the audit log, with before and after', async () => {
    const unit = await createUnit(streetOperator, { regionCode: '440103001' });
    await call(streetOperator, 'PATCH', `/v1/units/${unit.id}`, { name: '审计后的名字' }, ifMatch(unit));
    const items = (await call(liwanAdmin, 'GET', `/v1/audit-log?entityType=unit&entityId=${unit.id}`)).body.items;
    expect(items.map((i: { action: string }) => i.action)).toEqual(['unit.update', 'unit.create']);
    expect(items[0]).toMatchObject({ actorId: 'street-op', before: { name: unit.name, version: 1 }, after: { name: '审计后的名字', version: 2 } });
  });
});

describe('suspending and reinstating a supplier', () => {
  let troupe: Who;
  let supplierId: string;
  let product: { id: string };
  let order: { unitId: string; productId: string; venueId: string };
  beforeAll(async () => {
    const res = await call(cityAdmin, 'POST', '/v1/suppliers', { name: '待暂停的剧团（虚构）', kind: 'troupe' });
    supplierId = res.body.id;
    troupe = { roles: ['supplier'], region: '440100', supplier: supplierId, sub: 'suspended-troupe' };
    product = await listedProduct(call, troupe);
    const unit = await addUnit(call, '440103001001', '暂停测试文化室', 'suspend-unit-op');
    order = orderBody({ unitId: unit.id, productId: product.id, venueId: await addVenue(call, '440103001001', 300) });
  });
  const current = async () => (await call(cityAdmin, 'GET', `/v1/suppliers/${supplierId}`)).body as Supplier;
  const searchable = async () => (await call(streetOperator, 'GET', `/v1/products?supplierId=${supplierId}`)).body.items.map((p: { id: string }) => p.id);

  it('lets only the city admin suspend, with a reason and If-Match', async () => {
    const supplier = await current();
    expectProblem(await call(liwanAdmin, 'POST', `/v1/suppliers/${supplierId}/suspend`, { reason: '投诉' }, ifMatch(supplier)), 403, 'FORBIDDEN');
    expectProblem(await call(cityAdmin, 'POST', `/v1/suppliers/${supplierId}/suspend`, { reason: '投诉' }), 428, 'PRECONDITION_REQUIRED');
    expect((await call(cityAdmin, 'POST', `/v1/suppliers/${supplierId}/suspend`, { reason: '' }, ifMatch(supplier))).status).toBe(400);
    expectProblem(await call(cityAdmin, 'POST', `/v1/suppliers/${supplierId}/reinstate`, { reason: '无' }, ifMatch(supplier)), 409, 'INVALID_TRANSITION');
    expect(await current()).toEqual(supplier);
  });

  it('hides a suspended supplier’s products from the library and refuses new orders; reinstating brings them back', async () => {
    expect(await searchable()).toEqual([product.id]);
    const suspended = await call(cityAdmin, 'POST', `/v1/suppliers/${supplierId}/suspend`, { reason: '演出质量投诉，待核查' }, ifMatch(await current()));
    expect(suspended.status, JSON.stringify(suspended.body)).toBe(200);
    expect(suspended.body).toMatchObject({ status: 'suspended', statusReason: '演出质量投诉，待核查', statusChangedAt: expect.any(String), version: 2 });
    expect(await searchable()).toEqual([]);
    expect((await call(streetOperator, 'GET', `/v1/products/${product.id}`)).status).toBe(200);
    expectProblem(await call(streetOperator, 'POST', '/v1/orders', order), 409, 'SUPPLIER_SUSPENDED');

    const reinstated = await call(cityAdmin, 'POST', `/v1/suppliers/${supplierId}/reinstate`, { reason: '核查无误' }, ifMatch(suspended.body));
    expect(reinstated.body).toMatchObject({ status: 'active', statusReason: '核查无误', version: 3 });
    expect(await searchable()).toEqual([product.id]);
    expect((await call(streetOperator, 'POST', '/v1/orders', order)).status).toBe(201);
  });

  it('audits each change and tells plugins through supplier.statusChanged', async () => {
    await app.diandan.hooks.settled();
    expect(statusEvents.filter((e) => e.id === supplierId)).toEqual([
      { id: supplierId, from: 'active', to: 'suspended', reason: '演出质量投诉，待核查', actorId: 'city-admin-1' },
      { id: supplierId, from: 'suspended', to: 'active', reason: '核查无误', actorId: 'city-admin-1' },
    ]);
    const items = (await call(cityAdmin, 'GET', `/v1/audit-log?entityType=supplier&entityId=${supplierId}`)).body.items;
    expect(items.map((i: { action: string }) => i.action)).toEqual(['supplier.reinstate', 'supplier.suspend', 'supplier.create']);
    expect(items[1]).toMatchObject({ before: { status: 'active' }, after: { status: 'suspended', reason: '演出质量投诉，待核查' } });
  });

  it('replays a lost answer when retried with the same Idempotency-Key, instead of answering 412', async () => {
    const supplier = await current();
    const headers = { ...ifMatch(supplier), 'idempotency-key': 'suspend-once' };
    const first = await call(cityAdmin, 'POST', `/v1/suppliers/${supplierId}/suspend`, { reason: '再次暂停' }, headers);
    const retry = await call(cityAdmin, 'POST', `/v1/suppliers/${supplierId}/suspend`, { reason: '再次暂停' }, headers);
    expect(first.status).toBe(200);
    expect(retry.status).toBe(200);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(retry.body).toEqual(first.body);
    expect(await countRows(app, kernelTables.auditLog, eq(kernelTables.auditLog.action, 'supplier.suspend'))).toBe(2);
  });
  it('refuses new orders with the code the suspending party chose, and forgets it on reinstatement', async () => {
    let supplier = await current();
    if (supplier.status === 'suspended') supplier = (await call(cityAdmin, 'POST', `/v1/suppliers/${supplierId}/reinstate`, { reason: '恢复' }, ifMatch(supplier))).body;
    const suspended = await call(cityAdmin, 'POST', `/v1/suppliers/${supplierId}/suspend`, { reason: '资质过期', code: 'REGISTRY_QUALIFICATION_EXPIRED' }, ifMatch(supplier));
    expect(suspended.body).toMatchObject({ status: 'suspended', statusCode: 'REGISTRY_QUALIFICATION_EXPIRED' });
    const refused = await call(streetOperator, 'POST', '/v1/orders', order);
    expectProblem(refused, 409, 'REGISTRY_QUALIFICATION_EXPIRED');
    expect(refused.body.details).toEqual({ supplierId, reason: '资质过期' });
    expect((await call(cityAdmin, 'POST', `/v1/suppliers/${supplierId}/suspend`, { reason: 'x', code: 'lower-case' }, ifMatch(suspended.body))).status).toBe(400);
    const back = await call(cityAdmin, 'POST', `/v1/suppliers/${supplierId}/reinstate`, { reason: '资质已更新' }, ifMatch(suspended.body));
    expect(back.body).toMatchObject({ status: 'active', statusCode: null });
  });

});
