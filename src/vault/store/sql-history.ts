/**
 * The SQL store's statements for the refresh lifecycle (migrations sqlite/008 and postgres/010): the refresh history
 * (the newest {@link HISTORY_KEEP} per connection), the access tokens this broker minted per person (the live-token
 * cap), Webex's own cached count, and the back-off state of a failing refresh. Delegated from SqlStore (sql.ts).
 */

import { BoundedCache } from '../bounded-cache.js';
import type { Executor } from './sql.js';
import { nil, num, optNum, optStr, type Row } from './sql-rows.js';
import type { RefreshFailure, RefreshHistoryRow, TokenMintRow } from './types.js';

/** Refresh-history rows kept per connection. */
export const HISTORY_KEEP = 200;

/**
 * How often a person's expired mints are deleted, at most (per store instance). Only a bound on the table: every count
 * reads live mints alone (`access_expires_at > now`), so an expired row left a while longer changes no answer, and it
 * can never meet a new mint on the (connection, expiry) key (a new token expires after its mint).
 */
export const MINT_PRUNE_INTERVAL_MS = 3_600_000;

function historyOf(r: Row): RefreshHistoryRow {
  return {
    connectionId: String(r.connection_id),
    at: num(r.at),
    kind: String(r.kind),
    outcome: String(r.outcome),
    status: optNum(r.status),
    durationMs: num(r.duration_ms),
    error: optStr(r.error),
  };
}

/** The refresh lifecycle over an executor (see the `Store` methods of the same names). */
export class LifecycleStatements {
  /** When each person's expired mints were last deleted (`mintedAt` of that mint). */
  private readonly pruned = new BoundedCache<string, number>(10_000);

  constructor(private readonly db: Pick<Executor, 'all' | 'run'>) {}

