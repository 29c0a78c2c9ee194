/**
 * The hot-path cache of `getFreshToken` (the broker's `GET /api/v1/connections/:id/token`): connection rows, and the
 * decrypted access token of each.
 *
 * - A row is reused while the store's change stamp ({@link Store.changeStamp}) is the one taken before it was read
 *   and it is younger than `maxAgeMs`. The stamp moves on any write to the store by this process and, through
 *   SQLite's `data_version` or PostgreSQL's LISTEN/NOTIFY, on any write by another process — so a refresh, a logout,
 *   a `needs_reauth` or a delete elsewhere is seen at the next request (SQLite) or once its notification arrives,
 *   normally within milliseconds (PostgreSQL). `maxAgeMs` bounds the rest: a listening connection that died silently.
 *   A store without a stamp (or PostgreSQL while not listening) is read on every request.
 * - A decrypted access token is reused while the row's ciphertext is the very one it was decrypted from: the same
 *   ciphertext always opens to the same token, so this never serves a token the row no longer holds. A refresh or a
 *   key rotation writes a new ciphertext and the next request decrypts again. The answer built from a row (a
 *   {@link FreshToken}) is kept with it, for as long as that very row object is the one served.
 */
import { BoundedCache } from './bounded-cache.js';
import type { KeyRing } from './crypto/keyring.js';
import { freshTokenOf } from './fresh-token.js';
import { accessSlot } from './slots.js';
import type { ConnectionRow, Store } from './store/types.js';
import type { FreshToken } from './types.js';

/** Options of {@link TokenCache}. */
export interface TokenCacheOptions {
  /** Most connections held (default 10,000). */
  max?: number;
  /** Longest a row is reused, even with an unchanged stamp (default 2 s; 0 turns the row cache off). */
  maxAgeMs?: number;
}

/**
 * Monotonic milliseconds. Not `performance.now()`: the global `performance` loads perf_hooks on its first use, ~6 M
 * instructions (1 %) of every `webex-auth token`, which looks a row up once and never reuses it.
 */
export const monotonicMs = () => Number(process.hrtime.bigint()) / 1e6;

interface CachedRow {
  stamp: number;
  /** monotonicMs() when read. */
  at: number;
  row: ConnectionRow;
}

interface CachedToken {
  /** The ciphertext `token` was decrypted from. */
  enc: string;
  token: string;
  /** The row the answers below were built from, and its answers with `minValidityMet` true and false. */
  row?: ConnectionRow;
  met?: FreshToken;
  unmet?: FreshToken;
}

/** Cached connection rows and decrypted access tokens (see the module comment for when each is reused). */
export class TokenCache {
  private readonly rows: BoundedCache<string, CachedRow>;
  private readonly tokens: BoundedCache<string, CachedToken>;
  private readonly maxAgeMs: number;
  /** Store reads in flight, by connection id, with the stamp taken before each began. */
  private readonly reading = new Map<string, { stamp: number | undefined; row: Promise<ConnectionRow | undefined> }>();

  constructor(
    private readonly store: Store,
    private readonly ring: KeyRing,
    options: TokenCacheOptions = {},
  ) {
    const max = options.max ?? 10_000;
    this.rows = new BoundedCache(max);
    this.tokens = new BoundedCache(max);
    this.maxAgeMs = options.maxAgeMs ?? 2_000;
  }

  /**
   * The connection row of `id` (treat it as read-only: it may be shared with later calls); `await` the answer. A row
   * held in the cache is answered as is, not in a promise: this runs on every token request, and an async function
   * would make a promise per call for an answer that needs no wait.
   */
  row(id: string): ConnectionRow | undefined | Promise<ConnectionRow | undefined> {
    const stamp = this.maxAgeMs > 0 ? this.store.changeStamp?.('connections') : undefined;
    const now = monotonicMs();
    const held = this.heldRow(id, stamp, now);
    if (held) return held;
    // Concurrent requests for one connection share one read, but only a read that began under the current stamp: one
    // that began before a write may return the row as it was before it.
    const flight = this.reading.get(id);
    if (flight && stamp !== undefined && flight.stamp === stamp) return flight.row;
    return this.readShared(id, stamp, now);
  }

