import { and, desc, eq, inArray, lt, sql } from 'drizzle-orm';
import {
  DomainError,
  REGION_STAFF,
  decodeCursor,
  forbidden,
  hasRole,
  toPage,
  withTransaction,
  type CallContext,
  type Database,
  type Executor,
  type KernelServices,
  type HookBus,
  type PageOf,
  type PageRequest,
} from '@diandan/kernel';
import { noticeGuard, noticePosted } from './hooks.js';
import { notices } from './schema.js';

/** A notice (公告) for the residents of one region. */
export interface Notice {
  id: number;
  regionCode: string;
  body: string;
  postedBy: string;
  createdAt: string;
}

const BY_ID_DESC = 'notices.by-id-desc';

/**
 * Posting and reading notices; knows nothing about HTTP. Follows the kernel's calling
 * convention, `(input, { actor, tx })`, so jobs, seeds and other plugins call it as
 * the routes do.
 */
export class NoticeService {
  constructor(
    private readonly db: Database,
    private readonly kernel: Pick<KernelServices, 'regions' | 'audit'>,
    private readonly hooks: HookBus,
    private readonly greeting: string,
  ) {}

  /** Region staff post a notice for a region of their subtree. */
  async post(input: { regionCode: string; body: string }, ctx: CallContext): Promise<Notice> {
    if (!hasRole(ctx.actor, REGION_STAFF)) throw forbidden('Only region staff post notices');
    if (input.body.trim() === '') throw new DomainError('invalid', 'NOTICE_EMPTY', 'A notice needs some text');
    return withTransaction(this.db, ctx.tx, async (tx) => {
      // REGION_NOT_FOUND (404) for a region that does not exist or lies outside the actor's subtree.
      const path = await this.kernel.regions.pathInScope(input.regionCode, ctx.actor, { tx });
      await this.hooks.check(noticeGuard, input, { tx, actor: ctx.actor });
      const [row] = await tx
        .insert(notices)
        .values({ regionCode: input.regionCode, body: `${this.greeting} ${input.body}`, postedBy: ctx.actor.userId })
        .returning();
      const notice = toNotice(row!);
      await this.kernel.audit.record(
        { actor: ctx.actor, entityType: 'notice', entityId: String(notice.id), action: 'notice.post', region: { code: notice.regionCode, path }, after: notice, requestId: ctx.requestId },
        { tx },
      );
      await this.hooks.publish(tx, noticePosted, notice);
      return notice;
    });
  }

  /** A region's notices, newest first (notices are public). */
  async list(input: { regionCode: string; page: PageRequest }): Promise<PageOf<Notice>> {
    const { regionCode, page } = input;
    const before = page.cursor ? Number(decodeCursor(page.cursor, BY_ID_DESC, ['integer'])[0]) : undefined;
    const rows = await this.db
      .select()
      .from(notices)
      .where(and(eq(notices.regionCode, regionCode), before === undefined ? undefined : lt(notices.id, before)))
      .orderBy(desc(notices.id))
      .limit(page.limit + 1); // one extra row tells whether there is a next page
    return toPage(rows, page.limit, BY_ID_DESC, (r) => [r.id], toNotice);
  }

  /** The newest notice of each region of `units`, in one query: what units show as extension data. */
  async latestFor(units: readonly { id: string; regionCode: string }[], db: Executor): Promise<Map<string, { latest: string; count: number }>> {
    const regions = [...new Set(units.map((u) => u.regionCode))];
    if (regions.length === 0) return new Map();
    const rows = await db
      .select({ regionCode: notices.regionCode, latest: sql<string>`(array_agg(${notices.body} order by ${notices.id} desc))[1]`, count: sql<number>`count(*)::int` })
      .from(notices)
      .where(inArray(notices.regionCode, regions))
      .groupBy(notices.regionCode);
    const byRegion = new Map(rows.map((r) => [r.regionCode, { latest: r.latest, count: r.count }]));
    return new Map(units.flatMap((u) => (byRegion.has(u.regionCode) ? [[u.id, byRegion.get(u.regionCode)!] as const] : [])));
  }

  /** Deletes notices older than `days`; the daily clean-up job runs it. */
  async purge(days: number): Promise<number> {
    const deleted = await this.db.delete(notices).where(lt(notices.createdAt, sql`now() - make_interval(days => ${days}::integer)`)).returning({ id: notices.id });
    return deleted.length;
  }
}

function toNotice(r: typeof notices.$inferSelect): Notice {
  return { id: r.id, regionCode: r.regionCode, body: r.body, postedBy: r.postedBy, createdAt: r.createdAt.toISOString() };
}

