/**
 * Residents' ballots over a street's own budget (居民点单): approval voting over library
 * products, allocated by the Method of Equal Shares and compared with "most votes that
 * still fit" (see `equal-shares.ts`). A ballot is `draft` (options and rule editable) →
 * `open` (the rule and options locked; votes recorded) → `closed` (result computed once,
 * stored); or `cancelled`.
 */
import {
  DomainError,
  defineStateMachine,
  forbidden,
  hasRole,
  inScope,
  nextState,
  stale,
  withTransaction,
  withinScope,
  type Actor,
  type CallContext,
  type Database,
  type HookBus,
  type KernelServices,
  type PageOf,
  type PageRequest,
} from '@diandan/kernel';
import { and, asc, eq, gt, sql } from 'drizzle-orm';
import { equalShares, mostVotes, type Completion, type Outcome, type RuleParameters } from './equal-shares.js';
import { ballotClosed } from './hooks.js';
import { ballotVotes, ballots } from './schema.js';

export const BALLOT_STATES = ['draft', 'open', 'closed', 'cancelled'] as const;
export type BallotState = (typeof BALLOT_STATES)[number];
export type BallotAction = 'open' | 'close' | 'cancel';

export const ballotLifecycle = defineStateMachine<BallotState, BallotAction>({
  name: 'matching-ballot',
  states: BALLOT_STATES,
  transitions: {
    open: { from: ['draft'], to: 'open' },
    close: { from: ['open'], to: 'closed' },
    cancel: { from: ['draft', 'open'], to: 'cancelled' },
  },
});

/** Who drafts, opens, closes ballots and records paper votes: the street's staff and the admins above. */
export const BALLOT_STAFF = ['city-admin', 'district-admin', 'street-operator'] as const;

export interface BallotOptionView {
  key: string;
  productId: string;
  title: string;
  category: string;
  sessions: number;
  /** costPerSession × sessions, fixed when the option was added. */
  cost: number;
}

export interface Ballot {
  id: string;
  regionCode: string;
  title: string;
  budget: number;
  options: BallotOptionView[];
  rule: RuleParameters;
  status: BallotState;
  votes: number;
  result: BallotResult | null;
  version: number;
  createdAt: string;
  openedAt: string | null;
  closedAt: string | null;
}

export interface BallotResult {
  equalShares: Outcome;
  mostVotes: Outcome;
  /** Options each rule funds that the other does not. */
  difference: { onlyEqualShares: string[]; onlyMostVotes: string[] };
}

export interface BallotInput {
  regionCode: string;
  title: string;
  budget: number;
  options: { productId: string; sessions?: number | undefined }[];
  rule?: { completion?: Completion | undefined; increment?: number | undefined } | undefined;
}

export const BallotProblems = {
  NOT_FOUND: 'BALLOT_NOT_FOUND',
  LOCKED: 'BALLOT_LOCKED',
  NOT_OPEN: 'BALLOT_NOT_OPEN',
  ALREADY_VOTED: 'BALLOT_ALREADY_VOTED',
  UNKNOWN_OPTION: 'BALLOT_UNKNOWN_OPTION',
  NOT_A_STREET: 'BALLOT_NOT_A_STREET',
  PRODUCT_NOT_SERVING: 'BALLOT_PRODUCT_NOT_SERVING',
  UNKNOWN_GROUP: 'BALLOT_UNKNOWN_GROUP',
  STALE: 'STALE_VERSION',
} as const;

const notFound = () => new DomainError('not_found', BallotProblems.NOT_FOUND, 'No such ballot (or it is outside your region)');

/** A resident's identifier as given (resident card, phone): trimmed, separators dropped, upper case — then hashed. */
const normaliseVoter = (v: string) => v.replace(/[\s-]/g, '').toUpperCase();

export class BallotService {
  constructor(
    private readonly db: Database,
    private readonly kernel: KernelServices,
    private readonly hooks: HookBus,
    private readonly systemActor: () => Promise<Actor>,
  ) {}

  private staff(actor: Actor) {
    if (!hasRole(actor, BALLOT_STAFF)) throw forbidden("Only the street's staff and the admins above run ballots");
  }

