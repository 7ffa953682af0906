// Bid submission throughput of procurement on PostgreSQL: the hello-world baseline
// (apps/server/bench/hello.mjs) and a procurement deployment (bench/server.mjs, on a
// throw-away database) each in its own process, driven by autocannon from this one.
// Every bid is sealed (AES-256-GCM under an HKDF-derived per-tender key, plus a SHA-256
// commitment), replaces the supplier's previous one, and is audited.
//
//   pnpm --filter @diandan/procurement bench
//
// DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres) must allow creating
// databases; BENCH_SECONDS (3), BENCH_CONNECTIONS (20), BENCH_ROUNDS (3, medians).
import { createCipheriv, randomBytes } from 'node:crypto';
import { BidSealer } from '@diandan/procurement';
import { createTestDatabase } from '@diandan/testing';
import { helloScript, httpBenchSettings, measureHttp, median, medianSample, printHttpTable, rpsPercent, startServer } from '../../../apps/server/bench/lib.mjs';
import { BENCH_SEALING_KEY, adminToken, bidBody, call, projectBody, supplierToken } from './fixture.mjs';

const { seconds, connections, rounds } = httpBenchSettings();

const database = await createTestDatabase();
const hello = await startServer(helloScript);
let server;
const samples = { hello: [], read: [], bid: [] };
try {
  server = await startServer(new URL('./server.mjs', import.meta.url).pathname, { args: ['--suppliers=100'], env: { DATABASE_URL: database.config.url }, timeoutMs: 170_000 });
  const admin = await adminToken();
  const created = await call(server.url, 'POST', '/v1/procurement/projects', { auth: admin, body: projectBody('基准招标（虚构）', new Date(Date.now() + 86_400_000)) });
  const project = created.body;
  await call(server.url, 'POST', `/v1/procurement/projects/${project.id}/publish`, { auth: admin, headers: { 'if-match': created.etag } });
  const suppliers = (await call(server.url, 'GET', '/v1/suppliers?limit=100', { auth: admin })).body.items.map((s) => s.id);
  const tokens = await Promise.all(suppliers.map(supplierToken));
  const body = bidBody('L1', 90_000);
  let n = 0;
  const bid = () => ({
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    setupRequest: (req) => ({ ...req, headers: { ...req.headers, authorization: tokens[n % tokens.length], 'idempotency-key': `bench-${process.pid}-${n++}` }, body: JSON.stringify({ ...body, price: 80_000 + (n % 1000) }) }),
  });
  for (let round = 0; round < rounds; round++) {
    samples.hello.push(await measureHttp('hello', hello, '/', {}, { seconds, connections }));
    samples.read.push(await measureHttp('project read', server, `/v1/procurement/projects/${project.id}`, {}, { seconds, connections }));
    samples.bid.push(await measureHttp('bid submission', server, `/v1/procurement/projects/${project.id}/bids`, bid(), { seconds, connections }));
  }
} finally {
  await server?.stop().catch((e) => console.error(e.message));
  await hello.stop();
  await database.drop();
}

// In process: the sealing alone, next to one plain AES-256-GCM encryption of the same plaintext under a fixed key.
const sealer = new BidSealer(BENCH_SEALING_KEY);
const content = { price: 90_000, proposal: bidBody('L1', 1).proposal, documents: [] };
const key = randomBytes(32);
const plain = Buffer.from(JSON.stringify(content));
const time = (f, ops = 5000) => {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < ops; i++) f(i);
  return Number(process.hrtime.bigint() - t0) / ops / 1000;
};
const sealUs = [], aesUs = [];
for (let r = 0; r < 7; r++) {
  sealUs.push(time((i) => sealer.seal({ bidId: `b${i}`, projectId: 'p', lotId: 'L1', supplierId: 's' }, content)));
  aesUs.push(time(() => { const c = createCipheriv('aes-256-gcm', key, randomBytes(12)); Buffer.concat([c.update(plain), c.final()]); c.getAuthTag(); }));
}

const results = [
  { name: 'hello world (baseline)', ...medianSample(samples.hello) },
  { name: 'project read (GET)', ...medianSample(samples.read) },
  { name: 'bid submission (POST, sealed, one tender)', ...medianSample(samples.bid) },
];
console.log(`Procurement, HTTP on PostgreSQL — ${connections} connections, ${seconds} s per scenario, median of ${rounds} rounds; autocannon in this process, each server in its own`);
printHttpTable(results);
console.log(`  × hello world: req/s as a share of the bare Fastify's; server CPU/req as a multiple of its.`);
console.log(`  bid submission / project read: ${rpsPercent(results[2], results[1])}   (a sealed, audited write that locks the tender row, vs a read)`);
console.log(`  in process: BidSealer.seal ${median(sealUs).toFixed(1)} µs per bid vs plain AES-256-GCM ${median(aesUs).toFixed(1)} µs (× ${(median(sealUs) / median(aesUs)).toFixed(1)}: HKDF + commitment + JSON)`);
if (results.some((r) => r.bad)) process.exitCode = 1;
