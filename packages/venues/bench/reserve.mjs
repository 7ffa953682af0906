// Reservation throughput on PostgreSQL: one contended (hot) session — every client books
// the same few seats, the rest join its waiting list — next to an uncontended baseline
// (the same booking spread over many roomy sessions), the kernel's product list (50) and
// a bare Fastify hello-world, all measured in the same run. The venues server
// (bench/server.mjs) runs in its own process on a throw-away database; autocannon drives
// it from this process. At the end every session's confirmed seats are counted in the
// database and compared with its capacity (the overbooking check; non-zero exit if any).
//
//   pnpm --filter @diandan/venues bench
//
// DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres) must allow creating
// databases; BENCH_SECONDS (3), BENCH_CONNECTIONS (20), BENCH_ROUNDS (3, medians),
// BENCH_CITIZENS (4000: distinct citizens, each books a hot session at most once),
// BENCH_HOT_SEATS (20), BENCH_SESSIONS (400 roomy sessions).
//
// A booking (POST /v1/venue-sessions/:id/reservations, citizen token) is one transaction:
// the token's citizen, the citizen's row and the session's row locked (in that order), the
// no-show block, the per-session and per-month limits, the waiting-list count, the
// conditional seat update and the reservation (or the waiting-list entry) inserted.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { createTestDatabase, testToken } from '@diandan/testing';
import { helloScript, httpBenchSettings, measureHttp, medianSample, printHttpTable, printTable, rpsPercent, startServer } from '../../../apps/server/bench/lib.mjs';

const { seconds, connections, rounds } = httpBenchSettings();
process.env.BENCH_ROUNDS = String(rounds);
process.env.BENCH_CITIZENS ??= String(Math.max(4000, seconds * 1500));

const database = await createTestDatabase();
const dir = await mkdtemp(join(tmpdir(), 'venues-bench-'));
const seedFile = join(dir, 'seed.json');
const hello = await startServer(helloScript);
let server;
let seed;
const samples = { hello: [], products: [], roomy: [], hot: [] };
try {
  server = await startServer(new URL('./server.mjs', import.meta.url).pathname, { env: { DATABASE_URL: database.config.url, BENCH_SEED_FILE: seedFile }, timeoutMs: 170_000 });
  for (const started = Date.now(); !seed; await new Promise((r) => setTimeout(r, 250))) {
    if (Date.now() - started > 300_000) throw new Error('the bench data were not seeded within 300 s');
    // Undefined until the file is there and whole (it may be read while being written).
    seed = await readFile(seedFile, 'utf8').then(JSON.parse).catch(() => undefined);
    if (!seed && !(await fetch(`${server.url}/health`).then((r) => r.ok, () => false))) throw new Error('the venues bench server stopped while seeding (BENCH_VERBOSE=1 shows its log)');
  }
  const operator = { authorization: `Bearer ${await testToken({ roles: ['unit-operator'], region: '440103001001', unit: seed.unit, sub: 'bench-operator' })}` };
  const { tokens, roomy, hot } = seed;
  // Each request is the next citizen's; a hot session is booked by each citizen at most once.
  let n = 0;
  const booking = (sessionOf) => ({
    method: 'POST',
    setupRequest: (req) => {
      const i = n++;
      return { ...req, path: `/v1/venue-sessions/${sessionOf(i)}/reservations`, headers: { 'content-type': 'application/json', 'x-citizen-token': tokens[i % tokens.length] }, body: JSON.stringify({ quantity: 1, waitlist: true }) };
    },
  });
  for (let round = 0; round < rounds; round++) {
    samples.hello.push(await measureHttp('hello', hello, '/', {}, { seconds, connections }));
    samples.products.push(await measureHttp('product list', server, '/v1/products?limit=50', { headers: operator }, { seconds, connections }));
    n = round * 7;
    samples.roomy.push(await measureHttp('uncontended', server, `/v1/venue-sessions/${roomy[0]}/reservations`, booking((i) => roomy[i % roomy.length]), { seconds, connections }));
    n = 0;
    samples.hot.push(await measureHttp('contended', server, `/v1/venue-sessions/${hot[round]}/reservations`, booking(() => hot[round]), { seconds, connections }));
    if (n > tokens.length) console.warn(`round ${round}: ${n} hot bookings for ${tokens.length} citizens — raise BENCH_CITIZENS`);
  }
} finally {
  await server?.stop().catch((e) => console.error(e.message));
  await hello.stop();
}

// The overbooking check, in the database: seats of live reservations and held offers per session.
const sql = postgres(database.config.url, { max: 1, onnotice: () => {} });
let check;
try {
  check = await sql`
    select s.id, s.capacity, s.confirmed, s.held,
      coalesce((select sum(r.quantity) from venues.reservations r where r.session_id = s.id and r.status in ('confirmed', 'checked-in')), 0)::int as seats,
      (select count(*) from venues.waitlist w where w.session_id = s.id)::int as waiting
    from venues.sessions s`;
} finally {
  await sql.end();
  await database.drop();
  await rm(dir, { recursive: true, force: true });
}
const hotIds = new Set(seed.hot);
const over = check.filter((s) => s.seats > s.capacity || s.confirmed + s.held > s.capacity || s.seats !== s.confirmed);
const hotRows = check.filter((s) => hotIds.has(s.id));
const roomyRows = check.filter((s) => !hotIds.has(s.id));

const results = [
  { name: 'hello world (baseline)', ...medianSample(samples.hello) },
  { name: 'product list (50), cached', ...medianSample(samples.products) },
  { name: `booking, uncontended (${seed.roomy.length} sessions)`, ...medianSample(samples.roomy) },
  { name: `booking, contended (1 session, ${seed.hotSeats} seats + waiting list)`, ...medianSample(samples.hot) },
];
console.log(`Venues, reservations over HTTP on PostgreSQL — ${connections} connections, ${seconds} s per scenario, median of ${rounds} rounds; autocannon in this process, the server in its own`);
printHttpTable(results);
console.log(`  contended / uncontended: ${rpsPercent(results[3], results[2])}   contended / product list: ${rpsPercent(results[3], results[1])} (target ≥ 25%)`);
console.log('Overbooking check (database: seats of confirmed and checked-in reservations per session):');
printTable(
  ['sessions', 'count', 'capacity (max)', 'seats confirmed', 'waiting-list entries', 'overbooked'],
  [
    ['hot', hotRows.length, hotRows.map((s) => s.capacity).join('/'), hotRows.map((s) => s.seats).join('/'), hotRows.reduce((a, s) => a + s.waiting, 0), hotRows.filter((s) => over.includes(s)).length],
    ['others (roomy, and the fixture orders’)', roomyRows.length, Math.max(0, ...roomyRows.map((s) => s.capacity)), roomyRows.reduce((a, s) => a + s.seats, 0), roomyRows.reduce((a, s) => a + s.waiting, 0), roomyRows.filter((s) => over.includes(s)).length],
  ],
);
console.log(over.length ? `  OVERBOOKED or inconsistent: ${over.length} session(s)` : '  confirmed seats ≤ capacity in every session, counters equal to the rows: no overbooking');
if (over.length || results.some((r) => r.bad)) process.exitCode = 1;
