// Public response submission throughput on PostgreSQL, next to baselines measured in the
// same run: a bare Fastify hello-world (apps/server/bench/hello.mjs, its own process),
// the survey server's own `GET /health`, and the kernel's product list (50, cached) on
// that server. The survey server (bench/server.mjs) runs in its own process on a
// throw-away database; autocannon drives both from this process.
//
//   pnpm --filter @diandan/survey bench          (runs bench/aggregate.mjs, then this)
//   node bench/submit.mjs                         (this one alone)
//
// DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres) must allow creating
// databases; BENCH_SECONDS (3), BENCH_CONNECTIONS (20), BENCH_ROUNDS (3, medians).
//
// A submission (POST /v1/public/surveys/:slug/responses, anonymous) checks the answers
// against the published definition (conditions included), checks the respondent's
// region and group, counts the client in the database-backed rate limit, stores the
// response and its demand records and publishes `survey.demand-updated` (durable) — one
// transaction.
import { createTestDatabase, testToken } from '@diandan/testing';
import { helloScript, httpBenchSettings, measureHttp, medianSample, printHttpTable, rpsPercent, startServer } from '../../../apps/server/bench/lib.mjs';

const { seconds, connections, rounds } = httpBenchSettings();

const database = await createTestDatabase();
const hello = await startServer(helloScript);
let server;
const samples = { hello: [], health: [], products: [], definition: [], submit: [] };
try {
  server = await startServer(new URL('./server.mjs', import.meta.url).pathname, { env: { DATABASE_URL: database.config.url }, timeoutMs: 170_000 });
  const admin = { authorization: `Bearer ${await testToken({ roles: ['city-admin'], region: '440100', sub: 'bench-admin' })}` };
  let slug;
  for (const started = Date.now(); !slug; await new Promise((r) => setTimeout(r, 200))) {
    if (Date.now() - started > 120_000) throw new Error('the bench questionnaire was not seeded within 120 s');
    const res = await fetch(`${server.url}/v1/surveys?limit=10`, { headers: admin });
    if (res.ok) slug = (await res.json()).items.find((q) => q.status === 'published')?.slug;
  }
  const units = await (await fetch(`${server.url}/v1/units?limit=10`, { headers: admin })).json();
  const unit = units.items.find((u) => u.regionCode === '440103001001');
  const operator = { authorization: `Bearer ${await testToken({ roles: ['unit-operator'], region: unit.regionCode, unit: unit.id, sub: 'bench-operator' })}` };
  const streets = ['440103001001', '440103001002', '440103001', '440103002', '440104'];
  const groups = ['elderly', 'children', 'youth', 'general-public'];
  let n = 0;
  const submit = {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    setupRequest: (req) => {
      const i = n++;
      return {
        ...req,
        body: JSON.stringify({
          answers: { attends: i % 4 ? 'often' : 'never', ...(i % 4 ? {} : { why_not: ['time'] }), wants: i % 2 ? ['opera', 'film'] : ['reading'], lectures: 1 + (i % 5), times: ['weekend', 'weekday_day', 'weekday_evening'], satisfaction: { venues: 'high', events: 'mid' }, visits: i % 30 },
          respondent: { regionCode: streets[i % streets.length], group: groups[i % groups.length], ageBand: '60-74', language: 'cantonese' },
        }),
      };
    },
  };
  for (let round = 0; round < rounds; round++) {
    samples.hello.push(await measureHttp('hello', hello, '/', {}, { seconds, connections }));
    samples.health.push(await measureHttp('health', server, '/health', {}, { seconds, connections }));
    samples.products.push(await measureHttp('product list', server, '/v1/products?limit=50', { headers: operator }, { seconds, connections }));
    samples.definition.push(await measureHttp('public definition', server, `/v1/public/surveys/${slug}`, {}, { seconds, connections }));
    samples.submit.push(await measureHttp('submission', server, `/v1/public/surveys/${slug}/responses`, submit, { seconds, connections }));
  }
} finally {
  await server?.stop().catch((e) => console.error(e.message));
  await hello.stop();
  await database.drop();
}

const results = [
  { name: 'hello world (baseline)', ...medianSample(samples.hello) },
  { name: 'GET /health (same server)', ...medianSample(samples.health) },
  { name: 'product list (50), cached', ...medianSample(samples.products) },
  { name: 'public definition (GET)', ...medianSample(samples.definition) },
  { name: 'response submission (POST, anonymous)', ...medianSample(samples.submit) },
];
console.log(`Survey, HTTP on PostgreSQL — ${connections} connections, ${seconds} s per scenario, median of ${rounds} rounds; autocannon in this process, each server in its own`);
printHttpTable(results);
console.log(`  response submission / product list: ${rpsPercent(results[4], results[2])}   / GET /health: ${rpsPercent(results[4], results[1])}   (one transaction: answers checked, response + demand records stored, durable event; plus the rate-limit counter)`);
if (results.some((r) => r.bad)) process.exitCode = 1;