  /** Drafts a ballot for a street's budget over listed products that serve the street. */
  async create(input: BallotInput, ctx: CallContext, resolved?: BallotOptionView[]): Promise<Ballot> {
    this.staff(ctx.actor);
    const path = await this.kernel.regions.pathInScope(input.regionCode, ctx.actor, { tx: ctx.tx });
    const region = await this.kernel.regions.get(input.regionCode, { tx: ctx.tx });
    if (region.level !== 'street') throw new DomainError('invalid', BallotProblems.NOT_A_STREET, 'A residents’ ballot is for a street’s budget');
    const options = resolved ?? (await this.resolveOptions(input.regionCode, input.options, ctx.actor));
    const rule: RuleParameters = { rule: 'equal-shares', completion: input.rule?.completion ?? 'add1-greedy', increment: input.rule?.increment ?? 1 };
    return withTransaction(this.db, ctx.tx, async (tx) => {
      const [row] = await tx
        .insert(ballots)
        .values({ regionCode: input.regionCode, regionPath: path, title: input.title, budget: input.budget, options, rule, status: 'draft', createdBy: ctx.actor.userId })
        .returning();
      await this.kernel.audit.record(
        { actor: ctx.actor, entityType: 'matching-ballot', entityId: row!.id, action: 'matching-ballot.create', region: { code: input.regionCode, path }, after: { title: input.title, budget: input.budget, options: options.length, rule }, requestId: ctx.requestId },
        { tx },
      );
      return toBallot(row!, 0);
    });
  }

  /** The options' products and costs, read before the write's transaction (the kernel's product reads take none). */
  async resolveOptions(regionCode: string, wanted: BallotInput['options'], actor: Actor): Promise<BallotOptionView[]> {
    this.staff(actor);
    await this.kernel.regions.pathInScope(regionCode, actor);
    const system = await this.systemActor();
    const seen = new Set<string>();
    const out: BallotOptionView[] = [];
    for (const [i, o] of wanted.entries()) {
      if (seen.has(o.productId)) throw new DomainError('invalid', BallotProblems.UNKNOWN_OPTION, `options[${i}]: product ${o.productId} is listed twice`);
      seen.add(o.productId);
      const page = await this.kernel.products.list({ status: 'listed', region: regionCode, page: { limit: 200 } }, { actor: system });
      let p = page.items.find((x) => x.id === o.productId);
      if (!p) {
        // Beyond the first page: ask for the product itself.
        const one = await this.kernel.products.get(o.productId, { actor: system }).catch(() => null);
        const serving = one && one.status === 'listed' ? (await this.kernel.products.list({ status: 'listed', region: regionCode, supplierId: one.supplierId, page: { limit: 200 } }, { actor: system })).items.find((x) => x.id === one.id) : undefined;
        if (!serving) throw new DomainError('invalid', BallotProblems.PRODUCT_NOT_SERVING, `options[${i}]: product ${o.productId} is not a listed product that serves ${regionCode}`);
        p = serving;
      }
      const sessions = o.sessions ?? 1;
      out.push({ key: p.id, productId: p.id, title: p.title, category: p.category, sessions, cost: p.costPerSession * sessions });
    }
    return out;
  }

  private async row(id: string, actor: Actor, tx?: Database | undefined) {
    const [row] = await (tx ?? this.db).select().from(ballots).where(eq(ballots.id, id));
    if (!row || !inScope(actor, row.regionPath)) throw notFound();
    return row;
  }

  private async voteCount(id: string): Promise<number> {
    const [r] = await this.db.select({ n: sql<number>`count(*)::int` }).from(ballotVotes).where(eq(ballotVotes.ballotId, id));
    return Number(r?.n ?? 0);
  }

  /** One ballot; any staff of the street's subtree (and above) sees it. */
  async get(id: string, ctx: { actor: Actor }): Promise<Ballot> {
    const row = await this.row(id, ctx.actor);
    return toBallot(row, await this.voteCount(id));
  }

  async list(query: { page: PageRequest }, ctx: { actor: Actor }): Promise<PageOf<Ballot>> {
    const rows = await this.db
      .select()
      .from(ballots)
      .where(and(withinScope(ballots.regionPath, ctx.actor), query.page.cursor ? gt(ballots.id, query.page.cursor) : undefined))
      .orderBy(asc(ballots.id))
      .limit(query.page.limit + 1);
    const items = await Promise.all(rows.slice(0, query.page.limit).map(async (r) => toBallot(r, await this.voteCount(r.id))));
    return { items, nextCursor: rows.length > query.page.limit ? items.at(-1)!.id : null };
  }

