// HTTP throughput on PostgreSQL. Every server runs in its own process — a bare
// Fastify hello-world (the baseline, bench/hello.mjs) and the demo deployment
// (bench/server.mjs, on a throw-away database with a library of 2,000 products) —
// and autocannon drives them from this process. Each scenario's req/s, and the CPU
// time its server spent per request, are printed next to the hello-world baseline
// measured in the same run.
//
//   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres pnpm --filter @diandan/server bench:http
//
// DATABASE_URL (default the local server above) must allow creating databases;
// BENCH_SECONDS (8) and BENCH_CONNECTIONS (20) change each run, BENCH_ROUNDS (3) how
// many times every scenario runs (figures are medians); BENCH_ONLY=<text>
// runs only the scenarios whose name contains it (plus the baseline).
//
// Adding a scenario: append to `scenarios` below. `with: ['name']` runs it against a
// server started with those bench-only plugins (bench/plugins.mjs) — its own process
// and database, with the same library — so "order placement with a guard registered"
// is the order placement scenario with `with: ['guard']`.
import { kernelTables, openDatabase, signDevelopmentToken } from '@diandan/kernel';
import { createTestDatabase } from '@diandan/testing';
import { measureHttp, medianSample, printHttpTable, rpsPercent, startServer } from './lib.mjs';

const seconds = Number(process.env.BENCH_SECONDS ?? 8);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 20);
const only = process.env.BENCH_ONLY ?? '';
process.env.DATABASE_URL ||= 'postgres://postgres@127.0.0.1:5432/postgres';
const secret = 'bench-secret-0123456789abcdefghijklmnop';
const year = new Date().getFullYear() + 1; // clear of the demo data's budgets

/** The cached product list: the same search every time. */
function productList(name) {
  // The same search every time: after the first request it comes from the library cache.
  return { name, server: 'diandan', request: (f) => ({ path: '/v1/products?category=performance&group=elderly&limit=50', headers: { authorization: f.unitAuth } }) };
}

/** Order placement round all listed products. */
function orderPlacement(name) {
  return {
    name,
    server: 'diandan',
    // Round all listed products: each product's first order reads its facts from the
    // database, later ones find them remembered (src/orders/placement.ts).
    request: (f) => {
      let n = 0;
      return {
        method: 'POST',
        path: '/v1/orders',
        headers: { authorization: f.unitAuth, 'content-type': 'application/json' },
        setupRequest: (req) => ({
          ...req,
          headers: { ...req.headers, 'idempotency-key': `bench-${process.pid}-${n++}` },
          body: JSON.stringify({
            unitId: f.unit,
            productId: f.listed[n % f.listed.length],
            venueId: f.venue,
            windowStart: `${year}-05-01`,
            windowEnd: `${year}-05-31`,
            expectedAudience: 100,
          }),
        }),
      };
    },
  };
}

/**
 * The scenarios, in the order they run. `server` is 'hello' (the baseline) or
 * 'diandan'; `with` lists bench-only plugins for the Diandan server, `args` more
 * bench/server.mjs options; `request(f)` returns autocannon options (path, method,
 * headers, body, setupRequest…) for the fixture `f` (see `seedLibrary`).
 */
const scenarios = [
  { name: 'hello world (baseline)', server: 'hello', request: () => ({ path: '/' }) },
  productList('product list (50), cached'),
  {
    name: 'product list (50), uncached',
    server: 'diandan',
    // A different cost ceiling each time: every request misses the cache.
    request: (f) => {
      let ceiling = 0;
      return {
        path: '/v1/products',
        headers: { authorization: f.unitAuth },
        setupRequest: (req) => ({ ...req, path: `/v1/products?category=performance&group=elderly&limit=50&costMax=${1_000_000 + (ceiling++ % 1_000_000)}` }),
      };
    },
  },
  orderPlacement('order placement'),
  { ...productList('product list (50), cached, extension registered'), with: ['extension'] },
  { ...productList('product list (50), cached, limits off'), args: '--limits=off' },
  { ...orderPlacement('order placement, guard registered'), with: ['guard'] },
  { ...orderPlacement('order placement, per-order guard registered'), with: ['guard-each'] },
  { ...orderPlacement('order placement, limits off'), args: '--limits=off' },
];

