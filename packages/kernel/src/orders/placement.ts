import { randomUUID } from 'node:crypto';
import { sql, type SQL } from 'drizzle-orm';
import { hasRole, type Actor } from '../auth/actor.js';
import { inScope } from '../auth/scope.js';
import { REGION_STAFF } from '../auth/roles.js';
import { auditedActor, type AuditLog } from '../audit/audit-log.js';
import { regions } from '../core/schema.js';
import { prepareRows, transaction, type Database, type Executor, type Transaction } from '../db/database.js';
import { DomainError, notFound, ProblemCodes } from '../errors.js';
import type { ExtensionData, ExtensionRegistry } from '../extensions/extensions.js';
import type { HookBus } from '../hooks.js';
import { orderPlacementGuard } from './hooks.js';
import { products } from '../products/schema.js';
import { claimKeysSql, type IdempotencyClaim } from '../safe-writes/idempotency.js';
import { suppliers } from '../suppliers/schema.js';
import { units } from '../units/schema.js';
import { venues } from '../venues/schema.js';
import type { Order, OrderInput } from './orders.js';
import { orders } from './schema.js';

/*
 * Placing an order (点单) is the hot write of the platform. In the common case it
 * costs a share of one statement, instead of a dozen builder queries in a transaction:
 *
 * 1. `PlacementFacts` gives what the rules need about the unit, the venue and the
 *    product — from memory when this process has seen them before, otherwise in one
 *    query.
 * 2. `checkPlacement` applies the rules in plain code and drafts the order.
 * 3. `OrderWriter` writes the orders drafted in the same turn of the event loop with
 *    one statement, so one transaction and one commit. For each order it first
 *    re-checks in the database every fact the rules used (the unit's and the venue's
 *    region, the venue's capacity, the product listed at the same content version,
 *    its supplier active), share-locking the product row so a racing delist waits.
 *    Only if they all hold does it claim the order's idempotency key with the final
 *    response (a concurrent duplicate waits on that row, then writes nothing), insert
 *    the order and its audit record. So remembered facts can be stale but are never
 *    wrongly used: a stale fact makes the write skip that order, and `OrderService.
 *    place` reads afresh and tries again.
 *
 * No cross-process invalidation is needed: every process re-checks at write time.
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
  /** Why (and with which code) a suspended supplier is refused. */
  supplierStatusReason: string | null;
  supplierStatusCode: string | null;
}

/** A row of the facts query: a record's columns are null when it does not exist. */
type FactsRow = {
  unitRegion: string | null;
  unitPath: string | null;
  venueName: string | null;
  venueCapacity: number | null;
  venueRegion: string | null;
  venuePath: string | null;
  productStatus: string | null;
  productTitle: string | null;
  contentVersion: number | null;
  cost: number | null;
  supplierId: string | null;
  serviceableRegions: string[] | null;
  supplierStatus: string | null;
  supplierStatusReason: string | null;
  supplierStatusCode: string | null;
};

/** How many of each kind of record a process remembers (oldest forgotten first). */
const REMEMBERED = 20_000;

/** Facts about units, venues and orderable products, remembered between orders. */
export class PlacementFacts {
  private readonly units = new Map<string, UnitFacts>();
  private readonly venues = new Map<string, VenueFacts>();
  private readonly products = new Map<string, ProductFacts>();
  private readonly query: (ids: { unitId: string; venueId: string; productId: string }, on?: Executor) => Promise<FactsRow[]>;

  constructor(db: Executor) {
    this.query = prepareRows<FactsRow>(
      db,
      'orders.place.read-facts',
      sql`select u.region_code as "unitRegion", ur.path as "unitPath",
            v.name as "venueName", v.capacity as "venueCapacity", v.region_code as "venueRegion", vr.path as "venuePath",
            p.status as "productStatus", p.title as "productTitle", p.content_version as "contentVersion",
            p.cost_per_session as "cost", p.supplier_id as "supplierId", p.serviceable_regions as "serviceableRegions",
            s.status as "supplierStatus", s.status_reason as "supplierStatusReason", s.status_code as "supplierStatusCode"
          from (select) as request
          left join ${units} u on u.id = ${sql.placeholder('unitId')}::uuid
          left join ${regions} ur on ur.code = u.region_code
          left join ${venues} v on v.id = ${sql.placeholder('venueId')}::uuid
          left join ${regions} vr on vr.code = v.region_code
          left join ${products} p on p.id = ${sql.placeholder('productId')}::uuid
          left join ${suppliers} s on s.id = p.supplier_id`,
    );
  }

