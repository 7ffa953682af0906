// HTTP throughput of the supplier registry on PostgreSQL. Every server runs in its own
// process — the hello-world baseline (apps/server/bench/hello.mjs), a deployment with the
// registry and one without it (bench/server.mjs, each on its own throw-away database
// seeded with the same suppliers through the services) — and autocannon drives them
// from this process. Each scenario's req/s and the server's CPU time per request are
// printed next to the hello-world baseline measured in the same run.
//
//   pnpm --filter @diandan/supplier-registry bench            (this and bench/codes.mjs)
//   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres node bench/http.mjs
//
// DATABASE_URL (default the local server above) must allow creating databases;
// BENCH_SECONDS (3) and BENCH_CONNECTIONS (20) change each run, BENCH_ROUNDS (3) how
// many times every scenario runs (figures are medians), BENCH_SUPPLIERS (2000) how
// many approved suppliers are seeded; BENCH_ONLY=<text> runs only the scenarios whose
// name contains it (plus the baseline).
import { createTestDatabase } from '@diandan/testing';
import { usccCheckCharacter } from '@diandan/supplier-registry';
import { helloScript, measureHttp, medianSample, printHttpTable, rpsPercent, startServer } from '../../../apps/server/bench/lib.mjs';
import { bearer } from './fixture.mjs';

const seconds = Number(process.env.BENCH_SECONDS ?? 3);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 20);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const supplierCount = Number(process.env.BENCH_SUPPLIERS ?? 2000);
const only = process.env.BENCH_ONLY ?? '';
process.env.DATABASE_URL ||= 'postgres://postgres@127.0.0.1:5432/postgres';
const serverScript = new URL('./server.mjs', import.meta.url).pathname;

/** Reads one supplier at a time, round the first page of suppliers: the kernel route, with the registry's extension data when it is there. */
const supplierRead = (name, server) => ({
  name,
  server,
  request: (f) => {
    let n = 0;
    return { path: `/v1/suppliers/${f.ids[0]}`, headers: { authorization: f.auth }, setupRequest: (req) => ({ ...req, path: `/v1/suppliers/${f.ids[n++ % f.ids.length]}` }) };
  },
});

// Credit codes of submitted applications: unique over the whole run (every round, every connection).
let applied = 0;
const appliedCode = () => {
  const first17 = `52440103M${String(process.pid % 1000).padStart(3, '0')}${String(applied++).padStart(5, '0')}`;
  return first17 + usccCheckCharacter(first17);
};

/** The scenarios, in the order every round runs them; `server`: 'hello', 'registry' or 'kernel' (the deployment without the registry). */
const scenarios = [
  { name: 'hello world (baseline)', server: 'hello', request: () => ({ path: '/' }) },
  { name: 'kernel product list (50), cached', server: 'registry', request: (f) => ({ path: '/v1/products?category=performance&limit=50', headers: { authorization: f.auth } }) },
  { name: 'directory, first page (20)', server: 'registry', request: () => ({ path: '/v1/supplier-directory?limit=20' }) },
  {
    name: 'directory search (name + category + region, 20)',
    server: 'registry',
    // A different name fragment each time: 基准剧团1, 基准剧团12, … (a substring search over every approved supplier).
    request: () => {
      let n = 0;
      const path = (i) => `/v1/supplier-directory?q=${encodeURIComponent(`剧团${1 + (i % 9)}`)}&category=lecture&region=440103001001&limit=20`;
      return { path: path(0), setupRequest: (req) => ({ ...req, path: path(n++) }) };
    },
  },
  supplierRead('supplier read, with registry extension', 'registry'),
  supplierRead('supplier read, without the registry', 'kernel'),
  {
    name: 'application submission (POST, Idempotency-Key)',
    server: 'registry',
    request: (f) => {
      const body = () =>
        JSON.stringify({
          name: '基准申请（虚构）',
          kind: 'troupe',
          regionCode: '440103',
          creditCode: appliedCode(),
          categories: ['performance'],
          regionsServed: ['440103'],
          contacts: [{ name: '陈基准', phone: '13800138000', title: '团长' }],
          qualifications: [{ type: '营业性演出许可证', number: 'BENCH-PERF', issuer: '基准文化广电局', validFrom: '2024-01-01', validUntil: '2030-12-31', mandatory: true }],
        });
      return {
        method: 'POST',
        path: '/v1/supplier-applications',
        headers: { authorization: f.applicant, 'content-type': 'application/json' },
        setupRequest: (req) => ({ ...req, headers: { ...req.headers, 'idempotency-key': `bench-${process.pid}-${applied}` }, body: body() }),
      };
    },
  },
];