/** Inserts the bench library into a server's database and returns what requests need. */
async function seedLibrary(url, base) {
  const { db, close } = await openDatabase({ url, maxConnections: 1 });
  try {
    const [supplier] = await db.insert(kernelTables.suppliers).values({ name: '基准供应商', kind: 'troupe' }).returning();
    const [unit] = await db.insert(kernelTables.units).values({ regionCode: '440103001001', name: '基准单位', kind: 'cultural-station' }).returning();
    const [venue] = await db
      .insert(kernelTables.venues)
      .values({ regionCode: '440103001001', name: '基准场馆', kind: 'community-room', capacity: 500, address: '基准路' })
      .returning();
    const categories = ['performance', 'lecture', 'exhibition', 'training'];
    await db.insert(kernelTables.products).values(
      Array.from({ length: 2000 }, (_, i) => ({
        supplierId: supplier.id,
        status: i % 10 === 9 ? 'draft' : 'listed',
        title: `示范产品 ${i} 粤剧折子戏`,
        summary: `第 ${i} 个示范产品的简介，适合长者与青少年`,
        description: '长文本'.repeat(500),
        category: categories[i % categories.length],
        form: '现场演出',
        targetGroups: i % 2 ? ['elderly', 'general-public'] : ['youth'],
        audienceMin: 20,
        audienceMax: 300,
        durationMinutes: 90,
        costPerSession: 1000 + (i % 50) * 10,
        serviceableRegions: ['440100'],
        tags: ['示范'],
      })),
    );
    await db.insert(kernelTables.budgets).values(
      ['440100', '440103', '440103001', '440103001001'].map((regionCode) => ({ regionCode, year, allocated: 1_000_000_000 })),
    );
    // Written behind the server's back: tell it to drop its library cache, as a listing does.
    await db.execute("select pg_notify('diandan_library', '')");
    const unitAuth = `Bearer ${await signDevelopmentToken(secret, { sub: 'bench-unit', roles: ['unit-operator'], region: '440103001001', unit: unit.id })}`;
    const listed = [];
    for (let cursor = ''; cursor !== null; ) {
      const res = await fetch(`${base}/v1/products?limit=100${cursor && `&cursor=${cursor}`}`, { headers: { authorization: unitAuth } });
      const page = await res.json();
      listed.push(...page.items.map((p) => p.id));
      cursor = page.nextCursor;
    }
    return { unit: unit.id, venue: venue.id, listed, unitAuth };
  } finally {
    await close();
  }
}

/** Starts (once) the server a scenario needs: the baseline, or a Diandan server with its bench plugins. */
const servers = new Map();
async function serverFor(scenario) {
  const key = scenario.server === 'hello' ? 'hello' : `diandan:${(scenario.with ?? []).join(',')}:${scenario.args ?? ''}`;
  if (!servers.has(key)) {
    servers.set(
      key,
      (async () => {
        if (scenario.server === 'hello') return { server: await startServer('bench/hello.mjs'), fixture: {} };
        const database = await createTestDatabase();
        let server;
        try {
          server = await startServer('bench/server.mjs', {
            args: [`--with=${(scenario.with ?? []).join(',')}`, '--pool=20', ...(scenario.args ? [scenario.args] : [])],
            env: { DATABASE_URL: database.config.url, DIANDAN_JWT_SECRET: secret },
          });
          return { server, database, fixture: await seedLibrary(database.config.url, server.url) };
        } catch (error) {
          await server?.stop().catch(() => {});
          await database.drop();
          throw error;
        }
      })(),
    );
  }
  return servers.get(key);
}

const selected = scenarios.filter((s, i) => i === 0 || s.name.includes(only));
// Every round runs every scenario once, so a burst of load elsewhere on the machine
// hits one round, not one scenario; each figure is the median over the rounds.
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const samples = new Map(selected.map((s) => [s.name, []]));
try {
  for (let round = 0; round < rounds; round++) {
    for (const scenario of selected) {
      const { server, fixture } = await serverFor(scenario);
      const { path, ...options } = scenario.request(fixture);
      samples.get(scenario.name).push(await measureHttp(scenario.name, server, path, options, { seconds, connections }));
    }
  }
} finally {
  // Stop every server and drop its database, also when a scenario failed.
  for (const started of await Promise.allSettled(servers.values())) {
    if (started.status !== 'fulfilled') continue;
    await started.value.server.stop().catch((error) => console.error(error.message));
    await started.value.database?.drop();
  }
}

const results = selected.map(({ name }) => ({ name, ...medianSample(samples.get(name)) }));
const [baseline] = results;
console.log(
  `HTTP on PostgreSQL — ${connections} connections, ${seconds} s per scenario, median of ${rounds} rounds; autocannon in this process, each server in its own`,
);
printHttpTable(results);
const find = (name) => results.find((r) => r.name === name);
const pct = rpsPercent;
const list = find('product list (50), cached');
const place = find('order placement');
console.log(`  product list (cached) / hello world: ${pct(list, baseline)}   (target ≥ 15%)`);
console.log(`  order placement / product list:      ${pct(place, list)}   (target ≥ 20%)`);
const guarded = find('order placement, guard registered');
const extended = find('product list (50), cached, extension registered');
console.log(`  placement with a guard / without:    ${pct(guarded, place)}   (target ≥ 90%; batch guard, one query per batch)`);
console.log(`  placement with a per-order guard / without: ${pct(find('order placement, per-order guard registered'), place)}   (one query per order)`);
console.log(`  cached list with an extension / without: ${pct(extended, list)}`);
console.log(`  with the limits on / off: cached list ${pct(list, find('product list (50), cached, limits off'))}, placement ${pct(place, find('order placement, limits off'))}   (target 90–110%)`);
if (results.some((r) => r.bad)) {
  console.error('some requests failed');
  process.exitCode = 1;
}
