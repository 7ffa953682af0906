import { and, desc, eq, lt } from 'drizzle-orm';
import {
  DomainError,
  decodeCursor,
  toPage,
  type Database,
  type HookBus,
  type PageOf,
  type PageRequest,
  type RegionService,
} from '@diandan/kernel';
import { noticePosted } from './hooks.js';
import { notices } from './schema.js';

/** A notice (公告) for the residents of one region. */
export interface Notice {
  id: number;
  regionCode: string;
  body: string;
  createdAt: string;
}

/** Posting and reading notices; knows nothing about HTTP. */
export class NoticeService {
  constructor(
    private readonly db: Database,
    private readonly regions: RegionService,
    private readonly hooks: HookBus,
    private readonly greeting: string,
  ) {}

  /** Posts a notice; the region must exist. */
  async post(regionCode: string, body: string): Promise<Notice> {
    if (body.trim() === '') throw new DomainError('invalid', 'NOTICE_EMPTY', 'A notice needs some text');
    await this.regions.get(regionCode); // REGION_NOT_FOUND (404) for an unknown region
    const [row] = await this.db
      .insert(notices)
      .values({ regionCode, body: `${this.greeting} ${body}` })
      .returning();
    const notice = toNotice(row!);
    await this.hooks.emit(noticePosted, notice);
    return notice;
  }

  /** A region's notices, newest first. */
  async list(regionCode: string, page: PageRequest): Promise<PageOf<Notice>> {
    const before = page.cursor ? Number(decodeCursor(page.cursor, 'notices.by-id-desc', ['integer'])[0]) : undefined;
    const rows = await this.db
      .select()
      .from(notices)
      .where(and(eq(notices.regionCode, regionCode), before === undefined ? undefined : lt(notices.id, before)))
      .orderBy(desc(notices.id))
      .limit(page.limit + 1); // one extra row tells whether there is a next page
    return toPage(rows, page.limit, 'notices.by-id-desc', (r) => [r.id], toNotice);
  }
}

function toNotice(r: typeof notices.$inferSelect): Notice {
  return { id: r.id, regionCode: r.regionCode, body: r.body, createdAt: r.createdAt.toISOString() };
}
