import { transaction, type Actor, type KernelServices, type PluginContext, type SystemGrant } from '@diandan/kernel';
import { DEMO_PRODUCTS, DEMO_UNITS, DEMO_VENUES } from './catalogue.js';

/** The 11 districts' codes, in the order of the demo tree. */
const DISTRICTS = ['440103', '440104', '440105', '440106', '440111', '440112', '440113', '440114', '440115', '440117', '440118'];

/**
 * One delivering unit and venue on the second (invented) street of every district —
 * fixed ids, like the rest of the demo — and how many deliveries each makes in the
 * demo year: uneven on purpose, so the report's equity indices and gap list have
 * something to say (Baiyun, the most populous district, is under-served).
 */
export const DELIVERY_UNITS = DISTRICTS.map((district, i) => ({
  unit: { id: `00000000-0000-4000-8000-0000000b01${String(i).padStart(2, '0')}`, regionCode: `${district}002`, name: `示范街道二综合文化站${district}（虚构）`, kind: 'cultural-station' },
  venue: { id: `00000000-0000-4000-8000-0000000c01${String(i).padStart(2, '0')}`, regionCode: `${district}002`, name: `示范街道二文化站多功能厅${district}（虚构）`, kind: 'community-room', capacity: 300, address: `示范街道二示范路${i + 10}号（虚构）` },
  deliveries: [3, 2, 2, 3, 1, 2, 2, 1, 1, 1, 1][i]!,
}));

/** Deliveries of the demo's existing street units as well: Liwan's street one (b002) and Tianhe's library branch (b003). */
const EXISTING = [
  { unit: DEMO_UNITS[1], venue: DEMO_VENUES[1], deliveries: 2 },
  { unit: DEMO_UNITS[2], venue: DEMO_VENUES[2], deliveries: 1 },
];

/** Who approves at a region, by the length of its code (city 440100 aside): district 6, street 9, community 12. */
const STAFF_BY_CODE_LENGTH: Record<number, string> = { 6: 'district-admin', 9: 'street-operator', 12: 'community-operator' };