  async insertRefreshHistory(row: RefreshHistoryRow, keep = HISTORY_KEEP): Promise<void> {
    await this.db.run(
      `INSERT INTO refresh_history (connection_id, at, kind, outcome, status, duration_ms, error)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
      [row.connectionId, row.at, row.kind, row.outcome, nil(row.status), Math.round(row.durationMs), nil(row.error)],
    );
    // Bounded per connection: everything older than the `keep`-th newest row goes (served by the (connection_id, id)
    // index; the sub-select finds nothing, and nothing is deleted, while fewer rows exist).
    await this.db.run(
      `DELETE FROM refresh_history WHERE connection_id = ? AND id <= (
         SELECT id FROM refresh_history WHERE connection_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?)`,
      [row.connectionId, row.connectionId, Math.max(1, keep)],
    );
  }

  async listRefreshHistory(connectionId: string, limit: number): Promise<RefreshHistoryRow[]> {
    const rows = await this.db.all('SELECT * FROM refresh_history WHERE connection_id = ? ORDER BY id DESC LIMIT ?', [
      connectionId,
      Math.max(1, Math.min(limit, HISTORY_KEEP)),
    ]);
    return rows.map(historyOf);
  }

  async recordTokenMint(row: TokenMintRow): Promise<boolean> {
    // Keyed by (connection, expiry): an unchanged token from a refresh (same token, same expiry) is not a new one.
    const inserted = await this.db.all(
      `INSERT INTO token_mints (connection_id, person_id, access_expires_at, minted_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (connection_id, access_expires_at) DO NOTHING RETURNING connection_id`,
      [row.connectionId, row.personId, row.accessExpiresAt, row.mintedAt],
    );
    // Expired mints of this person count for nothing: dropped as new ones come, at most once per interval (a browser
    // flow or a refresh mints for the same person again and again; the delete found nothing to drop each time).
    const last = this.pruned.get(row.personId);
    if (last === undefined || row.mintedAt - last >= MINT_PRUNE_INTERVAL_MS || row.mintedAt < last) {
      await this.db.run('DELETE FROM token_mints WHERE person_id = ? AND access_expires_at <= ?', [
        row.personId,
        row.mintedAt,
      ]);
      this.pruned.set(row.personId, row.mintedAt);
    }
    return inserted.length > 0;
  }

  async liveTokenMints(
    personId: string,
    now: number,
    atMost = Number.MAX_SAFE_INTEGER,
  ): Promise<{ count: number; oldestExpiresAt: number | undefined }> {
    // The count stops at `atMost` (a page shows it for every person's connection; a bounded count reads a bounded part
    // of the (person_id, access_expires_at) index), the oldest is the index's first live entry. With no count to take
    // (a person known to be above the cap, cap.ts), only that entry is read: the statement with the count's co-routine
    // cost several times as much even when it counted nothing.
    if (atMost <= 0) {
      const oldest = await this.db.all(
        `SELECT access_expires_at FROM token_mints WHERE person_id = ? AND access_expires_at > ?
         ORDER BY access_expires_at LIMIT 1`,
        [personId, now],
      );
      return { count: 0, oldestExpiresAt: optNum(oldest[0]?.access_expires_at) };
    }
    const r = (
      await this.db.all(
        `SELECT (SELECT COUNT(*) FROM (SELECT 1 FROM token_mints WHERE person_id = ? AND access_expires_at > ? LIMIT ?) AS live) AS n,
                (SELECT MIN(access_expires_at) FROM token_mints WHERE person_id = ? AND access_expires_at > ?) AS oldest`,
        [personId, now, atMost, personId, now],
      )
    )[0];
    return { count: num(r?.n ?? 0), oldestExpiresAt: optNum(r?.oldest) };
  }

  /**
   * Deletes a (deleted) connection's refresh history. Its minted-token rows stay until they expire (each new mint of
   * the person prunes expired ones): the tokens are still live at Webex and still count toward the person's cap, so
   * deleting and re-adding a connection never resets the count.
   */
  async deleteFor(connectionId: string): Promise<void> {
    await this.db.run('DELETE FROM refresh_history WHERE connection_id = ?', [connectionId]);
  }

  async setWebexTokenCount(personId: string, accessTokens: number, at: number): Promise<void> {
    await this.db.run(
      `INSERT INTO webex_token_counts (person_id, access_tokens, checked_at) VALUES (?, ?, ?)
       ON CONFLICT (person_id) DO UPDATE SET access_tokens = excluded.access_tokens, checked_at = excluded.checked_at`,
      [personId, accessTokens, at],
    );
  }

  async getWebexTokenCount(personId: string): Promise<{ accessTokens: number; checkedAt: number } | undefined> {
    const r = (await this.db.all('SELECT * FROM webex_token_counts WHERE person_id = ?', [personId]))[0];
    return r ? { accessTokens: num(r.access_tokens), checkedAt: num(r.checked_at) } : undefined;
  }

  async recordRefreshFailure(
    id: string,
    holder: string,
    f: RefreshFailure,
  ): Promise<{ failures: number; failingSince: number } | undefined> {
    const r = (
      await this.db.all(
        `UPDATE connections SET last_error = ?, last_error_status = ?, updated_at = ?,
           refresh_failures = refresh_failures + 1,
           refresh_failing_since = COALESCE(refresh_failing_since, ?), refresh_next_attempt_at = ?,
           keepalive_due_at = CASE WHEN keepalive_due_at IS NULL THEN NULL ELSE CAST(? AS BIGINT) END,
           lease_holder = CASE WHEN lease_holder = ? THEN NULL ELSE lease_holder END,
           lease_expires_at = CASE WHEN lease_holder = ? THEN NULL ELSE lease_expires_at END
         WHERE id = ? RETURNING refresh_failures, refresh_failing_since`,
        [f.lastError, nil(f.status), f.now, f.now, f.nextAttemptAt, f.nextAttemptAt, holder, holder, id],
      )
    )[0];
    return r ? { failures: num(r.refresh_failures), failingSince: num(r.refresh_failing_since) } : undefined;
  }
}
