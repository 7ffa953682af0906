import { pgErrorCode, queryRows } from '@diandan/kernel';
import { actors, authHeader, client, createTestServer, ifMatch, seedOrderingLoop, seedRegions, testDriver, type Who } from '@diandan/testing';
import { sql, type SQLWrapper } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let app: FastifyInstance;
/** A second server for the tests that need the ordering-loop fixture. */
let app2: FastifyInstance;
const liwanAdmin = actors.districtAdmin('440103', 'liwan-admin');
const otherLiwanAdmin = actors.districtAdmin('440103', 'liwan-admin-2');
const cityAdmin = actors.cityAdmin('440100', 'city-admin');

/** A POST with an optional Idempotency-Key; `replayed` is the `idempotent-replayed` header. */
async function post(who: Who, url: string, payload: object, key?: string) {
  const res = await client(app)(who, 'POST', url, payload, key === undefined ? {} : { 'idempotency-key': key });
  return { ...res, replayed: res.headers['idempotent-replayed'] };
}

const rows = <T extends Record<string, unknown>>(query: SQLWrapper) => queryRows<T>(app.diandan.database.db, query);
const count = async (query: SQLWrapper) => Number((await rows<{ n: number }>(query))[0]!.n);
const unitsNamed = (name: string) => count(sql`select count(*)::int as n from kernel.units where name = ${name}`);
const auditOf = (entityId: string) => count(sql`select count(*)::int as n from kernel.audit_log where entity_id = ${entityId}`);
const storedKeys = (key: string) => count(sql`select count(*)::int as n from kernel.idempotency_keys where key = ${key}`);

beforeAll(async () => {
  [app, app2] = await Promise.all([createTestServer(), createTestServer()]);
  await seedRegions(app);
});
afterAll(() => Promise.all([app?.close(), app2?.close()]));