/** Starts (once) a scenario's server and seeds its database; returns what its requests need. */
const servers = new Map();
function serverFor(kind) {
  if (!servers.has(kind)) {
    servers.set(
      kind,
      (async () => {
        if (kind === 'hello') return { server: await startServer(helloScript), fixture: {} };
        const database = await createTestDatabase();
        let server;
        try {
          server = await startServer(serverScript, {
            args: [`--registry=${kind === 'registry' ? 'on' : 'off'}`, `--suppliers=${supplierCount}`],
            env: { DATABASE_URL: database.config.url },
            timeoutMs: 170_000,
          });
          const auth = await bearer({ sub: 'bench-reviewer', roles: ['reviewer'], region: '440100' });
          const page = await (await fetch(`${server.url}/v1/suppliers?limit=100`, { headers: { authorization: auth } })).json();
          const fixture = { auth, ids: page.items.map((s) => s.id), applicant: await bearer({ sub: 'bench-applicant', roles: ['supplier'], region: '440103' }) };
          if (fixture.ids.length === 0) throw new Error(`the ${kind} server has no suppliers: ${JSON.stringify(page)}`);
          return { server, database, fixture };
        } catch (error) {
          await server?.stop().catch(() => {});
          await database.drop();
          throw error;
        }
      })(),
    );
  }
  return servers.get(kind);
}

const selected = scenarios.filter((s, i) => i === 0 || s.name.includes(only));
const samples = new Map(selected.map((s) => [s.name, []]));
const started = performance.now();
try {
  // Start (and seed) the servers side by side: seeding is most of the bench's time.
  await Promise.all([...new Set(selected.map((s) => s.server))].map(serverFor));
  console.log(`  servers started and seeded in ${((performance.now() - started) / 1000).toFixed(1)} s (${supplierCount} suppliers each)`);
  for (let round = 0; round < rounds; round++) {
    for (const scenario of selected) {
      const { server, fixture } = await serverFor(scenario.server);
      const { path, ...options } = scenario.request(fixture);
      samples.get(scenario.name).push(await measureHttp(scenario.name, server, path, options, { seconds, connections }));
    }
  }
} finally {
  for (const s of await Promise.allSettled(servers.values())) {
    if (s.status !== 'fulfilled') continue;
    await s.value.server.stop().catch((error) => console.error(error.message));
    await s.value.database?.drop();
  }
}

const results = selected.map(({ name }) => ({ name, ...medianSample(samples.get(name)) }));
console.log(
  `Supplier registry, HTTP on PostgreSQL — ${supplierCount} approved suppliers, ${connections} connections, ${seconds} s per scenario, median of ${rounds} rounds; autocannon in this process, each server in its own`,
);
printHttpTable(results);
const find = (name) => results.find((r) => r.name.startsWith(name));
const list = find('kernel product list');
console.log(`  × hello world: req/s as a share of the bare Fastify's (1.000 = as fast); server CPU/req as a multiple of its.`);
console.log(`  directory first page / kernel product list (cached): ${rpsPercent(find('directory, first page'), list)}   (an uncached query vs the kernel's cached list)`);
console.log(`  directory search / directory first page:             ${rpsPercent(find('directory search'), find('directory, first page'))}   (the cost of the name, category and region filters)`);
console.log(`  supplier read with the registry / without:           ${rpsPercent(find('supplier read, with'), find('supplier read, without'))}   (the extension data's cost: 100% = free)`);
console.log(`  application submission / kernel product list:        ${rpsPercent(find('application submission'), list)}   (a validated, encrypted, audited write)`);
if (results.some((r) => r.bad)) {
  console.error('some requests failed');
  process.exitCode = 1;
}
