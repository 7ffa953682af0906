// HTTP throughput on PostgreSQL, in one run: a bare Fastify hello-world (the
// baseline), the product list (50 items, filtered) and order placement, each driven
// by autocannon against a server listening on loopback. Prints req/s and p99 and the
// ratios the ordering-loop issue sets as targets. Run after a build:
//   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres pnpm --filter @diandan/server bench:http
import autocannon from 'autocannon';
import Fastify from 'fastify';
import { createServer, signDevelopmentToken } from '@diandan/kernel';
import { createTestDatabase, seedRegions, TEST_REGIONS } from '@diandan/testing';

const seconds = Number(process.env.BENCH_SECONDS ?? 8);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 20);
process.env.DATABASE_URL ||= 'postgres://postgres@127.0.0.1:5432/postgres';
const secret = 'bench-secret-0123456789abcdefghijklmnop';

function run(title, url, options = {}) {
  return new Promise((resolve, reject) => {
    autocannon({ url, connections, duration: seconds, ...options }, (err, result) => (err ? reject(err) : resolve(result)));
  }).then((r) => {
    const bad = r.non2xx + r.errors + r.timeouts;
    const line = { title, rps: r.requests.average, p99: r.latency.p99, bad };
    console.log(`  ${title.padEnd(22)} ${line.rps.toFixed(0).padStart(7)} req/s   p99 ${String(line.p99).padStart(4)} ms${bad ? `   (${bad} failed)` : ''}`);
    return line;
  });
}

// Baseline: Fastify answering a constant, in this process.
const hello = Fastify();
hello.get('/', async () => ({ hello: 'world' }));
await hello.listen({ port: 0, host: '127.0.0.1' });

// The kernel on a fresh Postgres database with a realistic library.
const database = await createTestDatabase();
const app = await createServer({
  city: 'Bench City',
  levels: ['city', 'district', 'street', 'community'],
  database: database.config,
  auth: { secret },
  logger: false,
});
await seedRegions(app, TEST_REGIONS);
const { db } = app.diandan.database;
const t = app.diandan.services;
const { kernelTables } = await import('@diandan/kernel');
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
  ['440100', '440103', '440103001', '440103001001'].map((regionCode) => ({ regionCode, year: 2027, allocated: 1_000_000_000 })),
);
void t;
await app.listen({ port: 0, host: '127.0.0.1' });
const base = `http://127.0.0.1:${app.server.address().port}`;
const token = (claims) => signDevelopmentToken(secret, claims);
const unitAuth = `Bearer ${await token({ sub: 'bench-unit', roles: ['unit-operator'], region: '440103001001', unit: unit.id })}`;
// Orders go round all 1,800 listed products, so each product's first order reads its
// facts from the database and later ones find them remembered (src/orders/placement.ts).
const listed = [];
for (let cursor = ''; cursor !== null; ) {
  const page = (await app.inject({ url: `/v1/products?limit=100${cursor && `&cursor=${cursor}`}`, headers: { authorization: unitAuth } })).json();
  listed.push(...page.items.map((p) => p.id));
  cursor = page.nextCursor;
}

console.log(`HTTP on PostgreSQL — ${connections} connections, ${seconds} s each, autocannon in the same process`);
const baseline = await run('hello world', `http://127.0.0.1:${hello.server.address().port}/`);
const list = await run('product list (50)', `${base}/v1/products?category=performance&group=elderly&limit=50`, {
  headers: { authorization: unitAuth },
});
// The same search with a different cost ceiling each time: every request misses the
// cache, so this is what the database and the lean projection alone deliver.
let ceiling = 0;
const uncached = await run('product list, uncached', `${base}/v1/products`, {
  headers: { authorization: unitAuth },
  requests: [
    {
      setupRequest: (req) => ({
        ...req,
        path: `/v1/products?category=performance&group=elderly&limit=50&costMax=${1_000_000 + (ceiling++ % 1_000_000)}`,
      }),
    },
  ],
});
let n = 0;
const place = await run('order placement', `${base}/v1/orders`, {
  method: 'POST',
  headers: { authorization: unitAuth, 'content-type': 'application/json' },
  requests: [
    {
      setupRequest: (req) => ({
        ...req,
        headers: { ...req.headers, 'idempotency-key': `bench-${process.pid}-${n++}` },
        body: JSON.stringify({
          unitId: unit.id,
          productId: listed[n % listed.length],
          venueId: venue.id,
          windowStart: '2027-05-01',
          windowEnd: '2027-05-31',
          expectedAudience: 100,
        }),
      }),
    },
  ],
});

const pct = (a, b) => `${((a.rps / b.rps) * 100).toFixed(1)}%`;
console.log(`product list / hello world:   ${pct(list, baseline)}   (target ≥ 15%)`);
console.log(`uncached list / hello world:  ${pct(uncached, baseline)}`);
console.log(`order placement / list:       ${pct(place, list)}   (target ≥ 20%)`);
console.log(`order placement / uncached:   ${pct(place, uncached)}`);
await app.close();
await hello.close();
if (list.bad || uncached.bad || place.bad) {
  console.error('some requests failed');
  process.exitCode = 1;
}