describe('Idempotency-Key on creating POSTs', () => {
  it('replays the first response for the same key and body, creating one unit and one audit record', async () => {
    const body = { regionCode: '440103001', name: '幂等单位', kind: 'school' };
    const first = await post(liwanAdmin, '/v1/units', body, 'key-same-body');
    expect(first.status).toBe(201);
    expect(first.replayed).toBeUndefined();
    const second = await post(liwanAdmin, '/v1/units', body, 'key-same-body');
    expect(second.status).toBe(201);
    expect(second.replayed).toBe('true');
    expect(second.body).toEqual(first.body);
    const third = await post(liwanAdmin, '/v1/units', body, 'key-same-body');
    expect(third.body.id).toBe(first.body.id);
    expect(await unitsNamed('幂等单位')).toBe(1);
    expect(await auditOf(first.body.id)).toBe(1);
  });

  it('creates a new record for each request without a key', async () => {
    const body = { regionCode: '440103001', name: '无键单位', kind: 'school' };
    const a = await post(liwanAdmin, '/v1/units', body);
    const b = await post(liwanAdmin, '/v1/units', body);
    expect([a.status, b.status]).toEqual([201, 201]);
    expect(a.body.id).not.toBe(b.body.id);
    expect(b.replayed).toBeUndefined();
    expect(await unitsNamed('无键单位')).toBe(2);
  });

  it('refuses the same key with a different body: 422 IDEMPOTENCY_KEY_REUSED, nothing more stored', async () => {
    const first = await post(liwanAdmin, '/v1/units', { regionCode: '440103', name: '原始单位', kind: 'school' }, 'key-reused');
    expect(first.status).toBe(201);
    const reused = await post(liwanAdmin, '/v1/units', { regionCode: '440103', name: '另一单位', kind: 'school' }, 'key-reused');
    expect(reused.status).toBe(422);
    expect(reused.body).toMatchObject({ status: 422, code: 'IDEMPOTENCY_KEY_REUSED' });
    expect(await unitsNamed('另一单位')).toBe(0);
    // The original body is still replayed afterwards.
    const again = await post(liwanAdmin, '/v1/units', { regionCode: '440103', name: '原始单位', kind: 'school' }, 'key-reused');
    expect(again.body.id).toBe(first.body.id);
    expect(again.replayed).toBe('true');
  });

  it('treats the same body with its keys in another order as the same request', async () => {
    const first = await post(liwanAdmin, '/v1/units', { regionCode: '440103', name: '键序单位', kind: 'school' }, 'key-order');
    const reordered = await post(liwanAdmin, '/v1/units', { kind: 'school', name: '键序单位', regionCode: '440103' }, 'key-order');
    expect(reordered.status).toBe(201);
    expect(reordered.replayed).toBe('true');
    expect(reordered.body.id).toBe(first.body.id);
  });

  it('keeps keys per user: another user with the same key gets a record of its own', async () => {
    const body = { regionCode: '440103', name: '两人同键', kind: 'enterprise' };
    const mine = await post(liwanAdmin, '/v1/units', body, 'key-shared');
    const theirs = await post(otherLiwanAdmin, '/v1/units', body, 'key-shared');
    expect([mine.status, theirs.status]).toEqual([201, 201]);
    expect(theirs.replayed).toBeUndefined();
    expect(theirs.body.id).not.toBe(mine.body.id);
    expect(await unitsNamed('两人同键')).toBe(2);
    // …and a different body for the other user is not a reuse of the first user's key.
    const different = await post(cityAdmin, '/v1/units', { ...body, name: '第三人同键' }, 'key-shared');
    expect(different.status).toBe(201);
  });

  it('keeps keys per route: the same key on venues is independent of units', async () => {
    const unit = await post(liwanAdmin, '/v1/units', { regionCode: '440103', name: '路由键单位', kind: 'school' }, 'key-per-route');
    const venue = await post(liwanAdmin, '/v1/venues', { regionCode: '440103', name: '路由键场馆', kind: 'library', capacity: 10, address: 'a' }, 'key-per-route');
    expect([unit.status, venue.status]).toEqual([201, 201]);
    expect(venue.replayed).toBeUndefined();
    expect(venue.body.capacity).toBe(10);
  });

  it('stores nothing for a failing write, so a retry with the same key runs afresh', async () => {
    const outside = await post(liwanAdmin, '/v1/units', { regionCode: '440104', name: '越界单位', kind: 'school' }, 'key-after-failure');
    expect(outside.status).toBe(404);
    expect(outside.body.code).toBe('REGION_NOT_FOUND');
    expect(await storedKeys('key-after-failure')).toBe(0);
    expect(await unitsNamed('越界单位')).toBe(0);
    // The same failing request fails again (it is not replayed as a stored 404)…
    const again = await post(liwanAdmin, '/v1/units', { regionCode: '440104', name: '越界单位', kind: 'school' }, 'key-after-failure');
    expect(again.status).toBe(404);
    expect(again.replayed).toBeUndefined();
    // …and a corrected request with the same key succeeds.
    const fixed = await post(liwanAdmin, '/v1/units', { regionCode: '440103', name: '更正单位', kind: 'school' }, 'key-after-failure');
    expect(fixed.status).toBe(201);
    expect(fixed.replayed).toBeUndefined();
    expect(await unitsNamed('更正单位')).toBe(1);
    expect(await storedKeys('key-after-failure')).toBe(1);
  });

  it('does not store a key for a request refused before the write (validation, role)', async () => {
    const invalid = await post(liwanAdmin, '/v1/units', { regionCode: '440103', name: '校验单位', kind: 'castle' }, 'key-refused');
    expect(invalid.status).toBe(400);
    const forbidden = await post({ roles: ['reviewer'], region: '440100', sub: 'reviewer' }, '/v1/units', { regionCode: '440103', name: '校验单位', kind: 'school' }, 'key-refused');
    expect(forbidden.status).toBe(403);
    expect(await storedKeys('key-refused')).toBe(0);
  });

  it.each([
    ['300 characters', 'k'.repeat(300)],
    ['a space', 'two words'],
    ['a tab', 'tab\there'],
    ['nothing', ''],
  ])('refuses a key of %s with 400 INVALID_IDEMPOTENCY_KEY', async (_what, key) => {
    const name = `坏键单位 ${key.length}`;
    const res = await post(liwanAdmin, '/v1/units', { regionCode: '440103', name, kind: 'school' }, key);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ status: 400, code: 'INVALID_IDEMPOTENCY_KEY' });
    expect(await unitsNamed(name)).toBe(0);
  });

  it('accepts a key of 255 visible ASCII characters', async () => {
    const key = `${'~!'.repeat(127)}#`;
    expect(key).toHaveLength(255);
    const body = { regionCode: '440103', name: '长键单位', kind: 'school' };
    const first = await post(liwanAdmin, '/v1/units', body, key);
    const second = await post(liwanAdmin, '/v1/units', body, key);
    expect([first.status, second.status]).toEqual([201, 201]);
    expect(second.body.id).toBe(first.body.id);
  });

  it(`creates exactly one unit for 100 concurrent identical POSTs with one key (${testDriver()})`, async () => {
    const body = { regionCode: '440103002', name: '并发单位', kind: 'barracks' };
    const headers = { ...(await authHeader(liwanAdmin)), 'idempotency-key': 'key-concurrent' };
    const responses = await Promise.all(
      Array.from({ length: 100 }, () => app.inject({ method: 'POST', url: '/v1/units', payload: body, headers })),
    );
    expect(responses.map((r) => r.statusCode)).toEqual(Array(100).fill(201));
    const ids = new Set(responses.map((r) => r.json().id));
    expect(ids.size).toBe(1);
    expect(responses.filter((r) => r.headers['idempotent-replayed'] === 'true')).toHaveLength(99);
    expect(await unitsNamed('并发单位')).toBe(1);
    expect(await auditOf([...ids][0])).toBe(1);
  });

  it(`creates one unit per key when 10 keys race 10 times each (${testDriver()})`, async () => {
    const auth = await authHeader(liwanAdmin);
    const responses = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        app.inject({
          method: 'POST',
          url: '/v1/units',
          payload: { regionCode: '440103002', name: `并发多键 ${i % 10}`, kind: 'school' },
          headers: { ...auth, 'idempotency-key': `key-race-${i % 10}` },
        }),
      ),
    );
    expect(responses.every((r) => r.statusCode === 201)).toBe(true);
    for (let k = 0; k < 10; k++) {
      const ids = new Set(responses.filter((_, i) => i % 10 === k).map((r) => r.json().id));
      expect(ids.size).toBe(1);
      expect(await unitsNamed(`并发多键 ${k}`)).toBe(1);
    }
  });
});

