import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { hasRole, inScope, type Actor } from '../auth/actor.js';
import { REGION_STAFF } from '../auth/roles.js';
import type { AuditLog } from '../audit/audit-log.js';
import { regions } from '../core/schema.js';
import { queryRows, type Executor } from '../db/database.js';
import { DomainError, notFound } from '../errors.js';
import { products } from '../products/schema.js';
import { claimKeySql, type IdempotencyClaim } from '../safe-writes/idempotency.js';
import { suppliers } from '../suppliers/schema.js';
import { units } from '../units/schema.js';
import { venues } from '../venues/schema.js';
import type { Order, OrderInput } from './orders.js';
import { orders } from './schema.js';

/*
 * Placing an order (点单) is the hot write of the platform. It costs one statement
 * in the common case, instead of a dozen builder queries in a transaction:
 *
 * 1. `PlacementFacts` gives what the rules need about the unit, the venue and the
 *    product — from memory when this process has seen them before, otherwise in one
 *    query.
 * 2. `checkPlacement` applies the rules in plain code and drafts the order.
 * 3. `write` is one statement, so one transaction. It first re-checks in the database
 *    every fact the rules used (the unit's and the venue's region, the venue's
 *    capacity, the product listed at the same content version, its supplier active),
 *    share-locking the product row so a racing delist waits for it. Only if they all
 *    hold does it claim the idempotency key with the final response (a concurrent
 *    duplicate waits on that row, then writes nothing), insert the order and its
 *    audit record. So remembered facts can be stale, but never wrongly used: a stale
 *    fact makes the write do nothing, and the caller reads afresh and tries again.
 */

/** What the rules of placement read about the unit, venue and product of an order. */
export interface PlacementContext {
  unit: UnitFacts | undefined;
  venue: VenueFacts | undefined;
  product: ProductFacts | undefined;
  /** True when every part came from memory rather than from the database just now. */
  remembered: boolean;
}

interface UnitFacts {
  regionCode: string;
  path: string;
}

interface VenueFacts {
  name: string;
  capacity: number;
  regionCode: string;
  path: string;
}

interface ProductFacts {
  status: string;
  title: string;
  /** Content edits bump it, so it pins cost, supplier and regions served. */
  contentVersion: number;
  cost: number;
  supplierId: string;
  serviceableRegions: string[];
  supplierStatus: string;
}

/** How many of each kind of record a process remembers (oldest forgotten first). */
const REMEMBERED = 5_000;

/** Facts about units, venues and orderable products, remembered between orders. */
export class PlacementFacts {
  private readonly units = new Map<string, UnitFacts>();
  private readonly venues = new Map<string, VenueFacts>();
  private readonly products = new Map<string, ProductFacts>();

  /** The facts for `input`: from memory when all three are known, else read afresh. */
  async get(db: Executor, input: OrderInput): Promise<PlacementContext> {
    const unit = this.units.get(input.unitId);
    const venue = this.venues.get(input.venueId);
    const product = this.products.get(input.productId);
    if (unit && venue && product) return { unit, venue, product, remembered: true };
    return this.read(db, input);
  }

  /** Reads the facts for `input` in one query, and remembers what exists (and products that can be ordered). */
  async read(db: Executor, input: OrderInput): Promise<PlacementContext> {
    const [row] = await queryRows<Record<string, unknown>>(
      db,
      sql`select u.region_code as "unitRegion", ur.path as "unitPath",
            v.name as "venueName", v.capacity as "venueCapacity", v.region_code as "venueRegion", vr.path as "venuePath",
            p.status as "productStatus", p.title as "productTitle", p.content_version as "contentVersion",
            p.cost_per_session as "cost", p.supplier_id as "supplierId", p.serviceable_regions as "serviceableRegions",
            s.status as "supplierStatus"
          from (select) as request
          left join ${units} u on u.id = ${input.unitId}::uuid
          left join ${regions} ur on ur.code = u.region_code
          left join ${venues} v on v.id = ${input.venueId}::uuid
          left join ${regions} vr on vr.code = v.region_code
          left join ${products} p on p.id = ${input.productId}::uuid
          left join ${suppliers} s on s.id = p.supplier_id`,
      { prepare: 'orders.place.read-facts' },
    );
    const r = row as Record<string, never>;
    const context: PlacementContext = {
      unit: r.unitPath === null ? undefined : { regionCode: r.unitRegion, path: r.unitPath },
      venue:
        r.venuePath === null ? undefined : { name: r.venueName, capacity: r.venueCapacity, regionCode: r.venueRegion, path: r.venuePath },
      product:
        r.productStatus === null
          ? undefined
          : {
              status: r.productStatus,
              title: r.productTitle,
              contentVersion: r.contentVersion,
              cost: r.cost,
              supplierId: r.supplierId,
              serviceableRegions: r.serviceableRegions,
              supplierStatus: r.supplierStatus,
            },
      remembered: false,
    };
    if (context.unit) remember(this.units, input.unitId, context.unit);
    if (context.venue) remember(this.venues, input.venueId, context.venue);
    if (context.product?.status === 'listed' && context.product.supplierStatus === 'active') {
      remember(this.products, input.productId, context.product);
    }
    return context;
  }
}

function remember<T>(map: Map<string, T>, id: string, facts: T): void {
  map.delete(id);
  map.set(id, facts);
  if (map.size > REMEMBERED) map.delete(map.keys().next().value!);
}

/**
 * The rules of placement, in the order a caller would fix them: the window, the unit
 * (the actor must act for it; otherwise it does not exist for them), the venue (in
 * the actor's subtree, big enough), the product (listed, its supplier active, serving
 * the unit's region). Returns the draft order with a new id.
 */
