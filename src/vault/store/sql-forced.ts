/**
 * The SQL store's statement for limiting forced refreshes per connection (FORCED_REFRESH_MIN_INTERVAL): one atomic
 * claim of `connections.forced_refresh_at`, shared by every process using the store (migrations sqlite/004 and
 * postgres/006). Delegated from SqlStore (sql.ts).
 */

import type { Executor } from './sql.js';
import { optNum } from './sql-rows.js';
import type { ForcedRefreshClaim } from './types.js';

/** The forced-refresh claim over an executor. */
export class ForcedRefreshStatements {
  constructor(private readonly db: Pick<Executor, 'all'>) {}

  /** See {@link Store.claimForcedRefresh}. */
  async claim(id: string, now: number, minIntervalMs: number): Promise<ForcedRefreshClaim | undefined> {
    const interval = Math.max(0, minIntervalMs);
    // A stamp inside (now - interval, now + interval] holds the claim. One further in the future was written by a
    // process whose clock is ahead: it counts as stale, so a wrong clock cannot block forced refreshes for longer than
    // one interval (at most one claim per interval per clock).
    const holds = (at: number | undefined) => at !== undefined && at > now - interval && at <= now + interval;
    const refused = (at: number): ForcedRefreshClaim => ({
      claimed: false,
      retryAfterMs: Math.min(interval, Math.max(1, at + interval - now)),
    });
    // A refusal is read first, without a write: a burst of refused requests then costs one read each and moves no
    // change stamp (PostgreSQL's statement trigger on `connections` notifies even for an UPDATE that changes no row,
    // which would empty every instance's token cache). Stamps only move forward, so a stamp seen holding the claim did.
    const seen = await this.stamp(id);
    if (!seen) return undefined;
    if (holds(seen.at)) return refused(seen.at as number);
    // The claim itself is one statement: the WHERE is re-checked under the row lock (PostgreSQL) / the write lock
    // (SQLite), so of concurrent claims inside one interval, across processes, exactly one changes the row.
    const claimed = await this.db.all(
      `UPDATE connections SET forced_refresh_at = ?
       WHERE id = ? AND (forced_refresh_at IS NULL OR forced_refresh_at <= ? OR forced_refresh_at > ?)
       RETURNING id`,
      [now, id, now - interval, now + interval],
    );
    if (claimed.length > 0) return { claimed: true };
    // Another claim won in between (or the row is gone): this read only says how long to wait.
    const after = await this.stamp(id);
    return after ? refused(after.at ?? now) : undefined;
  }

  /** The connection's forced-refresh stamp; undefined when there is no such connection. */
  private async stamp(id: string): Promise<{ at: number | undefined } | undefined> {
    const row = (await this.db.all('SELECT forced_refresh_at FROM connections WHERE id = ?', [id]))[0];
    return row ? { at: optNum(row.forced_refresh_at) } : undefined;
  }
}
