import type { Actor, KernelServices, Order, OrderAction, OrderState, Product, SystemGrant } from '@diandan/kernel';
import type { FastifyInstance } from 'fastify';
import { actors } from './actors.js';
import type { Who } from './auth.js';
import { seedRegions, TEST_REGIONS } from './regions.js';

/** A record of the fixture with the token of its user. */
export interface WithUser {
  readonly id: string;
  readonly user: Who;
}

/** What `seedOrderingLoop` put in place. All of it is synthetic. */
export interface LoopFixture {
  /** The budget year; every order's window lies in its March. */
  readonly year: number;
  readonly suppliers: { readonly troupe: WithUser; readonly studio: WithUser };
  /** Ordering units: in community 440103001001, in street 440103001, and in the other district 440104. */
  readonly units: { readonly community: WithUser; readonly street: WithUser; readonly otherDistrict: WithUser };
  readonly venues: { readonly community: string; readonly street: string; readonly otherDistrict: string };
  /** Listed products: the troupe's opera (serves 440103) and the studio's workshop (serves the whole city). */
  readonly products: { readonly opera: Product; readonly workshop: Product };
  /** One order of the community unit in each state of the order lifecycle. */
  readonly orders: Readonly<Record<OrderState, Order>>;
  /** Staff and reviewer tokens at the fixture's regions. */
  readonly staff: {
    readonly cityAdmin: Who;
    readonly districtAdmin: Who;
    readonly otherDistrictAdmin: Who;
    readonly streetOperator: Who;
    readonly communityOperator: Who;
    readonly reviewer: Who;
  };
}

/** The actions that take a fresh draft of the community unit to each state. */
const PATHS: Record<OrderState, readonly OrderAction[]> = {
  draft: [],
  submitted: ['submit'],
  approving: ['submit', 'approve'],
  approved: ['submit', 'approve', 'approve'],
  scheduled: ['submit', 'approve', 'approve', 'schedule'],
  delivered: ['submit', 'approve', 'approve', 'schedule', 'deliver'],
  closed: ['submit', 'approve', 'approve', 'schedule', 'deliver', 'close'],
  rejected: ['submit', 'reject'],
  cancelled: ['cancel'],
};

/**
 * Seeds an ordering-loop fixture through the kernel's services (never its tables):
 * the test regions (unless already there), suppliers, units, venues, listed products,
 * budgets, and one order in each state. Every write is done by a system actor of a
 * `testing` plugin holding the role a user would need, so the audit log reads like a
 * real one (`system:testing`).
 */