describe(`how long a key is remembered (${testDriver()})`, () => {
  it('forgets responses older than idempotencyKeyHours (24 by default): the same key is then a new request', async () => {
    const body = { regionCode: '440103001', name: '过期键单位', kind: 'school' };
    const first = await post(liwanAdmin, '/v1/units', body, 'key-expiring');
    const recent = await post(liwanAdmin, '/v1/units', { ...body, name: '新鲜键单位' }, 'key-recent');
    // As if the first request had been made 25 hours ago.
    await rows(sql`update kernel.idempotency_keys set created_at = now() - interval '25 hours' where key = 'key-expiring'`);

    const retention = app.diandan.services.idempotencyKeys;
    expect(retention.hours).toBe(24);
    expect(await retention.purge()).toBe(1);
    expect(await storedKeys('key-expiring')).toBe(0);

    const again = await post(liwanAdmin, '/v1/units', body, 'key-expiring');
    expect(again.status).toBe(201);
    expect(again.replayed).toBeUndefined();
    expect(again.body.id).not.toBe(first.body.id);
    const replay = await post(liwanAdmin, '/v1/units', { ...body, name: '新鲜键单位' }, 'key-recent');
    expect(replay.replayed).toBe('true');
    expect(replay.body.id).toBe(recent.body.id);
  });
});

describe('Idempotency-Key on actions', () => {
  it('gives a retried approval whose answer was lost the first answer — not 403 or 412 — and approves once', async () => {
    const f = await seedOrderingLoop(app2);
    const call = client(app2);
    const order = f.orders.submitted;
    const headers = { ...ifMatch(order), 'idempotency-key': 'approve-street-1' };
    const first = await call(f.staff.streetOperator, 'POST', `/v1/orders/${order.id}/approve`, undefined, headers);
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    // Without the key, the same request now meets the new state: the street is no longer the approver.
    expect((await call(f.staff.streetOperator, 'POST', `/v1/orders/${order.id}/approve`, undefined, ifMatch(order))).status).toBe(403);
    const retry = await call(f.staff.streetOperator, 'POST', `/v1/orders/${order.id}/approve`, undefined, headers);
    expect(retry.status).toBe(200);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(retry.body).toEqual(first.body);
    expect(retry.etag).toBe(first.etag);
    const [approvals] = await queryRows<{ n: number }>(
      app2.diandan.database.db,
      sql`select count(*)::int as n from kernel.audit_log where entity_id = ${order.id} and action = 'order.approve'`,
    );
    expect(approvals!.n).toBe(1);
  });

  it('refuses the same key on another action or order, and stores nothing for a refused action', async () => {
    const call = client(app2);
    const f = await seedOrderingLoop(app2, { year: 2028 });
    const headers = { ...ifMatch(f.orders.draft), 'idempotency-key': 'submit-once' };
    expect((await call(f.units.community.user, 'POST', `/v1/orders/${f.orders.draft.id}/submit`, undefined, headers)).status).toBe(200);
    const elsewhere = await call(f.units.community.user, 'POST', `/v1/orders/${f.orders.cancelled.id}/submit`, undefined, headers);
    expect(elsewhere.status).toBe(422);
    expect(elsewhere.body.code).toBe('IDEMPOTENCY_KEY_REUSED');
    // A refused action (the lifecycle says no) leaves the key free for a good request.
    const refused = await call(f.units.community.user, 'POST', `/v1/orders/${f.orders.closed.id}/cancel`, { reason: '晚了' }, { ...ifMatch(f.orders.closed), 'idempotency-key': 'cancel-late' });
    expect(refused.status).toBe(409);
    const [stored] = await queryRows<{ n: number }>(app2.diandan.database.db, sql`select count(*)::int as n from kernel.idempotency_keys where key = 'cancel-late'`);
    expect(stored!.n).toBe(0);
  });
});

