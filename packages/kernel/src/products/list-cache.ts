import { sql } from 'drizzle-orm';
import { afterCommit, type DatabaseConnection, type Executor } from '../db/database.js';
import type { PageOf } from '../http/pagination.js';

/** The NOTIFY channel on which every process hears that the library changed. */
export const LIBRARY_CHANNEL = 'diandan_library';

/**
 * A read cache of library searches over listed products, shared by every request of
 * this process and kept correct across processes:
 *
 * - a write that changes what is listed sends `NOTIFY diandan_library` inside its
 *   transaction; Postgres delivers it to every listening process when (and only if)
 *   the transaction commits, and each process drops its cache;
 * - the process that made the write drops its own cache right after the commit,
 *   before it answers, so a client never reads its own change stale;
 * - another process may serve the old page only between the commit and the arrival
 *   of the notification (loopback: well under a millisecond) — and ordering checks
 *   the product's status in the ordering transaction, so a delisted product can
 *   never be ordered.
 *
 * Entries are whole pages keyed by the normalised query; the cache is bounded.
 */
export class LibraryCache<T> {
  private readonly pages = new Map<string, PageOf<T>>();
  private unlisten: (() => Promise<void>) | undefined;

  constructor(private readonly maxEntries = 2000) {}

  /** Starts listening for other processes' changes. */
  async connect(connection: Pick<DatabaseConnection, 'listen'>): Promise<void> {
    // Also clear on every (re)connection: changes made while it was down went unheard.
    this.unlisten = await connection.listen(
      LIBRARY_CHANNEL,
      () => this.clear(),
      () => this.clear(),
    );
  }

  async close(): Promise<void> {
    await this.unlisten?.();
  }

  /** A cached page, or the page `load` produces (then cached). */
  async get(key: string, load: () => Promise<PageOf<T>>): Promise<PageOf<T>> {
    const hit = this.pages.get(key);
    if (hit) return hit;
    // Remember which generation this load belongs to: a change that commits while it
    // runs must not let its (possibly old) result into the cache.
    const generation = this.generation;
    const page = await load();
    if (generation === this.generation) {
      if (this.pages.size >= this.maxEntries) this.pages.clear();
      this.pages.set(key, page);
    }
    return page;
  }

  /**
   * Inside a write transaction that changes what the library shows: every process
   * drops its cache when the transaction commits (this one right away, the others
   * when the notification arrives).
   */
  async announce(tx: Executor): Promise<void> {
    await tx.execute(sql`select pg_notify(${LIBRARY_CHANNEL}, '')`);
    afterCommit(tx, () => this.clear());
  }

  /** Drops every cached page. */
  clear(): void {
    this.generation++;
    this.pages.clear();
  }

  private generation = 0;
}
