import { sql } from 'drizzle-orm';
import { DomainError, queryRows, type Database, type Executor } from '@diandan/kernel';

/**
 * The procurement clock: the database's `now()` (one clock for every process of a
 * deployment, so a deadline means the same thing on every node), plus an offset that
 * tests and simulations move forward instead of waiting for a deadline in real time.
 * Every deadline check and every date the package records (bids, awards, contracts,
 * OCDS releases) reads it. The offset belongs to one process: production leaves it at 0.
 */
export class ProcurementClock {
  #offsetMs = 0;

  constructor(private readonly db: Database) {}

  /** The current time: the database clock plus the offset; inside a transaction, pass it. */
  async now(tx: Executor = this.db): Promise<Date> {
    const [row] = await queryRows<{ now: Date | string }>(tx, sql`select now() as now`);
    return new Date(new Date(row!.now).getTime() + this.#offsetMs);
  }

  /** How far the clock runs ahead of the database's, in milliseconds. */
  get offsetMs(): number {
    return this.#offsetMs;
  }

  /** Moves the clock forward by `ms` (never back: deadlines that passed stay passed). */
  advance(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) throw new DomainError('invalid', 'PROCUREMENT_CLOCK_BACKWARDS', 'The procurement clock only moves forward');
    this.#offsetMs += ms;
  }

  /** Moves the clock forward until it reads later than `at` (no-op when it already does). */
  async advancePast(at: Date | string): Promise<void> {
    const target = new Date(at).getTime();
    const now = (await this.now()).getTime();
    if (now <= target) this.advance(target - now + 1);
  }
}
