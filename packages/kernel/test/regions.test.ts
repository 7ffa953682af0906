import { DomainError, encodeCursor, inScope, type RegionInput } from '@diandan/kernel';
import { createTestServer, seedRegions, TEST_REGIONS } from '@diandan/testing';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

interface RegionItem {
  code: string;
  parentCode: string | null;
  level: string;
  name: string;
}

// A second street with a dozen communities, so lists span several pages.
const MORE_COMMUNITIES: RegionInput[] = Array.from({ length: 12 }, (_, i) => ({
  code: `440103002${String(12 - i).padStart(3, '0')}`, // imported in reverse order on purpose
  parentCode: '440103002',
  level: 'community',
  name: `测试社区${12 - i}`,
  synthetic: true,
}));
const square = { type: 'Polygon', coordinates: [[[113.26, 23.12], [113.27, 23.12], [113.27, 23.13], [113.26, 23.13], [113.26, 23.12]]] };
// A child listed before its parent: a batch may come in any order.
const YUEXIU: RegionInput[] = [
  { code: '440104001001', parentCode: '440104001', level: 'community', name: '北京街社区' },
  { code: '440104001', parentCode: '440104', level: 'street', name: '北京街道', population: 61000, centroid: { lat: 23.125, lng: 113.265 }, geometry: square },
];
const ALL = [...TEST_REGIONS, ...MORE_COMMUNITIES, ...YUEXIU];

let app: FastifyInstance;
beforeAll(async () => {
  app = await createTestServer();
  await seedRegions(app);
  await seedRegions(app, MORE_COMMUNITIES);
  await seedRegions(app, YUEXIU);
});
afterAll(() => app?.close());

const get = async (url: string) => {
  const res = await app.inject(url);
  return { status: res.statusCode, body: res.json() };
};

