/**
 * Sealed bids and authorisation: before the tender deadline no route shows a bid's
 * content to anyone (admins, the panel, competitors, the bidder itself, the public),
 * and what is stored holds no plaintext; suppliers see only their own bids; admins act
 * only within their region.
 */
import { queryRows } from '@diandan/kernel';
import { actors, createTestServer } from '@diandan/testing';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BidSealer, commitmentOf, procurement } from '../src/index.js';
import { DAY, boot, dbNow, expert, ifMatch, ok, projectBody, passDeadline, type World } from './support.js';

let w: World;
let project: any;
let draft: any;
let deadlines: { enquiryEnd: Date; tenderEnd: Date };
// Seven digits: a chance match inside base64 ciphertext or hex ids is negligible.
const PRICE = 7_321_987;
const MARKER = '密封测试方案-ZQX7';
let bid: any;

beforeAll(async () => {
  w = await boot();
  const now = await dbNow(w.app);
  // The tests move the procurement clock past these deadlines.
  deadlines = { enquiryEnd: new Date(now.getTime() + DAY), tenderEnd: new Date(now.getTime() + 2 * DAY) };
  // The draft is published late in the tests: its periods lie far ahead.
  const later = { enquiryEnd: new Date(now.getTime() + 30 * DAY), tenderEnd: new Date(now.getTime() + 60 * DAY) };
  const created = ok(await w.call(w.admin, 'POST', '/v1/procurement/projects', projectBody(w, {}, deadlines)), 201, 'create');
  project = ok(await w.call(w.admin, 'POST', `/v1/procurement/projects/${created.id}/publish`, undefined, ifMatch(created)), 200, 'publish');
  draft = ok(await w.call(w.admin, 'POST', '/v1/procurement/projects', projectBody(w, { title: '草稿（测试）' }, later)), 201, 'draft');
  bid = ok(await w.call(w.suppliers[0]!.user, 'POST', `/v1/procurement/projects/${project.id}/bids`, { lotId: 'L1', price: PRICE, proposal: MARKER }), 201, 'bid');
  ok(await w.call(w.suppliers[1]!.user, 'POST', `/v1/procurement/projects/${project.id}/bids`, { lotId: 'L1', price: 80_000, proposal: '另一方案' }), 201, 'bid 2');
});
afterAll(() => w?.app.close());

const P = () => `/v1/procurement/projects/${project.id}`;

describe('before the tender deadline', () => {
  it('no route shows a bid’s content, to anyone', async () => {
    const [bidder, competitor] = w.suppliers;
    const callers = { admin: w.admin, cityAdmin: w.cityAdmin, panel: expert('expert-a'), bidder: bidder!.user, competitor: competitor!.user, reviewer: actors.reviewer(), anonymous: null };
    const routes = ['', '/bids', `/bids/${bid.id}`, '/ranking', '/declarations', '/awards', '/contracts', '/enquiries', '/amendments', '/ocds/releases', '/ocds/record'];
    for (const [name, who] of Object.entries(callers)) {
      for (const route of routes) {
        const res = await w.call(who, 'GET', `${P()}${route}`);
        expect(res.status, `${name} GET ${route}`).toBeLessThan(500);
        const text = JSON.stringify(res.body);
        expect(text, `${name} GET ${route}`).not.toContain(MARKER);
        expect(text, `${name} GET ${route}`).not.toContain(String(PRICE));
      }
    }
    // Admins and the panel are told the bids are sealed.
    for (const who of [w.admin, w.cityAdmin, expert('expert-a')]) {
      const res = await w.call(who, 'GET', `${P()}/bids`);
      expect([res.status, res.body.code]).toEqual([409, 'PROCUREMENT_BIDS_SEALED']);
    }
    // The bidder sees its receipt only; a competitor does not even see that the bid exists.
    const own = ok(await w.call(bidder!.user, 'GET', `${P()}/bids/${bid.id}`), 200, 'own bid');
    expect(own).toMatchObject({ sealed: true, price: null, proposal: null, documents: null, nonce: null, commitment: bid.commitment });
    const theirs = await w.call(competitor!.user, 'GET', `${P()}/bids/${bid.id}`);
    expect([theirs.status, theirs.body.code]).toEqual([404, 'PROCUREMENT_BID_NOT_FOUND']);
    const list = ok(await w.call(competitor!.user, 'GET', `${P()}/bids`), 200, 'competitor list');
    expect(list.items.every((b: any) => b.supplierId === competitor!.id)).toBe(true);
    // Anonymous callers need a token for bids.
    expect((await w.call(null, 'GET', `${P()}/bids`)).status).toBe(401);
    // Nobody can open the bids early, score or declare.
    const early = await w.call(w.cityAdmin, 'POST', `${P()}/open`, undefined, ifMatch(project));
    expect(early.body.code).toBe('PROCUREMENT_TENDER_PERIOD_OPEN');
    expect((await w.call(expert('expert-a'), 'POST', `${P()}/bids/${bid.id}/score`, { score: 1, comment: '' })).body.code).toBe('PROCUREMENT_NOT_IN_EVALUATION');
    expect((await w.call(expert('expert-a'), 'POST', `${P()}/declarations`, { conflict: false, statement: 'x' })).body.code).toBe('PROCUREMENT_NOT_IN_EVALUATION');
  });

  it('stores no plaintext: no table of the database holds the price or the proposal', async () => {
    const db = w.app.diandan.database.db;
    const tables = await queryRows<{ schema: string; name: string }>(
      db,
      sql`select table_schema as schema, table_name as name from information_schema.tables where table_schema in ('procurement', 'kernel', 'diandan_migrations') and table_type = 'BASE TABLE'`,
    );
    expect(tables.length).toBeGreaterThan(10);
    for (const t of tables) {
      const [row] = await queryRows<{ n: number }>(
        db,
        sql`select count(*)::int as n from ${sql.identifier(t.schema)}.${sql.identifier(t.name)} x where x::text like ${`%${MARKER}%`} or x::text like ${`%${PRICE}%`}`,
      );
      expect(row!.n, `${t.schema}.${t.name}`).toBe(0);
    }
    const [stored] = await queryRows<{ sealed: string; price: number | null; proposal: string | null }>(db, sql`select sealed, price, proposal from procurement.bids where id = ${bid.id}`);
    expect(stored).toMatchObject({ price: null, proposal: null });
    expect(stored!.sealed).toMatch(/^v1\.[\w-]+\.[\w-]+\.[\w-]+$/);
  });

  it('refuses bids from suspended suppliers and from staff', async () => {
    const kernel = w.app.diandan.services;
    const city = await kernel.access.systemActor('testing', { roles: ['city-admin'], region: '440100' });
    const target = w.suppliers[3]!;
    const s = await kernel.suppliers.get(target.id);
    await kernel.suppliers.setStatus({ id: target.id, status: 'suspended', reason: '测试：暂停', expectedVersion: s.version }, { actor: city });
    const res = await w.call(target.user, 'POST', `${P()}/bids`, { lotId: 'L1', price: 1000, proposal: 'x' });
    expect([res.status, res.body.code]).toEqual([403, 'PROCUREMENT_SUPPLIER_NOT_ACTIVE']);
    expect((await w.call(w.admin, 'POST', `${P()}/bids`, { lotId: 'L1', price: 1000, proposal: 'x' })).status).toBe(403);
    const unknownLot = await w.call(w.suppliers[2]!.user, 'POST', `${P()}/bids`, { lotId: 'L9', price: 1000, proposal: 'x' });
    expect(unknownLot.body.code).toBe('PROCUREMENT_LOT_UNKNOWN');
  });
});