  /** Changes a draft (If-Match). Once voting opens the rule and the options are locked. */
  async update(
    input: { id: string; expectedVersion: number; title?: string | undefined; budget?: number | undefined; options?: BallotInput['options'] | undefined; rule?: BallotInput['rule'] },
    ctx: CallContext,
    resolved?: BallotOptionView[],
  ): Promise<Ballot> {
    this.staff(ctx.actor);
    return withTransaction(this.db, ctx.tx, async (tx) => {
      const [before] = await tx.select().from(ballots).where(eq(ballots.id, input.id)).for('update');
      if (!before || !inScope(ctx.actor, before.regionPath)) throw notFound();
      if (before.status !== 'draft') throw new DomainError('conflict', BallotProblems.LOCKED, `The ballot is ${before.status}: its rule, budget and options were locked when voting opened`, { state: before.status });
      if (before.version !== input.expectedVersion) throw stale();
      const rule = before.rule as RuleParameters;
      const next = {
        title: input.title ?? before.title,
        budget: input.budget ?? before.budget,
        options: input.options ? (resolved ?? (await this.resolveOptions(before.regionCode, input.options, ctx.actor))) : (before.options as BallotOptionView[]),
        rule: { ...rule, ...(input.rule?.completion ? { completion: input.rule.completion } : {}), ...(input.rule?.increment ? { increment: input.rule.increment } : {}) },
      };
      const [row] = await tx.update(ballots).set({ ...next, version: before.version + 1 }).where(eq(ballots.id, input.id)).returning();
      await this.kernel.audit.record(
        { actor: ctx.actor, entityType: 'matching-ballot', entityId: input.id, action: 'matching-ballot.update', region: { code: before.regionCode, path: before.regionPath }, before: { title: before.title, budget: before.budget, rule }, after: { title: next.title, budget: next.budget, rule: next.rule }, requestId: ctx.requestId },
        { tx },
      );
      return toBallot(row!, 0);
    });
  }

  /** Opens voting (locks the rule), closes it (computes and stores the result once), or cancels (If-Match). */
  async act(input: { id: string; action: BallotAction; expectedVersion: number }, ctx: CallContext): Promise<Ballot> {
    this.staff(ctx.actor);
    return withTransaction(this.db, ctx.tx, async (tx) => {
      const [before] = await tx.select().from(ballots).where(eq(ballots.id, input.id)).for('update');
      if (!before || !inScope(ctx.actor, before.regionPath)) throw notFound();
      const to = nextState(ballotLifecycle, before.status as BallotState, input.action);
      if (before.version !== input.expectedVersion) throw stale();
      if (input.action === 'open' && !(before.options as unknown[]).length) throw new DomainError('invalid', BallotProblems.UNKNOWN_OPTION, 'A ballot needs at least one option before it opens');
      let result: BallotResult | null = null;
      if (input.action === 'close') {
        const votes = await tx.select().from(ballotVotes).where(eq(ballotVotes.ballotId, input.id)).orderBy(asc(ballotVotes.createdAt), asc(ballotVotes.id));
        result = tally(before, votes.map((v) => ({ voter: v.voterHash, group: v.groupKey, approvals: v.approvals as string[] })));
      }
      const now = new Date();
      const [row] = await tx
        .update(ballots)
        .set({ status: to, version: before.version + 1, ...(input.action === 'open' ? { openedAt: now } : {}), ...(input.action === 'close' ? { closedAt: now, result } : {}) })
        .where(eq(ballots.id, input.id))
        .returning();
      if (result) await this.hooks.publish(tx, ballotClosed, { ballotId: input.id, regionCode: before.regionCode, funded: result.equalShares.funded.map((f) => f.key), actorId: ctx.actor.userId });
      await this.kernel.audit.record(
        { actor: ctx.actor, entityType: 'matching-ballot', entityId: input.id, action: `matching-ballot.${input.action}`, region: { code: before.regionCode, path: before.regionPath }, before: { status: before.status }, after: { status: to, ...(result ? { funded: result.equalShares.funded.map((f) => f.key) } : {}) }, requestId: ctx.requestId },
        { tx },
      );
      const [n] = await tx.select({ n: sql<number>`count(*)::int` }).from(ballotVotes).where(eq(ballotVotes.ballotId, input.id));
      return toBallot(row!, Number(n?.n ?? 0));
    });
  }