/** Follows `nextCursor` until the last page; returns every item and how many pages there were. */
async function walk(url: string, limit: number): Promise<{ codes: string[]; pages: number }> {
  const codes: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const sep = url.includes('?') ? '&' : '?';
    const { status, body } = await get(`${url}${sep}limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    expect(status).toBe(200);
    expect(body.items.length).toBeLessThanOrEqual(limit);
    codes.push(...body.items.map((r: RegionItem) => r.code));
    cursor = body.nextCursor;
    pages++;
    expect(pages).toBeLessThan(50);
  } while (cursor);
  return { codes, pages };
}

const childrenOf = (code: string) => ALL.filter((r) => r.parentCode === code).map((r) => r.code).sort();
/** The expected depth-first order: each region, then its children's subtrees in code order. */
const depthFirst = (code: string, depth = Infinity): string[] =>
  depth < 0 ? [] : [code, ...childrenOf(code).flatMap((c) => depthFirst(c, depth - 1))];

describe('region queries', () => {
  it('lists the children of a region in code order', async () => {
    const { status, body } = await get('/v1/regions/440100/children');
    expect(status).toBe(200);
    expect(body.items).toEqual([
      { code: '440103', parentCode: '440100', level: 'district', name: '荔湾区', population: 1238300, centroid: null, synthetic: false },
      { code: '440104', parentCode: '440100', level: 'district', name: '越秀区', population: 1038900, centroid: null, synthetic: false },
    ]);
    expect(body.nextCursor).toBeNull();
  });

  it('pages through children without repeating or losing any', async () => {
    const { codes, pages } = await walk('/v1/regions/440103002/children', 5);
    expect(pages).toBe(3);
    expect(codes).toEqual(childrenOf('440103002'));
    expect(codes).toHaveLength(12);
  });

  it('lists ancestors root first, without the region itself', async () => {
    const { status, body } = await get('/v1/regions/440103001002/ancestors');
    expect(status).toBe(200);
    expect(body.items.map((r: RegionItem) => [r.code, r.level])).toEqual([
      ['440100', 'city'],
      ['440103', 'district'],
      ['440103001', 'street'],
    ]);
    expect((await get('/v1/regions/440100/ancestors')).body).toEqual({ items: [] });
  });

  it('lists a subtree depth-first, each parent right before its children', async () => {
    const { status, body } = await get('/v1/regions/440100/subtree?limit=200');
    expect(status).toBe(200);
    const codes = body.items.map((r: RegionItem) => r.code);
    expect(codes).toEqual(depthFirst('440100'));
    expect(codes).toHaveLength(ALL.length);
    expect((await get('/v1/regions/440103001/subtree')).body.items.map((r: RegionItem) => r.code)).toEqual([
      '440103001',
      '440103001001',
      '440103001002',
    ]);
  });

  it('limits a subtree to `depth` levels below the region', async () => {
    const codesAt = async (url: string) => (await get(url)).body.items.map((r: RegionItem) => r.code);
    expect(await codesAt('/v1/regions/440100/subtree?depth=0')).toEqual(['440100']);
    expect(await codesAt('/v1/regions/440100/subtree?depth=1')).toEqual(['440100', '440103', '440104']);
    expect(await codesAt('/v1/regions/440103/subtree?depth=1')).toEqual(['440103', '440103001', '440103002']);
    expect(await codesAt('/v1/regions/440100/subtree?depth=2')).toEqual(depthFirst('440100', 2));
  });

  it('pages through a subtree in the same depth-first order', async () => {
    const { codes, pages } = await walk('/v1/regions/440100/subtree', 4);
    expect(pages).toBe(Math.ceil(ALL.length / 4));
    expect(codes).toEqual(depthFirst('440100'));
    expect(new Set(codes).size).toBe(codes.length);

    const limited = await walk('/v1/regions/440103/subtree?depth=1', 2);
    expect(limited.codes).toEqual(['440103', '440103001', '440103002']);
  });

  it('lists regions of one level, and all regions page by page', async () => {
    const { body } = await get('/v1/regions?level=street');
    expect(body.items.map((r: RegionItem) => r.code)).toEqual(['440103001', '440103002', '440104001']);
    expect(body.items.every((r: RegionItem) => r.level === 'street')).toBe(true);
    const { codes } = await walk('/v1/regions', 6);
    expect(codes).toEqual(ALL.map((r) => r.code).sort());
  });

  it('returns one region with its population, centroid and boundary', async () => {
    const { status, body } = await get('/v1/regions/440104001');
    expect(status).toBe(200);
    expect(body).toEqual({
      code: '440104001',
      parentCode: '440104',
      level: 'street',
      name: '北京街道',
      population: 61000,
      centroid: { lat: 23.125, lng: 113.265 },
      synthetic: false,
      geometry: square,
    });
    expect((await get('/v1/regions/440103')).body.geometry).toBeNull();
    // Lists leave boundaries out.
    const listed = (await get('/v1/regions/440104/children')).body.items[0];
    expect(listed).toMatchObject({ code: '440104001', centroid: { lat: 23.125, lng: 113.265 } });
    expect(listed).not.toHaveProperty('geometry');
  });

  it('answers 404 REGION_NOT_FOUND for an unknown code on every region route', async () => {
    for (const url of ['/v1/regions/999999', '/v1/regions/999999/children', '/v1/regions/999999/ancestors', '/v1/regions/999999/subtree']) {
      const res = await app.inject(url);
      expect(res.statusCode, url).toBe(404);
      expect(res.headers['content-type'], url).toContain('application/problem+json');
      expect(res.json(), url).toMatchObject({ status: 404, code: 'REGION_NOT_FOUND', detail: 'Region 999999 does not exist' });
    }
  });

  it('answers 400 INVALID_CURSOR for a cursor it did not produce', async () => {
    const foreign = (await get('/v1/population-groups?limit=1')).body.nextCursor as string; // a two-part key
    const childrenCursor = (await get('/v1/regions/440100/children?limit=1')).body.nextCursor as string;
    for (const url of [
      `/v1/regions/440100/subtree?cursor=${childrenCursor}`, // same shape, other ordering
      '/v1/regions/440100/children?cursor=not-a-cursor',
      '/v1/regions/440100/subtree?cursor=not-a-cursor',
      '/v1/regions?cursor=not-a-cursor',
      `/v1/regions/440100/children?cursor=${foreign}`,
      `/v1/regions?cursor=${encodeCursor('regions.by-code', [])}`,
    ]) {
      const res = await app.inject(url);
      expect(res.statusCode, url).toBe(400);
      expect(res.json(), url).toMatchObject({ code: 'INVALID_CURSOR' });
    }
  });

  it('answers 400 VALIDATION_FAILED for a code that breaks the code pattern', async () => {
    for (const url of ['/v1/regions/bad_code', '/v1/regions/bad_code/children', '/v1/regions/-440100/ancestors', `/v1/regions/${'9'.repeat(40)}/subtree`]) {
      const res = await app.inject(url);
      expect(res.statusCode, url).toBe(400);
      expect(res.json(), url).toMatchObject({ code: 'VALIDATION_FAILED', errors: [expect.objectContaining({ field: 'params.code' })] });
    }
  });

  it('answers 400 for a limit out of range or a depth below zero', async () => {
    expect((await get('/v1/regions/440100/children?limit=201')).status).toBe(400);
    expect((await get('/v1/regions/440100/subtree?depth=-1')).body.code).toBe('VALIDATION_FAILED');
  });

  it('locates a region (path and level) and tells whether it lies in an actor’s scope', async () => {
    const regions = app.diandan.services.regions;
    expect(await regions.locate('440103001002')).toEqual({ path: '440100/440103/440103001/440103001002/', level: 'community' });
    expect(await regions.locate('999999')).toBeUndefined();
    const path = async (code: string) => (await regions.path(code))!;
    const scope = async (code: string) => ({ regionPath: await path(code) });
    expect(inScope(await scope('440100'), await path('440103001002'))).toBe(true);
    expect(inScope(await scope('440103001'), await path('440103001002'))).toBe(true);
    expect(inScope(await scope('440103001'), await path('440103001'))).toBe(true);
    expect(inScope(await scope('440103'), await path('440104'))).toBe(false);
    expect(inScope(await scope('440103001'), await path('440103'))).toBe(false);
    // A code that is a prefix of another region's code is not its ancestor.
    expect(inScope({ regionPath: '44010/' }, await path('440103001'))).toBe(false);
    await expect(regions.pathInScope('440104', await scope('440103'))).rejects.toMatchObject({ code: 'REGION_NOT_FOUND' });
  });
});

describe('region import', () => {
  const valid: RegionInput = { code: '440105', parentCode: '440100', level: 'district', name: '海珠区' };

  /** Expects the import to reject with a DomainError and to change nothing. */
  async function rejectsAndWritesNothing(batch: RegionInput[], expected: { kind: string; code: string; message: RegExp }) {
    const regions = app.diandan.services.regions;
    const before = await regions.count();
    const error = await regions.import(batch).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DomainError);
    expect(error).toMatchObject({ kind: expected.kind, code: expected.code, message: expect.stringMatching(expected.message) });
    expect(await regions.count()).toBe(before);
    expect((await get('/v1/regions/440105')).status).toBe(404);
  }

  it('rejects a level the deployment does not have', async () => {
    await rejectsAndWritesNothing([valid, { code: '440106', parentCode: '440100', level: 'province', name: '省' }], {
      kind: 'invalid',
      code: 'REGION_INVALID',
      message: /level "province" is not one of city, district, street, community/,
    });
  });

  it('rejects a region whose level is not below its parent’s', async () => {
    await rejectsAndWritesNothing([valid, { code: '440103001009', parentCode: '440103001', level: 'street', name: '同级' }], {
      kind: 'invalid',
      code: 'REGION_INVALID',
      message: /440103001009 \(street\) cannot be below 440103001 \(street\)/,
    });
    await rejectsAndWritesNothing([valid, { code: '440105001', parentCode: '440105', level: 'city', name: '倒挂' }], {
      kind: 'invalid',
      code: 'REGION_INVALID',
      message: /cannot be below 440105 \(district\)/,
    });
  });

  it('rejects an unknown parent', async () => {
    await rejectsAndWritesNothing([valid, { code: '449901', parentCode: '449900', level: 'district', name: '无主' }], {
      kind: 'invalid',
      code: 'REGION_INVALID',
      message: /Parent region 449900 does not exist/,
    });
  });

  it('rejects moving a region to another parent', async () => {
    await rejectsAndWritesNothing([valid, { code: '440103002', parentCode: '440104', level: 'street', name: '测试街道二' }], {
      kind: 'conflict',
      code: 'REGION_PARENT_CHANGE',
      message: /Region 440103002 is under 440103; moving it is not supported/,
    });
    expect((await get('/v1/regions/440103002')).body.parentCode).toBe('440103');
  });

  it('rejects changing the level of a stored region', async () => {
    await rejectsAndWritesNothing([valid, { code: '440103001', parentCode: '440103', level: 'community', name: '测试街道一' }], {
      kind: 'conflict',
      code: 'REGION_LEVEL_CHANGE',
      message: /Region 440103001 is a street/,
    });
  });

  it('orders a subtree depth-first even when sibling codes differ in length', async () => {
    await app.diandan.services.regions.import([
      { code: 'R', level: 'city', name: 'R', synthetic: true },
      { code: 'R-12', parentCode: 'R', level: 'district', name: 'R-12', synthetic: true },
      { code: 'R-12-5', parentCode: 'R-12', level: 'street', name: 'R-12-5', synthetic: true },
      { code: 'R-123', parentCode: 'R', level: 'district', name: 'R-123', synthetic: true },
    ]);
    const codes = (await get('/v1/regions/R/subtree')).body.items.map((r: { code: string }) => r.code);
    expect(codes).toEqual(['R', 'R-12', 'R-12-5', 'R-123']);
  });

  it('rejects a region listed twice in one batch', async () => {
    await rejectsAndWritesNothing([valid, { code: '440106', parentCode: '440100', level: 'district', name: '甲' }, { code: '440106', parentCode: '440100', level: 'district', name: '乙' }], {
      kind: 'invalid',
      code: 'REGION_INVALID',
      message: /Region 440106 appears twice/,
    });
  });

  it('rejects codes that break the pattern and parents that form a cycle', async () => {
    await rejectsAndWritesNothing([valid, { code: 'bad code', parentCode: '440100', level: 'district', name: '空格' }], {
      kind: 'invalid',
      code: 'REGION_INVALID',
      message: /"bad code" must match/,
    });
    await rejectsAndWritesNothing(
      [valid, { code: 'loop-a', parentCode: 'loop-b', level: 'street', name: 'A' }, { code: 'loop-b', parentCode: 'loop-a', level: 'street', name: 'B' }],
      { kind: 'invalid', code: 'REGION_INVALID', message: /form a cycle/ },
    );
  });

  it('writes nothing when the database refuses part of a large batch', async () => {
    const regions = app.diandan.services.regions;
    const before = await regions.count();
    // 500 good streets, then one the database rejects (population beyond a 32-bit integer).
    const batch: RegionInput[] = Array.from({ length: 500 }, (_, i) => ({
      code: `bulk-${i}`,
      parentCode: '440104',
      level: 'street',
      name: `批量${i}`,
    }));
    batch.push({ code: 'bulk-bad', parentCode: '440104', level: 'street', name: '太多人', population: 3_000_000_000 });
    await expect(regions.import(batch)).rejects.toThrow();
    expect(await regions.count()).toBe(before);
    expect((await get('/v1/regions/bulk-0')).status).toBe(404);
  });

  it('updates names on re-import without creating anything (idempotent)', async () => {
    const regions = app.diandan.services.regions;
    const before = await regions.count();
    expect(await regions.import(TEST_REGIONS)).toEqual({ created: 0, updated: TEST_REGIONS.length });
    const renamed = { ...TEST_REGIONS.find((r) => r.code === '440104')!, name: '越秀区（新）' };
    expect(await regions.import([renamed])).toEqual({ created: 0, updated: 1 });
    expect(await regions.import([renamed])).toEqual({ created: 0, updated: 1 });
    expect(await regions.count()).toBe(before);
    expect((await get('/v1/regions/440104')).body.name).toBe('越秀区（新）');
    // Its children are untouched.
    expect((await get('/v1/regions/440104/children')).body.items.map((r: RegionItem) => r.code)).toEqual(['440104001']);
  });
});