describe('authorisation by region', () => {
  it('hides drafts outside the buyer’s region and refuses changes by other regions’ admins', async () => {
    expect((await w.call(w.otherAdmin, 'GET', `/v1/procurement/projects/${draft.id}`)).status).toBe(404);
    expect((await w.call(null, 'GET', `/v1/procurement/projects/${draft.id}`)).status).toBe(404);
    expect((await w.call(w.admin, 'GET', `/v1/procurement/projects/${draft.id}`)).status).toBe(200);
    const list = ok(await w.call(w.otherAdmin, 'GET', '/v1/procurement/projects'), 200, 'list');
    expect(list.items.map((p: any) => p.id)).toEqual([project.id]);
    expect(list.items[0].panel).toBeUndefined();
    const patch = await w.call(w.otherAdmin, 'PATCH', `/v1/procurement/projects/${draft.id}`, { title: 'x' }, ifMatch(draft));
    expect(patch.status).toBe(404);
    const cancel = await w.call(w.otherAdmin, 'POST', `${P()}/cancel`, { reason: '越权' }, ifMatch(project));
    expect([cancel.status, cancel.body.code]).toEqual([403, 'PROCUREMENT_NOT_BUYER_ADMIN']);
    // A buyer unit outside the admin's subtree is not found; street staff do not draft projects.
    const foreign = await w.call(w.otherAdmin, 'POST', '/v1/procurement/projects', projectBody(w, {}, deadlines));
    expect([foreign.status, foreign.body.code]).toEqual([404, 'UNIT_NOT_FOUND']);
    expect((await w.call(actors.streetOperator(), 'POST', '/v1/procurement/projects', projectBody(w, {}, deadlines))).status).toBe(403);
    expect((await w.call(w.otherAdmin, 'GET', '/v1/procurement/indicators?from=2000-01-01T00:00:00Z&to=2100-01-01T00:00:00Z')).body.items).toEqual([]);
  });

  it('refuses an update without If-Match or with a stale one', async () => {
    expect((await w.call(w.admin, 'PATCH', `/v1/procurement/projects/${draft.id}`, { title: 'x' })).status).toBe(428);
    expect((await w.call(w.admin, 'PATCH', `/v1/procurement/projects/${draft.id}`, { title: 'x' }, { 'if-match': '"v99"' })).status).toBe(412);
    const retried = { 'idempotency-key': 'publish-draft-once', ...ifMatch(draft) };
    const first = await w.call(w.admin, 'POST', `/v1/procurement/projects/${draft.id}/publish`, undefined, retried);
    const again = await w.call(w.admin, 'POST', `/v1/procurement/projects/${draft.id}/publish`, undefined, retried);
    expect(first.status).toBe(200);
    expect(again.body).toEqual(first.body);
    expect(again.headers['idempotent-replayed']).toBe('true');
  });

  it('validates the content of a project with domain codes', async () => {
    const base = (o: Record<string, unknown>) => projectBody(w, o, deadlines);
    const cases: [Record<string, unknown>, string][] = [
      [{ priceWeight: 50, qualityWeight: 40 }, 'PROCUREMENT_WEIGHTS_INVALID'],
      [{ method: 'single-source', invitedSupplierIds: [w.suppliers[0]!.id] }, 'PROCUREMENT_RATIONALE_REQUIRED'],
      [{ method: 'single-source', rationale: '唯一', invitedSupplierIds: [w.suppliers[0]!.id, w.suppliers[1]!.id] }, 'PROCUREMENT_INVITATION_INVALID'],
      [{ method: 'inquiry', invitedSupplierIds: [w.suppliers[0]!.id] }, 'PROCUREMENT_INVITATION_INVALID'],
      [{ method: 'inquiry', invitedSupplierIds: [w.suppliers[0]!.id, w.suppliers[1]!.id, w.suppliers[3]!.id] }, 'PROCUREMENT_SUPPLIER_NOT_ACTIVE'],
      [{ invitedSupplierIds: [w.suppliers[0]!.id] }, 'PROCUREMENT_INVITATION_INVALID'],
      [{ lots: [{ id: 'L1', title: 'a', value: 200_000 }] }, 'PROCUREMENT_LOTS_EXCEED_ESTIMATE'],
      [{ items: [{ id: 'I1', description: 'x', quantity: 1, unit: '场', relatedLot: 'L7' }] }, 'PROCUREMENT_LOT_UNKNOWN'],
      [{ category: 'no-such-category' }, 'PROCUREMENT_CATEGORY_UNKNOWN'],
      [{ panel: [] }, 'PROCUREMENT_PANEL_REQUIRED'],
      [{ enquiryPeriodEnd: new Date(deadlines.tenderEnd.getTime() + 1000).toISOString() }, 'PROCUREMENT_PERIOD_INVALID'],
    ];
    for (const [o, code] of cases) {
      const res = await w.call(w.admin, 'POST', '/v1/procurement/projects', base(o));
      expect([res.status, res.body.code], JSON.stringify(o)).toEqual([422, code]);
    }
  });
});

