import { DatabaseUnavailableError, databaseErrorCode, isConnectFailure } from './availability.js';

/**
 * What this process knows about its database: a small circuit breaker.
 *
 * - **Up** (the normal state): every query goes to the driver.
 * - **Down**, entered when a *new* connection cannot be made (refused, timed out,
 *   the server starting up, too many clients): queries fail at once with
 *   `DatabaseUnavailableError` instead of each waiting for its own connection attempt,
 *   and a probe (`select 1`) runs every `probeIntervalMs` until one succeeds.
 *
 * A connection lost while open (the server killed under it) does not open the breaker
 * by itself: the next query reconnects, and only if that fails is the database down.
 */
export class DatabaseHealth {
  private down: { since: number; code: string | undefined } | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly probe: () => Promise<void>,
    private readonly options: { probeIntervalMs: number; probeTimeoutMs: number },
  ) {}

  /** False while the database is known to be unreachable. */
  get available(): boolean {
    return !this.down;
  }

  /** Since when (ms since the epoch) the database has been unreachable, if it is. */
  get downSince(): number | undefined {
    return this.down?.since;
  }

  /** Throws `DatabaseUnavailableError` while the database is known to be down. */
  check(): void {
    if (this.down) {
      throw new DatabaseUnavailableError(
        `The database is unavailable (${this.down.code ?? 'unreachable'} for ${Date.now() - this.down.since} ms)`,
      );
    }
  }

  /** Learns from a failed query or connection attempt. */
  observe(error: unknown): void {
    if (this.down || this.closed || !isConnectFailure(error)) return;
    this.down = { since: Date.now(), code: databaseErrorCode(error) };
    this.schedule();
  }

  /** Stops probing (the connection is closing). */
  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
  }

  private schedule(): void {
    if (this.closed) return;
    this.timer = setTimeout(() => void this.runProbe(), this.options.probeIntervalMs);
    this.timer.unref();
  }

  private async runProbe(): Promise<void> {
    try {
      await withTimeout(this.probe(), this.options.probeTimeoutMs);
      this.down = undefined;
    } catch {
      this.schedule();
    }
  }
}

/** Rejects with `DatabaseUnavailableError` when `work` takes longer than `ms`. */
export function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DatabaseUnavailableError(`The database did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