/** A small deterministic generator (the demo is the same on every start). */
function lcg(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

/** The region codes above a region, nearest first, down to the district (a 6-digit code). */
const above = (code: string) => [code.slice(0, 9), code.slice(0, 6)].filter((c) => c.length < code.length && c.length >= 6);

/**
 * Delivered orders with feedback across Guangzhou's districts for the demo year, for a
 * report with something in it: budgets for the districts and the delivering streets,
 * then each order placed by its unit's operator, submitted, approved by the street and
 * the district, scheduled and delivered by its supplier, and rated through feedback
 * tokens — all through the kernel's services (no table is written directly). Runs after
 * the rest of the demo (its units, venues and products).
 *
 * Every actor is granted first (a grant reads the region tree outside any transaction),
 * then everything is written in one transaction: all or nothing, and one commit instead
 * of a few hundred, which is most of what the seed would cost on PGlite.
 */
export async function seedDemoDeliveries(ctx: Pick<PluginContext, 'systemActor' | 'db'>, kernel: KernelServices, year: number, today = new Date()): Promise<{ deliveries: number; responses: number }> {
  const grants = new Map<string, Actor>();
  const grant = async (g: SystemGrant) => void grants.set(JSON.stringify(g), await ctx.systemActor(g));
  const as = (g: SystemGrant): Actor => {
    const actor = grants.get(JSON.stringify(g));
    if (!actor) throw new Error(`demo deliveries: no actor granted for ${JSON.stringify(g)}`);
    return actor;
  };
  const approverOf = (code: string): SystemGrant => ({ roles: [code === '440100' ? 'city-admin' : (STAFF_BY_CODE_LENGTH[code.length] ?? 'city-admin')], region: code });
  const orderers = [...DELIVERY_UNITS, ...EXISTING];
  await grant({ roles: ['city-admin'], region: '440100' });
  for (const { unit } of orderers) {
    await grant({ roles: ['district-admin'], region: unit.regionCode.slice(0, 6) });
    await grant({ roles: ['unit-operator'], region: unit.regionCode, unit: unit.id });
    for (const code of above(unit.regionCode)) await grant(approverOf(code));
  }
  for (const supplierId of new Set(DEMO_PRODUCTS.map((p) => p.supplierId))) await grant({ roles: ['supplier'], supplier: supplierId });
  const city = as({ roles: ['city-admin'], region: '440100' });
  // Delivery days from 1 January up to today (or the year's end, for a past year).
  const lastDay = Math.min(Date.UTC(year, 11, 31), Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate()));
  const span = Math.max(0, Math.floor((lastDay - Date.UTC(year, 0, 1)) / 86_400_000));
  const day = (fraction: number) => new Date(Date.UTC(year, 0, 1) + Math.floor(fraction * span) * 86_400_000).toISOString().slice(0, 10);
  let deliveries = 0;
  let responses = 0;

  await transaction(ctx.db, async (tx) => {
    // Afresh on every attempt (the transaction may be retried).
    const random = lcg(year);
    deliveries = 0;
    responses = 0;
    // Budgets: each district (Liwan has its own already), then the delivering streets.
    for (const district of DISTRICTS.filter((d) => d !== '440103')) await kernel.budgets.allocate({ regionCode: district, year, amount: 100_000 }, { actor: city, tx });
    for (const { unit } of [...DELIVERY_UNITS, EXISTING[1]!]) {
      const district = unit.regionCode.slice(0, 6);
      await kernel.budgets.allocate({ regionCode: unit.regionCode, year, amount: 30_000 }, { actor: as({ roles: ['district-admin'], region: district }), tx });
    }
    for (const { unit, venue } of DELIVERY_UNITS) {
      await kernel.units.create(unit, { actor: city, tx });
      await kernel.venues.create({ ...venue, location: null }, { actor: city, tx });
    }

    for (const { unit, venue, deliveries: count } of [...DELIVERY_UNITS, ...EXISTING]) {
      const district = unit.regionCode.slice(0, 6);
      const operator = as({ roles: ['unit-operator'], region: unit.regionCode, unit: unit.id });
      // Liwan's units may order every demo product; elsewhere the heritage class (Liwan only) is not served.
      const products = DEMO_PRODUCTS.filter((p) => p.serviceableRegions.some((r) => r === '440100' || r === district));
      for (let k = 0; k < count; k++) {
        const product = products[(k + deliveries) % products.length]!;
        const on = day((k + 0.2 + 0.6 * random()) / count);
        const expected = Math.min(venue.capacity, Math.max(product.audienceMin, Math.round(product.audienceMin + random() * (product.audienceMax - product.audienceMin) * 0.6)));
        const placed = await kernel.orders.place({ unitId: unit.id, productId: product.id, venueId: venue.id, windowStart: on, windowEnd: on, expectedAudience: expected }, { actor: operator, tx });
        if (!('order' in placed)) continue;
        let order = placed.order;
        const act = async (action: 'submit' | 'approve' | 'schedule' | 'deliver', actor: Actor, extra: object = {}) => {
          order = await kernel.orders.act({ id: order.id, action, expectedVersion: order.version, ...extra }, { actor, tx });
        };
        await act('submit', operator);
        for (const code of order.approvalChain) await act('approve', as(approverOf(code)));
        const supplier = as({ roles: ['supplier'], supplier: product.supplierId });
        await act('schedule', supplier, { scheduledOn: on });
        const audience = Math.max(1, Math.round(expected * (0.7 + 0.5 * random())));
        await act('deliver', supplier, { delivery: { deliveredOn: on, actualAudience: audience, notes: '示范数据（虚构）', photos: [] } });
        deliveries += 1;
        // Two or three ratings, mostly satisfied; some name a group the product aims at.
        const n = 2 + Math.floor(random() * 2);
        const tokens = await kernel.feedback.mintTokens({ orderId: order.id, count: n }, { actor: city, tx });
        for (const token of tokens) {
          const rating = Math.min(5, Math.max(1, Math.round(3.2 + random() * 2.3 - (random() < 0.1 ? 2 : 0))));
          const group = random() < 0.5 ? product.targetGroups[Math.floor(random() * product.targetGroups.length)] : undefined;
          await kernel.feedback.submit({ token, rating, respondentGroup: group }, { tx });
          responses += 1;
        }
      }
    }
  });
  return { deliveries, responses };
}