  /**
   * The row of `id` when the cache holds it fresh (the same checks as {@link row}), else undefined — never a store
   * read: for a caller that answers at once when it can and takes the async path otherwise.
   */
  cachedRow(id: string): ConnectionRow | undefined {
    return this.maxAgeMs > 0 ? this.heldRow(id, this.store.changeStamp?.('connections'), monotonicMs()) : undefined;
  }

  private heldRow(id: string, stamp: number | undefined, now: number): ConnectionRow | undefined {
    if (stamp === undefined) return undefined;
    const hit = this.rows.get(id);
    return hit && hit.stamp === stamp && now - hit.at < this.maxAgeMs ? hit.row : undefined;
  }

  /** Reads `id` from the store, as the one read in flight for it under `stamp`. */
  private async readShared(id: string, stamp: number | undefined, now: number): Promise<ConnectionRow | undefined> {
    const row = this.read(id, stamp, now);
    this.reading.set(id, { stamp, row });
    try {
      return await row;
    } finally {
      if (this.reading.get(id)?.row === row) this.reading.delete(id);
    }
  }

  private async read(id: string, stamp: number | undefined, now: number): Promise<ConnectionRow | undefined> {
    const row = await this.store.getConnection(id);
    if (!row) this.forget(id);
    // Kept with the stamp taken *before* the read: a write that landed during the read moved the stamp, so this
    // entry is already stale and the next request reads again.
    else if (stamp !== undefined) this.rows.set(id, { stamp, at: now, row });
    return row;
  }

  /** The access token of `row` in clear, decrypting only when its ciphertext changed since last time. */
  accessToken(row: ConnectionRow): string {
    return this.decrypted(row).token;
  }

  /**
   * The {@link FreshToken} `row` serves, frozen and shared: built once per row object (a row read again, refreshed or
   * rotated is another object) and `minValidityMet`, not once per request. Callers must not change it (it is frozen).
   */
  served(row: ConnectionRow, minValidityMet: boolean): FreshToken {
    const entry = this.decrypted(row);
    if (entry.row !== row) {
      entry.row = row;
      entry.met = entry.unmet = undefined;
    }
    const held = minValidityMet ? entry.met : entry.unmet;
    if (held) return held;
    const t = freshTokenOf(row, entry.token, minValidityMet);
    Object.freeze(t.scopes);
    Object.freeze(t.person);
    Object.freeze(t);
    if (minValidityMet) entry.met = t;
    else entry.unmet = t;
    return t;
  }

  private decrypted(row: ConnectionRow): CachedToken {
    const hit = this.tokens.get(row.id);
    if (hit && hit.enc === row.accessTokenEnc) return hit;
    const entry: CachedToken = {
      enc: row.accessTokenEnc,
      token: this.ring.decrypt(row.accessTokenEnc, accessSlot(row.id)),
    };
    this.tokens.set(row.id, entry);
    return entry;
  }

  /**
   * Holds `token` as the clear text of `enc`, the ciphertext this process just sealed it into for connection `id` (a
   * new grant): the next reader of that row (the connection page, the first token request) skips the decryption.
   */
  holdSealed(id: string, enc: string, token: string): void {
    this.tokens.set(id, { enc, token });
  }

  /** Drops what is held for `id` (its row was deleted, or it must not be served from memory any more). */
  forget(id: string): void {
    this.rows.delete(id);
    this.tokens.delete(id);
  }

  /** Drops every decrypted token (the key ring was reloaded: the next request decrypts with the new ring). */
  dropDecrypted(): void {
    this.tokens.clear();
  }

  /** Entries held: rows and decrypted tokens (for tests of the bound). */
  get size(): { rows: number; tokens: number } {
    return { rows: this.rows.size, tokens: this.tokens.size };
  }
}