export async function seedOrderingLoop(app: FastifyInstance, options: { year?: number } = {}): Promise<LoopFixture> {
  const year = options.year ?? 2027;
  const kernel: KernelServices = app.diandan.services;
  if ((await kernel.regions.count()) === 0) await seedRegions(app, TEST_REGIONS);
  const as = (grant: SystemGrant): Promise<Actor> => kernel.access.systemActor('testing', grant);
  const city = await as({ roles: ['city-admin'], region: '440100' });
  const reviewer = await as({ roles: ['reviewer'], region: '440100' });

  const supplier = async (name: string, kind: string): Promise<WithUser> => {
    const { id } = await kernel.suppliers.create({ name, kind }, { actor: city });
    return { id, user: actors.supplier(id, '440100', `user-of-${name}`) };
  };
  const suppliers = { troupe: await supplier('测试粤剧团（虚构）', 'troupe'), studio: await supplier('测试手作工坊（虚构）', 'enterprise') };

  const unit = async (regionCode: string, name: string): Promise<WithUser> => {
    const { id } = await kernel.units.create({ regionCode, name, kind: 'cultural-station' }, { actor: city });
    return { id, user: actors.unitOperator(id, regionCode, `operator-of-${name}`) };
  };
  const units = {
    community: await unit('440103001001', '测试社区文化室（虚构）'),
    street: await unit('440103001', '测试街道文化站（虚构）'),
    otherDistrict: await unit('440104', '越秀测试文化馆（虚构）'),
  };
  const venue = async (regionCode: string, capacity: number) =>
    (await kernel.venues.create({ regionCode, name: `测试活动室${regionCode}`, kind: 'community-room', capacity, address: '测试路1号', location: null }, { actor: city })).id;
  const venues = { community: await venue('440103001001', 200), street: await venue('440103001', 400), otherDistrict: await venue('440104', 300) };

  const listed = async (owner: WithUser, content: { title: string; category: string; serviceableRegions: string[]; costPerSession: number }) => {
    const actor = await as({ roles: ['supplier'], supplier: owner.id });
    let product = await kernel.products.create(
      {
        ...content,
        summary: `${content.title}（测试用，虚构）`,
        description: '测试数据，虚构。',
        form: '现场演出',
        targetGroups: ['elderly', 'general-public'],
        audienceMin: 20,
        audienceMax: 300,
        durationMinutes: 90,
        tags: ['测试'],
        media: [],
      },
      { actor },
    );
    for (const [action, by] of [['submit', actor], ['startReview', reviewer], ['list', reviewer]] as const) {
      product = await kernel.products.transition({ id: product.id, action, expectedVersion: product.version }, { actor: by });
    }
    return product;
  };
  const products = {
    opera: await listed(suppliers.troupe, { title: '粤剧折子戏专场（测试）', category: 'performance', serviceableRegions: ['440103'], costPerSession: 1000 }),
    workshop: await listed(suppliers.studio, { title: '广绣手作体验（测试）', category: 'handcraft-workshop', serviceableRegions: ['440100'], costPerSession: 800 }),
  };

  for (const [regionCode, amount] of [
    ['440100', 1_000_000],
    ['440103', 500_000],
    ['440104', 300_000],
    ['440103001', 200_000],
    ['440103001001', 100_000],
  ] as const) {
    const staff = regionCode === '440100' ? city : await parentStaff(as, regionCode);
    await kernel.budgets.allocate({ regionCode, year, amount }, { actor: staff });
  }

  // Who fires each action on an order of the community unit (chain: street, then district).
  const unitActor = await as({ roles: ['unit-operator'], region: '440103001001', unit: units.community.id });
  const byAction = {
    street: await as({ roles: ['street-operator'], region: '440103001' }),
    district: await as({ roles: ['district-admin'], region: '440103' }),
    supplier: await as({ roles: ['supplier'], supplier: suppliers.troupe.id }),
  };
  const orders = {} as Record<OrderState, Order>;
  for (const [state, path] of Object.entries(PATHS) as [OrderState, readonly OrderAction[]][]) {
    const placed = await kernel.orders.place(
      { unitId: units.community.id, productId: products.opera.id, venueId: venues.community, windowStart: `${year}-03-01`, windowEnd: `${year}-03-31`, expectedAudience: 100 },
      { actor: unitActor },
    );
    if (!('order' in placed)) throw new Error('seedOrderingLoop: the order was not placed');
    let order = placed.order;
    for (const action of path) {
      const actor =
        action === 'approve' || action === 'reject'
          ? order.approvedSteps === 0 ? byAction.street : byAction.district
          : action === 'schedule' || action === 'deliver'
            ? byAction.supplier
            : unitActor;
      order = await kernel.orders.act(
        {
          id: order.id,
          action,
          expectedVersion: order.version,
          reason: action === 'reject' || action === 'cancel' ? '测试：不再需要' : undefined,
          scheduledOn: `${year}-03-15`,
          delivery: { deliveredOn: `${year}-03-15`, actualAudience: 90, notes: '测试演出顺利（虚构）', photos: [] },
        },
        { actor },
      );
    }
    orders[state] = order;
  }

  return {
    year,
    suppliers,
    units,
    venues,
    products,
    orders,
    staff: {
      cityAdmin: actors.cityAdmin(),
      districtAdmin: actors.districtAdmin(),
      otherDistrictAdmin: actors.districtAdmin('440104'),
      streetOperator: actors.streetOperator(),
      communityOperator: actors.communityOperator(),
      reviewer: actors.reviewer(),
    },
  };
}

/** A system actor of the staff of `regionCode`'s parent, who allocates to it. */
async function parentStaff(as: (grant: SystemGrant) => Promise<Actor>, regionCode: string): Promise<Actor> {
  const parent = TEST_REGIONS.find((r) => r.code === regionCode)?.parentCode;
  const level = TEST_REGIONS.find((r) => r.code === parent)?.level;
  const role = { city: 'city-admin', district: 'district-admin', street: 'street-operator', community: 'community-operator' }[level ?? 'city']!;
  return as({ roles: [role], region: parent! });
}
