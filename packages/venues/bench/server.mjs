// The server side of the reservation benchmark: a deployment with the venues plugin on
// DATABASE_URL, served on PORT. Once listening it seeds, through the kernel's and the
// plugin's services, the testing ordering loop (regions, units, listed products:
// `seedOrderingLoop`), BENCH_CITIZENS citizens (each verified by the one-time-code flow
// with a capturing sender), one hot session per round (few seats) and many roomy
// sessions, then writes what the load generator needs (tokens, session ids) to
// BENCH_SEED_FILE. Nothing is written to any table directly. SIGTERM shuts it down (exit 0).
//
//   node bench/server.mjs      (started by bench/reserve.mjs)
import { writeFile } from 'node:fs/promises';
import { venues } from '@diandan/venues';
import { seedOrderingLoop } from '@diandan/testing';
import { serveBench } from '../../../apps/server/bench/serve.mjs';

const citizensWanted = Number(process.env.BENCH_CITIZENS ?? 4000);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const hotSeats = Number(process.env.BENCH_HOT_SEATS ?? 20);
const spread = Number(process.env.BENCH_SESSIONS ?? 400);

// Limits set above what the run sends (they are still checked on every booking: part of its cost).
const app = await serveBench([venues({ seedCalendars: false, reservations: { monthlyLimit: 1000 }, otp: { codesPerHour: 100 } })]);
const fixture = await seedOrderingLoop(app);
const plugin = app.diandan.plugins.find((p) => p.definition.name === 'venues');
const s = plugin.services;
const city = await plugin.context.systemActor({ roles: ['city-admin'], region: '440100' });
const venueId = fixture.venues.street;

const DAY = 86_400_000;
const at = (days, minutes) => new Date(Date.now() + days * DAY + minutes * 60_000);
const session = (title, startsAt, capacity) =>
  s.sessions.create({ venueId, title, startsAt: startsAt.toISOString(), endsAt: new Date(startsAt.getTime() + 90 * 60_000).toISOString(), capacity, perCitizenLimit: 100, bookingOpensAt: new Date(Date.now() - 60_000).toISOString() }, { actor: city });
// One hot session per round (and one for the warm-up request), and the roomy ones of the baseline.
const hot = [];
for (let r = 0; r < rounds; r++) hot.push((await session(`热门讲座 ${r}（虚构）`, at(3, r * 120), hotSeats)).id);
const roomy = [];
for (let i = 0; i < spread; i++) roomy.push((await session(`阅读会 ${i}（虚构）`, at(4 + (i % 20), (i % 10) * 60), 400)).id);

const codes = new Map();
const tokens = await s.citizens.withSender({ send: async ({ phone, code }) => void codes.set(phone, code) }, async () => {
  const out = [];
  for (let i = 0; i < citizensWanted; i += 20) {
    const batch = [];
    for (let j = i; j < Math.min(i + 20, citizensWanted); j++) {
      const phone = `170${String(50_000_000 + j).padStart(8, '0')}`;
      batch.push(s.citizens.requestCode(phone).then(({ challengeId }) => s.citizens.verify(challengeId, codes.get(phone))).then((v) => v.token));
    }
    out.push(...(await Promise.all(batch)));
  }
  return out;
});
await writeFile(process.env.BENCH_SEED_FILE, JSON.stringify({ venueId, hot, roomy, hotSeats, tokens, unit: fixture.units.community.id }));
app.log.warn('bench data seeded');