describe('Idempotency-Key on anonymous feedback', () => {
  it('keeps each feedback token its own scope: two citizens choosing the same key each get their answer, a retry replays', async () => {
    const call = client(app2);
    const f = await seedOrderingLoop(app2, { year: 2029 });
    const minted = await call(f.units.community.user, 'POST', `/v1/orders/${f.orders.delivered.id}/feedback-tokens`, { count: 2 });
    expect(minted.status).toBe(201);
    const [a, b] = minted.body.tokens as string[];
    const key = { 'idempotency-key': 'my-phone-says-1' };
    const first = await call(null, 'POST', `/v1/feedback/${a}`, { rating: 5 }, key);
    expect(first.status).toBe(204);
    // Without the token's scope this is the same key with another request: 422 IDEMPOTENCY_KEY_REUSED.
    const other = await call(null, 'POST', `/v1/feedback/${b}`, { rating: 3 }, key);
    expect(other.status, JSON.stringify(other.body)).toBe(204);
    const retry = await call(null, 'POST', `/v1/feedback/${a}`, { rating: 5 }, key);
    expect(retry.status).toBe(204);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    const summary = await call(f.units.community.user, 'GET', `/v1/orders/${f.orders.delivered.id}/feedback-summary`);
    expect(summary.body).toMatchObject({ responses: 2 });
  });
});

describe('the audit log is append-only', () => {
  const snapshot = () => rows(sql`select * from kernel.audit_log order by id`);

  async function refused(statement: SQLWrapper): Promise<unknown> {
    try {
      await app.diandan.database.db.execute(statement);
    } catch (error) {
      return error;
    }
    throw new Error('the statement was not refused');
  }

  it('refuses UPDATE, DELETE and TRUNCATE, and leaves every row as it was', async () => {
    const before = await snapshot();
    expect(before.length).toBeGreaterThan(10);
    const statements = [
      sql`update kernel.audit_log set action = 'rewritten'`,
      sql`update kernel.audit_log set actor_id = 'someone-else' where id = ${before[0]!.id as number}`,
      sql`delete from kernel.audit_log`,
      sql`delete from kernel.audit_log where id = ${before[before.length - 1]!.id as number}`,
      sql`truncate kernel.audit_log`,
    ];
    for (const statement of statements) {
      const error = await refused(statement);
      expect(pgErrorCode(error)).toBe('42501'); // insufficient_privilege, raised by the trigger
      expect(String((error as Error & { cause?: Error }).cause?.message ?? (error as Error).message)).toMatch(/append-only/);
    }
    expect(await snapshot()).toEqual(before);
  });

  it('refuses a rewrite inside a transaction too, rolling the whole transaction back', async () => {
    const before = await snapshot();
    const error = await app.diandan.database.db
      .transaction(async (tx) => {
        await tx.execute(sql`insert into kernel.audit_log (actor_id, actor_roles, entity_type, entity_id, action) values ('t', '{}', 'unit', 'x', 'unit.test')`);
        await tx.execute(sql`update kernel.audit_log set action = 'rewritten' where action = 'unit.test'`);
      })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(pgErrorCode(error)).toBe('42501');
    expect(await snapshot()).toEqual(before);
  });

  it('still accepts new records after refusing a rewrite', async () => {
    const res = await post(liwanAdmin, '/v1/units', { regionCode: '440103', name: '之后的单位', kind: 'school' });
    expect(res.status).toBe(201);
    expect(await auditOf(res.body.id)).toBe(1);
  });
});