  /** A kernel population group (checked before the vote's transaction). */
  async checkGroup(group: string): Promise<void> {
    const groups = await this.kernel.populationGroups.list({ page: { limit: 200 } });
    if (!groups.items.some((g) => g.key === group)) throw new DomainError('invalid', BallotProblems.UNKNOWN_GROUP, `Unknown population group: ${group}`);
  }

  /**
   * Records one resident's approvals (a paper ballot entered by staff, or a kiosk): the
   * voter's identifier is hashed with the deployment's key (never stored or returned),
   * so the same resident cannot vote twice on a ballot.
   */
  async vote(input: { id: string; voter: string; group: string; approvals: string[] }, ctx: CallContext): Promise<{ ballotId: string; approvals: string[]; group: string; votes: number }> {
    this.staff(ctx.actor);
    if (!ctx.tx) await this.checkGroup(input.group);
    return withTransaction(this.db, ctx.tx, async (tx) => {
      const [ballot] = await tx.select().from(ballots).where(eq(ballots.id, input.id)).for('share');
      if (!ballot || !inScope(ctx.actor, ballot.regionPath)) throw notFound();
      if (ballot.status !== 'open') throw new DomainError('conflict', BallotProblems.NOT_OPEN, `The ballot is ${ballot.status}: votes are taken while it is open`, { state: ballot.status });
      const keys = new Set((ballot.options as BallotOptionView[]).map((o) => o.key));
      const approvals = [...new Set(input.approvals)];
      const unknown = approvals.filter((a) => !keys.has(a));
      if (unknown.length) throw new DomainError('invalid', BallotProblems.UNKNOWN_OPTION, `Not options of this ballot: ${unknown.join(', ')}`);
      const voterHash = this.kernel.personalData.hash('matching-voter', `${input.id}:${normaliseVoter(input.voter)}`);
      const added = await tx.insert(ballotVotes).values({ ballotId: input.id, voterHash, groupKey: input.group, approvals, recordedBy: ctx.actor.userId }).onConflictDoNothing().returning({ id: ballotVotes.id });
      if (!added.length) throw new DomainError('conflict', BallotProblems.ALREADY_VOTED, 'This resident has already voted on this ballot');
      await this.kernel.audit.record(
        { actor: ctx.actor, entityType: 'matching-ballot', entityId: input.id, action: 'matching-ballot.vote', region: { code: ballot.regionCode, path: ballot.regionPath }, after: { group: input.group, approvals: approvals.length }, requestId: ctx.requestId },
        { tx },
      );
      const [n] = await tx.select({ n: sql<number>`count(*)::int` }).from(ballotVotes).where(eq(ballotVotes.ballotId, input.id));
      return { ballotId: input.id, approvals, group: input.group, votes: Number(n?.n ?? 0) };
    });
  }
}

/** Both rules on the ballot's votes, with what separates them. */
export function tally(ballot: { budget: number; options: unknown; rule: unknown }, votes: { voter: string; group: string; approvals: string[] }[]): BallotResult {
  const options = (ballot.options as BallotOptionView[]).map((o) => ({ key: o.key, cost: o.cost }));
  const es = equalShares(options, votes, ballot.budget, ballot.rule as RuleParameters);
  const mv = mostVotes(options, votes, ballot.budget);
  const a = new Set(es.funded.map((f) => f.key));
  const b = new Set(mv.funded.map((f) => f.key));
  return { equalShares: es, mostVotes: mv, difference: { onlyEqualShares: [...a].filter((k) => !b.has(k)), onlyMostVotes: [...b].filter((k) => !a.has(k)) } };
}

function toBallot(r: typeof ballots.$inferSelect, votes: number): Ballot {
  return {
    id: r.id,
    regionCode: r.regionCode,
    title: r.title,
    budget: r.budget,
    options: r.options as BallotOptionView[],
    rule: r.rule as RuleParameters,
    status: r.status as BallotState,
    votes,
    result: (r.result as BallotResult | null) ?? null,
    version: r.version,
    createdAt: r.createdAt.toISOString(),
    openedAt: r.openedAt?.toISOString() ?? null,
    closedAt: r.closedAt?.toISOString() ?? null,
  };
}
