import type { Actor, KernelServices, PluginContext } from '@diandan/kernel';
import type { CitizenService } from './citizens.js';
import type { VenueDetails } from './details.js';
import type { ReservationService } from './reservations.js';
import type { SessionService } from './sessions.js';

export type DemoContext = Pick<PluginContext<unknown, { kernel: KernelServices }>, 'deps' | 'systemActor' | 'log'>;
export interface DemoServices {
  details: VenueDetails;
  sessions: SessionService;
  citizens: CitizenService;
  reservations: ReservationService;
}

const DAY = 86_400_000;
/** Fixed ids: the seed runs once per deployment (it stops when the first venue exists). */
const VENUES = [
  { id: '00000000-0000-4000-8000-0000000fe001', regionCode: '440103001', name: '荔湾示范总馆（虚构）', kind: 'main-library', capacity: 400, address: '荔湾区示范路10号（虚构）', role: 'main' as const },
  { id: '00000000-0000-4000-8000-0000000fe002', regionCode: '440106001', name: '天河示范分馆（虚构）', kind: 'branch-library', capacity: 120, address: '天河区示范大道20号（虚构）', role: 'branch' as const },
  { id: '00000000-0000-4000-8000-0000000fe003', regionCode: '440103001', name: '荔湾示范文化馆（虚构）', kind: 'culture-centre', capacity: 300, address: '荔湾区示范路30号（虚构）', role: null },
  { id: '00000000-0000-4000-8000-0000000fe004', regionCode: '440103001002', name: '示范第2社区活动室（虚构）', kind: 'community-room', capacity: 40, address: '荔湾区示范路40号（虚构）', role: null },
];
const WEEKLY = [2, 3, 4, 5].map((weekday) => ({ weekday, opens: '09:00', closes: '17:30' })).concat([6, 7].map((weekday) => ({ weekday, opens: '09:00', closes: '21:00' })));
/** Synthetic numbers of the 170 range; nobody's. */
const PHONES = ['17000000101', '17000000102', '17000000103'];

/**
 * Seeds synthetic venues of the Guangzhou demo (a main and a branch library, a culture
 * centre, a community room) with network roles, hours (closed on Mondays), rooms, a week
 * of sessions and a few reservations — through the services, once. Everything is fictitious (虚构).
 */
export async function seedVenuesDemo(ctx: DemoContext, s: DemoServices): Promise<void> {
  const k = ctx.deps.kernel;
  const city: Actor = await ctx.systemActor({ roles: ['city-admin'], region: '440100' });
  if (!(await k.regions.locate('440103001002'))) {
    ctx.log.info('venues demo skipped: it needs the Guangzhou demo regions');
    return;
  }
  try {
    await k.venues.get(VENUES[0]!.id, { actor: city });
    return; // seeded already
  } catch {
    // not there yet
  }
  for (const v of VENUES) await k.venues.create({ id: v.id, regionCode: v.regionCode, name: v.name, kind: v.kind, capacity: v.capacity, address: v.address, location: null }, { actor: city });
  for (const v of VENUES) {
    let profile = await s.details.setProfile({ venueId: v.id, networkRole: v.role, mainVenueId: v.role === 'branch' ? VENUES[0]!.id : null, description: `${v.name}：演示数据` }, { actor: city });
    profile = await s.details.setWeekly({ venueId: v.id, expectedVersion: profile.version, weekly: WEEKLY, reason: '演示：周一闭馆' }, { actor: city });
  }
  const hall = await s.details.addRoom({ venueId: VENUES[2]!.id, name: '多功能厅', capacity: 120 }, { actor: city });
  await s.details.addRoom({ venueId: VENUES[0]!.id, name: '少儿阅览室', capacity: 60 }, { actor: city });
  const start = (days: number, hh: number) => {
    const d = new Date(Date.now() + days * DAY);
    const day = new Date(d.getTime() + 8 * 3_600_000).toISOString().slice(0, 10);
    return new Date(`${day}T${String(hh).padStart(2, '0')}:00:00+08:00`);
  };
  const make = async (venueId: string, title: string, at: Date, capacity: number, category: string, roomId: string | null = null) =>
    s.sessions.create({ venueId, roomId, title: `${title}（虚构）`, startsAt: at.toISOString(), endsAt: new Date(at.getTime() + 90 * 60_000).toISOString(), capacity, category }, { actor: city });
  const opera = await make(VENUES[2]!.id, '粤剧折子戏欣赏', start(2, 19), 120, 'performance', hall.id);
  const reading = await make(VENUES[0]!.id, '亲子绘本共读', start(3, 10), 30, 'reading-promotion');
  await make(VENUES[1]!.id, '非遗剪纸体验课', start(4, 14), 20, 'intangible-heritage');
  const small = await make(VENUES[3]!.id, '长者智能手机课堂', start(5, 15), 2, 'training');
  // A few citizens and reservations; the tiny class fills up and gets a waiting list.
  const codes = new Map<string, string>();
  const people = await s.citizens.withSender({ send: async ({ phone, code }) => void codes.set(phone, code) }, async () => {
    const out = [];
    for (const phone of PHONES) {
      const { challengeId } = await s.citizens.requestCode(phone);
      out.push((await s.citizens.verify(challengeId, codes.get(phone)!)).citizen);
    }
    return out;
  });
  const [a, b, c] = people as [(typeof people)[0], (typeof people)[0], (typeof people)[0]];
  await s.reservations.reserve({ sessionId: opera.id, quantity: 2 }, a);
  await s.reservations.reserve({ sessionId: opera.id, quantity: 1 }, b);
  await s.reservations.reserve({ sessionId: reading.id, quantity: 3, groupName: '演示家庭（虚构）' }, c);
  await s.reservations.reserve({ sessionId: small.id, quantity: 2 }, a);
  await s.reservations.reserve({ sessionId: small.id, quantity: 1, waitlist: true }, b);
  ctx.log.info({ venues: VENUES.length, sessions: 4 }, 'venues demo seeded');
}
