/**
 * Rows that change rarely but are read on every step of a browser flow (an integration, a member's webhook endpoints),
 * cached behind the store's change stamp of their table ({@link Store.changeStamp}, store/change-scopes.ts), by the
 * rules of the token cache (token-cache.ts):
 *
 * - a value is reused while the stamp is the one taken *before* it was read (a write that lands during the read moves
 *   the stamp, so that entry is stale at once) and it is younger than `maxAgeMs`;
 * - the stamp moves on every write of this process naming the table and, through SQLite's `data_version` or
 *   PostgreSQL's LISTEN/NOTIFY, on every write by another process: such a write is seen by the next request (SQLite)
 *   or once its notification arrives (PostgreSQL); `maxAgeMs` bounds the rest (a listening connection that died
 *   silently);
 * - a store without a stamp (or PostgreSQL while not listening) is read every time, and nothing is held.
 *
 * Values are shared between callers: hand out copies of anything a caller may change.
 */
import { BoundedCache } from './bounded-cache.js';
import type { Store, TableScope } from './store/types.js';
import { monotonicMs } from './token-cache.js';

/** Options of {@link StampedCache}. */
export interface StampedCacheOptions {
  /** Most entries held (default 1,000). */
  max?: number;
  /** Longest an entry is reused, even with an unchanged stamp (default 2 s, as the token cache). */
  maxAgeMs?: number;
}

interface Held<V> {
  stamp: number;
  /** monotonicMs() when read. */
  at: number;
  value: V;
}

/** Values of one table scope by key, each reused while the scope's change stamp stays the one it was read under. */
export class StampedCache<K, V> {
  private readonly held: BoundedCache<K, Held<V>>;
  private readonly maxAgeMs: number;

  constructor(
    private readonly store: Pick<Store, 'changeStamp'>,
    private readonly scope: TableScope,
    options: StampedCacheOptions = {},
  ) {
    this.held = new BoundedCache(options.max ?? 1_000);
    this.maxAgeMs = options.maxAgeMs ?? 2_000;
  }

  /** The value of `key`: the one held when still current, else `read()`'s (held when defined). */
  async get(key: K, read: () => Promise<V | undefined>): Promise<V | undefined> {
    const stamp = this.store.changeStamp?.(this.scope);
    const now = monotonicMs();
    if (stamp === undefined) return read();
    const hit = this.held.get(key);
    if (hit && hit.stamp === stamp && now - hit.at < this.maxAgeMs) return hit.value;
    const value = await read();
    // Kept with the stamp taken before the read (see the module comment).
    if (value === undefined) this.held.delete(key);
    else this.held.set(key, { stamp, at: now, value });
    return value;
  }

  /** Entries held (for tests of the bound). */
  get size(): number {
    return this.held.size;
  }
}