  /** The facts for `input`: from memory when all three are known, else read afresh (inside `tx` when the caller has one). */
  async get(input: OrderInput, tx?: Executor): Promise<PlacementContext> {
    const unit = this.units.get(input.unitId);
    const venue = this.venues.get(input.venueId);
    const product = this.products.get(input.productId);
    if (unit && venue && product) return { unit, venue, product, remembered: true };
    return this.read(input, tx);
  }

  /** Reads the facts for `input` in one query, and remembers what exists (and products that can be ordered). */
  async read(input: OrderInput, tx?: Executor): Promise<PlacementContext> {
    const [r] = await this.query({ unitId: input.unitId, venueId: input.venueId, productId: input.productId }, tx);
    // One row always: the query selects from a single empty row and left-joins the rest.
    const { unitPath, venuePath, productStatus, ...f } = r!;
    const context: PlacementContext = {
      unit: unitPath === null ? undefined : { regionCode: f.unitRegion!, path: unitPath },
      venue:
        venuePath === null ? undefined : { name: f.venueName!, capacity: f.venueCapacity!, regionCode: f.venueRegion!, path: venuePath },
      product:
        productStatus === null
          ? undefined
          : {
              status: productStatus,
              title: f.productTitle!,
              contentVersion: f.contentVersion!,
              cost: f.cost!,
              supplierId: f.supplierId!,
              serviceableRegions: f.serviceableRegions!,
              supplierStatus: f.supplierStatus!,
              supplierStatusReason: f.supplierStatusReason,
              supplierStatusCode: f.supplierStatusCode,
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
    throw notFound(ProblemCodes.UNIT_NOT_FOUND, `Unit ${input.unitId} does not exist`);
  }
  if (!venue || !inScope(actor, venue.path)) throw notFound(ProblemCodes.VENUE_NOT_FOUND, `Venue ${input.venueId} does not exist`);
  if (input.expectedAudience > venue.capacity) {
    throw new DomainError('invalid', 'VENUE_TOO_SMALL', `Venue ${venue.name} holds ${venue.capacity}, not ${input.expectedAudience}`);
  }
  if (product?.status !== 'listed') throw notFound(ProblemCodes.PRODUCT_NOT_FOUND, `Product ${input.productId} is not in the library`);
  if (product.supplierStatus !== 'active') {
    throw new DomainError(
      'conflict',
      product.supplierStatusCode ?? ProblemCodes.SUPPLIER_SUSPENDED,
      `The supplier of product ${input.productId} is suspended${product.supplierStatusReason ? ` (${product.supplierStatusReason})` : ''}; it cannot be ordered now`,
      { supplierId: product.supplierId, reason: product.supplierStatusReason },
    );
  }
  const unitRegions = unit.path.split('/');
  if (!product.serviceableRegions.some((code) => unitRegions.includes(code))) {
    throw new DomainError('invalid', 'PRODUCT_NOT_SERVED_HERE', `Product ${product.title} is not delivered to region ${unit.regionCode}`);
  }
  const order: Order = {
    id: input.id ?? randomUUID(),
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

/** A unit operator acts for the unit in its token (when that unit lies in its home subtree); staff for every unit in their subtree. */
export function actsForUnit(actor: Actor, unitId: string, unitPath: string): boolean {
  return inScope(actor, unitPath) && ((hasRole(actor, ['unit-operator']) && actor.unitId === unitId) || hasRole(actor, REGION_STAFF));
}

/** An order that passed the rules, with the facts the write must find unchanged. */
export interface DraftedOrder {
  order: Order;
  unitPath: string;
  venueRegion: string;
}

/** What the write found: whether the facts still held, and whether the order went in (with its extension data). */
export interface WriteOutcome {
  current: boolean;
  placed: boolean;
  order?: Order | undefined;
}

/** One order to write, with who places it and how to answer. */
export interface Placement {
  actor: Actor;
  drafted: DraftedOrder;
  claim: IdempotencyClaim | undefined;
  requestId: string | undefined;
  extensions: ExtensionData | undefined;
}

interface PendingWrite extends Placement {
  settle: { resolve: (outcome: WriteOutcome) => void; reject: (error: unknown) => void };
}

/** The most orders written by one statement. */
const BATCH = 64;

/**
 * With placement guards, at most this many batch transactions are open at once; orders
 * drafted meanwhile wait and go together in the next one. A guarded batch costs BEGIN,
 * the guards' queries, the statement and COMMIT, so under load a few large batches cost
 * far less CPU per order than many small ones (group commit), for a few milliseconds of
 * latency.
 */
const GUARDED_IN_FLIGHT = 2;

type Outcomes = { n: number; current: boolean; placed: boolean }[];

/**
 * Writes drafted orders, each with its audit record and (with a key) its stored
 * response, if every fact its rules used still holds.
 *
 * Orders drafted in the same turn of the event loop are written together by one
 * statement: under load, most of the cost of a placement is the round trip and the
 * commit, not the rows. Each order still gets its own outcome — a stale fact, a taken
 * key or a guard's refusal skips that order only. If the statement fails as a whole
 * (it should not: the facts were checked), each order is written again on its own so
 * that one bad order cannot fail the others.
 *
 * With placement guards registered, a batch is one transaction: the guards of every
 * order run in it (concurrently on PostgreSQL, where they share the connection's
 * pipeline), then the statement. An order that brings extension data, or is placed
 * inside a caller's transaction, is written on its own in that transaction.
 */
export class OrderWriter {
  private pending: PendingWrite[] = [];
  /** Guarded batch transactions open now (see GUARDED_IN_FLIGHT). */
  private inFlight = 0;
  private readonly statement: (values: { rows: string }, on?: Executor) => Promise<Outcomes>;

  constructor(
    private readonly db: Database,
    audit: AuditLog,
    private readonly hooks: HookBus,
    private readonly extensions: ExtensionRegistry,
    private readonly options: { concurrentStatements: boolean },
  ) {
    this.statement = prepareRows(db, 'orders.place.write', writeSql(audit));
  }

  write(placement: Placement, tx?: Transaction): Promise<WriteOutcome> {
    if (tx) return this.writeAlone(placement, tx);
    if (placement.extensions && this.extensions.accepts('order')) return transaction(this.db, (own) => this.writeAlone(placement, own));
    return new Promise((resolve, reject) => {
      if (this.pending.length === 0) setImmediate(() => this.flush());
      this.pending.push({ ...placement, settle: { resolve, reject } });
      if (this.pending.length >= BATCH) this.flush();
    });
  }

  private flush(): void {
    if (this.pending.length === 0) return;
    const guarded = this.hooks.guarded(orderPlacementGuard);
    if (guarded && this.inFlight >= GUARDED_IN_FLIGHT) return; // the next batch to finish flushes these
    const batch = this.pending.splice(0, BATCH);
    if (guarded) this.inFlight++;
    this.writeBatch(batch)
      .catch((error: unknown) => {
        if (batch.length === 1) batch[0]!.settle.reject(error);
        else for (const one of batch) this.writeBatch([one]).catch(one.settle.reject);
      })
      .finally(() => {
        if (!guarded) return;
        this.inFlight--;
        this.flush();
      });
  }

  private async writeBatch(batch: PendingWrite[]): Promise<void> {
    if (!this.hooks.guarded(orderPlacementGuard)) {
      const outcomes = await this.statement({ rows: rowsJson(batch) });
      for (const { n, current, placed } of outcomes) batch[n]!.settle.resolve({ current, placed });
      return;
    }
    const results = await transaction(this.db, async (tx) => {
      const refusals = await this.guard(batch, tx);
      const passed = batch.filter((_, i) => refusals[i] === undefined);
      return { refusals, passed, outcomes: passed.length ? await this.statement({ rows: rowsJson(passed) }, tx) : [] };
    });
    batch.forEach((one, i) => {
      if (results.refusals[i] !== undefined) one.settle.reject(results.refusals[i]);
    });
    for (const { n, current, placed } of results.outcomes) results.passed[n]!.settle.resolve({ current, placed });
  }

  /** One order inside `tx`: guards, the statement, its extension data. A refusal is thrown. */
  private async writeAlone(placement: Placement, tx: Transaction): Promise<WriteOutcome> {
    const [refusal] = await this.guard([placement], tx);
    if (refusal !== undefined) throw refusal;
    const [outcome] = await this.statement({ rows: rowsJson([placement]) }, tx);
    const { current, placed } = outcome!;
    if (!placed) return { current, placed };
    const { order } = placement.drafted;
    await this.extensions.save('order', order.id, placement.extensions, { tx, actor: placement.actor, created: true });
    return { current, placed, order: await this.extensions.attachOne('order', order, tx) };
  }

  /** Each order's guard refusal (or failure); undefined where every guard let it pass. */
  private guard(batch: readonly Placement[], tx: Transaction): Promise<unknown[]> {
    const items = batch.map(({ actor, drafted, extensions }) => ({ subject: { order: drafted.order, extensions }, actor }));
    return this.hooks.checkMany(orderPlacementGuard, items, tx, { concurrent: this.options.concurrentStatements });
  }
}

/** The `rows` parameter of the write statement: one object per order (see `writeSql`). */
function rowsJson(batch: readonly Placement[]): string {
  return JSON.stringify(
    batch.map(({ actor, drafted: { order, unitPath, venueRegion }, claim, requestId }, n) => {
      const who = auditedActor(actor);
      return {
        n,
        id: order.id,
        unit_id: order.unitId,
        region_code: order.regionCode,
        region_path: unitPath,
        product_id: order.productId,
        product_content_version: order.productContentVersion,
        supplier_id: order.supplierId,
        venue_id: order.venueId,
        venue_region: venueRegion,
        window_start: order.windowStart,
        window_end: order.windowEnd,
        expected_audience: order.expectedAudience,
        cost: order.cost,
        budget_year: order.budgetYear,
        status: order.status,
        version: order.version,
        actor_id: who.actorId,
        actor_roles: who.actorRoles,
        actor_region: who.actorRegion,
        request_id: requestId ?? null,
        scope: claim?.scope ?? null,
        key: claim?.key ?? null,
        fingerprint: claim?.fingerprint ?? null,
        body: order,
      };
    }),
  );
}

/**
 * The statement that writes a batch: `rows` is a JSON array with one object per order
 * (see `OrderWriter.writeBatch`); it answers, per order `n`, whether its facts held
 * and whether it was placed.
 */
function writeSql(audit: AuditLog): SQL {
  return sql`with input as (
      select * from jsonb_to_recordset(${sql.placeholder('rows')}::jsonb) as i(
        n integer, id uuid, unit_id uuid, region_code text, region_path text, product_id uuid,
        product_content_version integer, supplier_id uuid, venue_id uuid, venue_region text,
        window_start date, window_end date, expected_audience integer, cost integer, budget_year integer,
        status text, version integer, actor_id text, actor_roles text[], actor_region text, request_id text,
        scope text, key text, fingerprint text, body jsonb)
    ),
    facts as (
      select i.* from input i
      join ${products} p on p.id = i.product_id and p.status = 'listed' and p.content_version = i.product_content_version
      join ${suppliers} s on s.id = p.supplier_id and s.status = 'active'
      where exists (select from ${units} u where u.id = i.unit_id and u.region_code = i.region_code)
        and exists (select from ${venues} v where v.id = i.venue_id and v.region_code = i.venue_region
                      and v.capacity >= i.expected_audience)
      for share of p
    ),
    claimed as (${claimKeysSql(sql`(select scope, key, fingerprint, 201 as status, body as response from facts where key is not null order by scope, key) as f`)}),
    placed as (
      insert into ${orders} (id, unit_id, region_code, product_id, product_content_version, supplier_id, venue_id,
        window_start, window_end, expected_audience, cost, budget_year, status, approval_chain, approved_steps,
        version, created_by)
      select id, unit_id, region_code, product_id, product_content_version, supplier_id, venue_id,
        window_start, window_end, expected_audience, cost, budget_year, status, '{}', 0, version, actor_id
      from facts f
      -- The claim that went in is the one whose response is this order (one key may come twice).
      where f.key is null or exists (select from claimed c where (c.response->>'id')::uuid = f.id)
      returning id
    ),
    audited as (${audit.recordAllSql(sql`(
      select f.actor_id, f.actor_roles, f.actor_region, 'order' as entity_type, f.id::text as entity_id,
        'order.create' as action, f.region_code, f.region_path, null::jsonb as before, f.body as after, f.request_id
      from facts f join placed using (id)) as a`)})
    select i.n,
      exists (select from facts f where f.n = i.n) as current,
      exists (select from placed p where p.id = i.id) as placed
    from input i`;
}
