/**
 * The SQL store's statements and row mappers for the identity kinds (migrations sqlite/006 and postgres/008): the
 * `kind` and `needs_reauth_reason` columns, and the Service Apps' guest tokens. Delegated from SqlStore (sql.ts).
 */

import type { Executor } from './sql.js';
import { num, type Row } from './sql-rows.js';
import type { ConnectionKind, GuestTokenRow, NeedsReauthReason } from './types.js';

/** A `kind` column (NULL or unknown reads as `integration`). */
export const kindOf = (v: unknown): ConnectionKind => (v === 'service_app' || v === 'bot' ? v : 'integration');

/** A `needs_reauth_reason` column. */
export const reasonOf = (v: unknown): NeedsReauthReason | undefined =>
  v === 'refresh_refused' || v === 'revoked_at_webex' || v === 'deauthorized' ? v : undefined;

/** Live guest tokens kept per connection; beyond it the oldest are forgotten (README "Service Apps, bots and guests"). */
export const GUEST_TOKENS_PER_CONNECTION = 10_000;

function guestOf(r: Row): GuestTokenRow {
  return {
    connectionId: String(r.connection_id),
    subject: String(r.subject),
    tokenEnc: String(r.token_enc),
    keyId: String(r.key_id),
    expiresAt: num(r.expires_at),
    createdAt: num(r.created_at),
  };
}

/** Guest tokens over an executor. */
export class GuestTokenStatements {
  constructor(private readonly db: Pick<Executor, 'all' | 'run'>) {}

  /** See {@link Store.getGuestToken}. */
  async get(connectionId: string, subject: string): Promise<GuestTokenRow | undefined> {
    const r = (
      await this.db.all('SELECT * FROM guest_tokens WHERE connection_id = ? AND subject = ?', [connectionId, subject])
    )[0];
    return r ? guestOf(r) : undefined;
  }

  /** See {@link Store.putGuestToken}. */
  async put(row: GuestTokenRow, maxLive = GUEST_TOKENS_PER_CONNECTION): Promise<void> {
    // Expired tokens of this connection are never reused (a new subject would otherwise add a row forever).
    await this.db.run('DELETE FROM guest_tokens WHERE connection_id = ? AND expires_at <= ? AND subject <> ?', [
      row.connectionId,
      row.createdAt,
      row.subject,
    ]);
    await this.db.run(
      `INSERT INTO guest_tokens (connection_id, subject, token_enc, key_id, expires_at, created_at)
       VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (connection_id, subject) DO UPDATE SET token_enc = excluded.token_enc, key_id = excluded.key_id,
         expires_at = excluded.expires_at, created_at = excluded.created_at`,
      [row.connectionId, row.subject, row.tokenEnc, row.keyId, row.expiresAt, row.createdAt],
    );
    // Bounded per connection: the oldest live ones beyond `maxLive` are forgotten (served by the primary key; the
    // count is cheap next to the mint at Webex that precedes every put).
    const count = num(
      (await this.db.all('SELECT COUNT(*) AS n FROM guest_tokens WHERE connection_id = ?', [row.connectionId]))[0]?.n ??
        0,
    );
    const excess = count - Math.max(1, maxLive);
    if (excess > 0) {
      await this.db.run(
        `DELETE FROM guest_tokens WHERE connection_id = ? AND subject IN (
           SELECT subject FROM guest_tokens WHERE connection_id = ? AND subject <> ?
           ORDER BY created_at, subject LIMIT ?)`,
        [row.connectionId, row.connectionId, row.subject, excess],
      );
    }
  }
}