export function checkPlacement(actor: Actor, input: OrderInput, c: PlacementContext): DraftedOrder {
  if (input.windowStart > input.windowEnd) {
    throw new DomainError('invalid', 'ORDER_INVALID', 'windowStart is after windowEnd');
  }
  const { unit, venue, product } = c;
  if (!unit || !inScope(actor, unit.path) || !actsForUnit(actor, input.unitId, unit.path)) {
    throw notFound('UNIT_NOT_FOUND', `Unit ${input.unitId} does not exist`);
  }
  if (!venue || !inScope(actor, venue.path)) throw notFound('VENUE_NOT_FOUND', `Venue ${input.venueId} does not exist`);
  if (input.expectedAudience > venue.capacity) {
    throw new DomainError('invalid', 'VENUE_TOO_SMALL', `Venue ${venue.name} holds ${venue.capacity}, not ${input.expectedAudience}`);
  }
  if (product?.status !== 'listed') throw notFound('PRODUCT_NOT_FOUND', `Product ${input.productId} is not in the library`);
  if (product.supplierStatus !== 'active') {
    throw new DomainError('conflict', 'SUPPLIER_SUSPENDED', `The supplier of product ${input.productId} is suspended; it cannot be ordered now`);
  }
  const unitRegions = unit.path.split('/');
  if (!product.serviceableRegions.some((code) => unitRegions.includes(code))) {
    throw new DomainError('invalid', 'PRODUCT_NOT_SERVED_HERE', `Product ${product.title} is not delivered to region ${unit.regionCode}`);
  }
  const order: Order = {
    id: randomUUID(),
    unitId: input.unitId,
    regionCode: unit.regionCode,
    productId: input.productId,
    productContentVersion: product.contentVersion,
    supplierId: product.supplierId,
    venueId: input.venueId,
    windowStart: input.windowStart,
    windowEnd: input.windowEnd,
    expectedAudience: input.expectedAudience,
    cost: product.cost,
    budgetYear: Number(input.windowStart.slice(0, 4)),
    status: 'draft',
    approvalChain: [],
    approvedSteps: 0,
    awaitingApprovalBy: null,
    scheduledOn: null,
    rejectionReason: null,
    cancellationReason: null,
    delivery: null,
    version: 1,
  };
  return { order, unitPath: unit.path, venueRegion: venue.regionCode };
}

/** A unit operator acts for the unit in its token; staff for every unit in their subtree. */
export function actsForUnit(actor: Actor, unitId: string, unitPath: string): boolean {
  return (hasRole(actor, ['unit-operator']) && actor.unitId === unitId) || (hasRole(actor, REGION_STAFF) && inScope(actor, unitPath));
}

/** An order that passed the rules, with the facts the write must find unchanged. */
export interface DraftedOrder {
  order: Order;
  unitPath: string;
  venueRegion: string;
}

/** What the write found: whether the facts still held, and whether the order went in. */
export interface WriteOutcome {
  current: boolean;
  placed: boolean;
}

/**
 * Writes the drafted order, its audit record and (with a key) the stored response,
 * in one statement — if every fact the rules used still holds.
 */
export async function write(
  db: Executor,
  audit: AuditLog,
  actor: Actor,
  drafted: DraftedOrder,
  claim: IdempotencyClaim | undefined,
  requestId: string | undefined,
): Promise<WriteOutcome> {
  const { order, unitPath, venueRegion } = drafted;
  const [outcome] = await queryRows<WriteOutcome & Record<string, unknown>>(
    db,
    sql`with facts as (
          select p.id from ${products} p join ${suppliers} s on s.id = p.supplier_id
          where p.id = ${order.productId}::uuid and p.status = 'listed'
            and p.content_version = ${order.productContentVersion}::integer and s.status = 'active'
            and exists (select from ${units} u where u.id = ${order.unitId}::uuid and u.region_code = ${order.regionCode}::text)
            and exists (select from ${venues} v where v.id = ${order.venueId}::uuid and v.region_code = ${venueRegion}::text
                          and v.capacity >= ${order.expectedAudience}::integer)
          for share of p
        ),
        claim as (${claim ? claimKeySql(claim, { status: 201, body: order }, sql`facts`) : sql`select 1 from facts`}),
        placed as (
          insert into ${orders} (id, unit_id, region_code, product_id, product_content_version, supplier_id, venue_id,
            window_start, window_end, expected_audience, cost, budget_year, status, approval_chain, approved_steps, version, created_by)
          select ${order.id}::uuid, ${order.unitId}::uuid, ${order.regionCode}::text, ${order.productId}::uuid,
            ${order.productContentVersion}::integer, ${order.supplierId}::uuid, ${order.venueId}::uuid,
            ${order.windowStart}::date, ${order.windowEnd}::date, ${order.expectedAudience}::integer, ${order.cost}::integer,
            ${order.budgetYear}::integer, ${order.status}::text, '{}'::text[], 0, ${order.version}::integer, ${actor.userId}::text
          from claim
          returning id
        ),
        audited as (${audit.recordSql(
          {
            actor,
            entityType: 'order',
            entityId: order.id,
            action: 'order.create',
            region: { code: order.regionCode, path: unitPath },
            after: order,
            requestId,
          },
          sql`placed`,
        )})
        select exists (select from facts) as current, exists (select from placed) as placed`,
    { prepare: claim ? 'orders.place.write-with-key' : 'orders.place.write' },
  );
  return outcome!;
}
