// Bid opening (开标) and the OCDS record of a tender with many tenderers, on PostgreSQL,
// in process (one request each: nothing to load-generate): a tender with BENCH_BIDS
// (1000) sealed bids from as many suppliers is opened (POST …/open: every bid unsealed
// and written, the tenderUpdate release built), then its record package (GET
// …/ocds/record: the compiled release merged from planning, tender and tenderUpdate,
// each with 1000 parties and tenderers) is read. Next to them, in the same run and on
// the same database:
//   - a plain set-based UPDATE of as many rows of a scratch table (one statement),
//   - as many single-row UPDATEs in one transaction (what an opening did per bid before),
//   - GET …/ocds/releases (the same stored releases, read and serialised, no merging).
//
//   pnpm --filter @diandan/procurement bench
//
// DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres) must allow creating
// databases; BENCH_BIDS (1000), BENCH_ROUNDS (3, medians).
import { sql } from 'drizzle-orm';
import { procurement } from '@diandan/procurement';
import { actors, client, createTestServer, seedOrderingLoop } from '@diandan/testing';
import { median } from '../../../apps/server/bench/lib.mjs';
import { BENCH_SEALING_KEY, bidBody } from './fixture.mjs';

process.env.DATABASE_URL ??= 'postgres://postgres@127.0.0.1:5432/postgres';
const N = Number(process.env.BENCH_BIDS ?? 1000);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);

const app = await createTestServer({ plugins: [procurement({ sealingKey: BENCH_SEALING_KEY })] });
const ms = async (f) => {
  const t0 = performance.now();
  const r = await f();
  return [performance.now() - t0, r];
};
const samples = { open: [], setUpdate: [], rowUpdates: [], record: [], releases: [] };
try {
  const call = client(app);
  const fx = await seedOrderingLoop(app);
  const kernel = app.diandan.services;
  const db = app.diandan.database.db;
  const services = app.diandan.plugins.find((p) => p.definition.name === 'procurement').services;
  const city = await kernel.access.systemActor('bench', { roles: ['city-admin'], region: '440100' });
  const suppliers = [];
  for (let i = 0; i < N; i++) suppliers.push((await kernel.suppliers.create({ name: `基准供应商${i}（虚构）`, kind: 'troupe' }, { actor: city })).id);
  const admin = actors.districtAdmin('440103');
  const body = bidBody('L1', 90_000);
  await db.execute(sql`create table bench_rows (id int primary key, status text not null, price int, proposal text)`);
  await db.execute(sql`insert into bench_rows select g, 'sealed', null, null from generate_series(1, ${N}) g`);

  for (let round = 0; round < rounds; round++) {
    const now = await services.clock.now();
    const created = await call(admin, 'POST', '/v1/procurement/projects', {
      buyerUnitId: fx.units.street.id,
      method: 'open-tender',
      title: `基准开标（虚构）${round}`,
      description: '基准（虚构）',
      category: 'performance',
      estimate: 100_000,
      lots: [{ id: 'L1', title: '基准标段', value: 100_000 }],
      items: [{ id: 'I1', description: '基准', quantity: 1, unit: '场', relatedLot: 'L1' }],
      panel: ['expert-a'],
      priceWeight: 60,
      qualityWeight: 40,
      enquiryPeriodEnd: new Date(now.getTime() + 3_600_000).toISOString(),
      tenderPeriodEnd: new Date(now.getTime() + 7_200_000).toISOString(),
    });
    if (created.status !== 201) throw new Error(JSON.stringify(created.body));
    const project = created.body;
    const published = await call(admin, 'POST', `/v1/procurement/projects/${project.id}/publish`, undefined, { 'if-match': created.etag });
    for (let i = 0; i < N; i++) {
      const res = await call(actors.supplier(suppliers[i]), 'POST', `/v1/procurement/projects/${project.id}/bids`, { ...body, price: 80_000 + i });
      if (res.status !== 201) throw new Error(JSON.stringify(res.body));
    }
    await services.clock.advancePast(new Date(now.getTime() + 7_200_000));

    const [openMs, opened] = await ms(() => call(admin, 'POST', `/v1/procurement/projects/${project.id}/open`, undefined, { 'if-match': published.etag }));
    if (opened.status !== 200) throw new Error(JSON.stringify(opened.body));
    samples.open.push(openMs);

    const proposal = body.proposal;
    samples.setUpdate.push((await ms(() => db.execute(sql`update bench_rows set status = 'valid', price = id + ${round}, proposal = ${proposal}`)))[0]);
    samples.rowUpdates.push(
      (
        await ms(() =>
          db.transaction(async (tx) => {
            for (let i = 1; i <= N; i++) await tx.execute(sql`update bench_rows set status = 'valid', price = ${i + round}, proposal = ${proposal} where id = ${i}`);
          }),
        )
      )[0],
    );
    for (let r = 0; r < 3; r++) {
      const [recordMs, record] = await ms(() => call(null, 'GET', `/v1/procurement/projects/${project.id}/ocds/record`));
      if (record.status !== 200 || record.body.records[0].compiledRelease.tender.numberOfTenderers !== N) throw new Error('bad record');
      samples.record.push(recordMs);
      samples.releases.push((await ms(() => call(null, 'GET', `/v1/procurement/projects/${project.id}/ocds/releases`)))[0]);
    }
  }
} finally {
  await app.close();
}

const m = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)]));
const row = (name, v, base) => console.log(`  ${name.padEnd(58)} ${v.toFixed(1).padStart(9)} ms${base ? `   × ${(v / base).toFixed(2)} of the baseline` : ''}`);
console.log(`Procurement opening and OCDS record, ${N} bids / tenderers, in process on PostgreSQL — median of ${rounds} rounds (record: ${rounds * 3} reads)`);
row(`plain set-based UPDATE of ${N} rows (baseline)`, m.setUpdate);
row(`${N} single-row UPDATEs in one transaction (baseline)`, m.rowUpdates, m.setUpdate);
row(`POST …/open: ${N} sealed bids unsealed and written`, m.open, m.setUpdate);
row(`GET …/ocds/releases: stored releases, no merge (baseline)`, m.releases);
row(`GET …/ocds/record: compiled release of ${N} tenderers`, m.record, m.releases);
