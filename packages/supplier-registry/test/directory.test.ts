/** The public directory (供应商名录): approved suppliers only, searchable, paginated, no personal data. */
import { client, createTestServer, expectStatus, seedRegions, actors, type Call } from '@diandan/testing';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { supplierRegistry } from '../src/index.js';
import { ID_NUMBERS, PHONES, applicant, approve, orgApplication, registryOf } from './support.js';

let app: FastifyInstance;
let call: Call;
const reviewer = actors.reviewer('440100', 'directory-reviewer');
const ids: Record<string, string> = {};

beforeAll(async () => {
  app = await createTestServer({ plugins: [supplierRegistry()] });
  await seedRegions(app);
  call = client(app);
  const add = async (key: string, body: Record<string, unknown>, approved = true) => {
    const created = expectStatus(await call(applicant(`dir-${key}`), 'POST', '/v1/supplier-applications', body), 201, key);
    ids[key] = (approved ? await approve(call, reviewer, created) : created).id;
  };
  await add('opera', orgApplication({ name: '荔湾粤剧社（虚构）', kind: 'troupe', categories: ['performance'], regionsServed: ['440103'] }));
  await add('crafts', orgApplication({ name: '越秀广绣坊（虚构）', kind: 'folk-institution', categories: ['handcraft-workshop'], regionsServed: ['440104'] }));
  await add('citywide', orgApplication({ name: '全市阅读推广会（虚构）', kind: 'social-organisation', categories: ['reading-promotion'], regionsServed: ['440100'] }));
  await add(
    'artist',
    { ...orgApplication({ name: '虚构书法家', kind: 'individual-artist', categories: ['training'], contacts: [{ name: '李示例', phone: PHONES[1] }] }), creditCode: undefined, idNumber: ID_NUMBERS[1] },
  );
  await add('pending', orgApplication({ name: '荔湾待审剧团（虚构）', kind: 'troupe' }), false);
});
afterAll(() => app?.close());

const names = (body: { items: { name: string }[] }) => body.items.map((i) => i.name).sort();

describe('the public directory', () => {
  it('lists approved suppliers only, to anyone, without personal data', async () => {
    const all = await call(null, 'GET', '/v1/supplier-directory?limit=200');
    expect(all.status).toBe(200);
    expect(names(all.body)).toEqual(['全市阅读推广会（虚构）', '荔湾粤剧社（虚构）', '虚构书法家', '越秀广绣坊（虚构）'].sort());
    const text = JSON.stringify(all.body);
    for (const secret of [...PHONES, ...ID_NUMBERS, ID_NUMBERS[1].slice(-4)]) expect(text).not.toContain(secret);
    expect(Object.keys(all.body.items[0]).sort()).toEqual(['categories', 'description', 'id', 'kind', 'name', 'regionsServed', 'score', 'tier', 'unitRatings']);
    expect((await call(null, 'GET', `/v1/supplier-directory/${ids.pending}`)).status).toBe(404);
    expect((await call(null, 'GET', `/v1/supplier-directory/${ids.opera}`)).body).toMatchObject({ name: '荔湾粤剧社（虚构）', tier: 'standard', score: null });
  });

  it('searches by name, kind, category, region served (and the regions above it) and tier', async () => {
    expect(names((await call(null, 'GET', `/v1/supplier-directory?q=${encodeURIComponent('粤剧')}`)).body)).toEqual(['荔湾粤剧社（虚构）']);
    expect(names((await call(null, 'GET', '/v1/supplier-directory?q=%25')).body)).toEqual([]);
    expect(names((await call(null, 'GET', '/v1/supplier-directory?kind=folk-institution')).body)).toEqual(['越秀广绣坊（虚构）']);
    expect(names((await call(null, 'GET', '/v1/supplier-directory?category=reading-promotion')).body)).toEqual(['全市阅读推广会（虚构）']);
    // A community of 440103 is served by suppliers of 440103 and of the whole city.
    expect(names((await call(null, 'GET', '/v1/supplier-directory?region=440103001001')).body)).toEqual(['全市阅读推广会（虚构）', '荔湾粤剧社（虚构）', '虚构书法家'].sort());
    expect(names((await call(null, 'GET', '/v1/supplier-directory?region=999999')).body)).toEqual([]);
    expect((await call(null, 'GET', '/v1/supplier-directory?tier=quality')).body.items).toEqual([]);
  });

  it('pages with an opaque cursor', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: any = (await call(null, 'GET', `/v1/supplier-directory?limit=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`)).body;
      seen.push(...page.items.map((i: { id: string }) => i.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toHaveLength(4);
    expect(new Set(seen).size).toBe(4);
  });

  it('copies a name changed through the kernel’s supplier route back to the registry (supplier.updated, durable)', async () => {
    const supplier = await call(actors.cityAdmin(), 'GET', `/v1/suppliers/${ids.crafts}`);
    const before = expectStatus(await call(reviewer, 'GET', `/v1/supplier-applications/${ids.crafts}`), 200, 'application');
    expectStatus(await call(actors.cityAdmin(), 'PATCH', `/v1/suppliers/${ids.crafts}`, { name: '越秀广绣坊（更名，虚构）' }, { 'if-match': supplier.etag ?? '' }), 200, 'rename');
    let after = before;
    for (let i = 0; i < 200 && after.name === before.name; i++) {
      await new Promise((r) => setTimeout(r, 50));
      after = expectStatus(await call(reviewer, 'GET', `/v1/supplier-applications/${ids.crafts}`), 200, 'application');
    }
    expect([after.name, after.version]).toEqual(['越秀广绣坊（更名，虚构）', before.version + 1]);
    // Once copied, nothing is left to copy: a redelivery (or the start-up sweep) changes nothing.
    const registry = registryOf(app).registry;
    expect(await registry.syncSupplierNames(ids.crafts)).toBe(0);
    expect(await registry.syncSupplierNames()).toBe(0);
    expect(names(expectStatus(await call(null, 'GET', '/v1/supplier-directory?q=更名'), 200, 'search'))).toEqual(['越秀广绣坊（更名，虚构）']);
  });
});
