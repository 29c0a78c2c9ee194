/**
 * A size-bounded in-memory map for the vault's hot-path caches (verified API keys, decrypted access tokens): once it
 * holds `max` entries, setting a new one drops the least recently set. It never grows past `max`, whatever the input,
 * so a caller that can make entries cannot exhaust memory through it.
 */

/** A map that holds at most `max` entries, evicting the least recently set. */
export class BoundedCache<K, V> {
  private readonly map = new Map<K, V>();

  constructor(readonly max: number) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError('max must be a positive integer');
  }

  /** The number of entries held (≤ `max`). */
  get size(): number {
    return this.map.size;
  }

  get(key: K): V | undefined {
    return this.map.get(key);
  }

  /** Whether `key` is held (an entry may hold `undefined`). */
  has(key: K): boolean {
    return this.map.has(key);
  }

  /** Sets `key` as the most recently set entry, evicting the oldest while over `max`. */
  set(key: K, value: V): void {
    this.map.delete(key);
    this.map.set(key, value);
    while (this.map.size > this.max) this.map.delete(this.map.keys().next().value as K);
  }

  delete(key: K): boolean {
    return this.map.delete(key);
  }

  /** Drops every entry whose value matches. */
  deleteWhere(match: (value: V, key: K) => boolean): void {
    for (const [k, v] of this.map) if (match(v, k)) this.map.delete(k);
  }

  clear(): void {
    this.map.clear();
  }
}