describe('after the deadline', () => {
  it('opens the bids: the content matches the bidder’s commitment', async () => {
    await passDeadline(w.app, deadlines.tenderEnd);
    const current = ok(await w.call(w.admin, 'GET', P()), 200, 'get');
    ok(await w.call(w.admin, 'POST', `${P()}/open`, undefined, ifMatch(current)), 200, 'open');
    const opened = ok(await w.call(w.admin, 'GET', `${P()}/bids/${bid.id}`), 200, 'opened bid');
    expect(opened).toMatchObject({ status: 'valid', sealed: false, price: PRICE, proposal: MARKER });
    const recomputed = commitmentOf(
      { bidId: opened.id, projectId: project.id, lotId: 'L1', supplierId: w.suppliers[0]!.id },
      { price: opened.price, proposal: opened.proposal, documents: opened.documents },
      opened.nonce,
    );
    expect(recomputed).toBe(bid.commitment);
    // Suppliers still see only their own bids.
    const list = ok(await w.call(w.suppliers[1]!.user, 'GET', `${P()}/bids`), 200, 'list');
    expect(list.items.map((b: any) => b.supplierId)).toEqual([w.suppliers[1]!.id]);
    // The panel sees all of them now.
    expect((ok(await w.call(expert('expert-b'), 'GET', `${P()}/bids`), 200, 'panel') as any).items).toHaveLength(2);
  });
});

describe('the sealer', () => {
  it('binds a ciphertext to its bid, and needs the deployment’s key', () => {
    const sealer = new BidSealer('a'.repeat(40));
    const binding = { bidId: 'b1', projectId: 'p1', lotId: 'L1', supplierId: 's1' };
    const { sealed } = sealer.seal(binding, { price: 100, proposal: '方案', documents: [] });
    expect(sealer.unseal(binding, sealed)).toMatchObject({ price: 100, proposal: '方案' });
    expect(() => sealer.unseal({ ...binding, supplierId: 's2' }, sealed)).toThrow(/fails authentication/);
    expect(() => sealer.unseal({ ...binding, projectId: 'p2' }, sealed)).toThrow(/fails authentication/);
    expect(() => new BidSealer('b'.repeat(40)).unseal(binding, sealed)).toThrow(/fails authentication/);
  });

  it('refuses to start in production without a sealing key', async () => {
    const before = process.env.NODE_ENV;
    process.env.NODE_ENV = 'production';
    try {
      await expect(createTestServer({ plugins: [procurement()] })).rejects.toMatchObject({ code: 'DIANDAN_ERR_PLUGIN_CONFIG_INVALID' });
    } finally {
      process.env.NODE_ENV = before;
    }
  });
});
