/**
 * A limit on failed API-key attempts per client address (SECURITY.md, "Broker API"): a token bucket per address that
 * only failures spend. Every key is verified first (a SHA-256 and one indexed look-up, the same work for a near miss
 * and a random key), so a valid key is always served — never refused because others sent wrong keys from the same
 * address (a NAT, an IPv6 /64, or a proxy without TRUST_PROXY). A wrong key from an address that spent its bucket gets
 * 429 + Retry-After instead of 401: the guesser learns nothing more and is slowed, at the cost of one look-up per
 * attempt (the verified-key cache keeps valid keys off the store; 256-bit keys make guessing hopeless anyway). In
 * memory, per process.
 */

/** Options of {@link createGuessLimiter}. */
export interface GuessLimitOptions {
  /** Failures allowed in a burst (default 20). */
  burst?: number;
  /** Failures forgiven per second after that (default 0.5: one per 2 s). */
  perSecond?: number;
  /** Most addresses tracked (default 100,000); the one least recently failing is forgotten first. */
  max?: number;
}

/** The failed-attempt budget of client addresses. */
export interface GuessLimiter {
  /** Counts a failed attempt of `address`: 0 while its budget lasts (one unit spent), else the seconds to wait. */
  fail(address: string, now?: number): number;
}

/** Creates a per-address failure bucket (addresses as given: pass `addressKey(ip)` to group an IPv6 /64). */
export function createGuessLimiter(options: GuessLimitOptions = {}): GuessLimiter {
  const burst = options.burst ?? 20;
  const rate = options.perSecond ?? 0.5;
  const max = options.max ?? 100_000;
  // Only addresses with a spent unit are held (a Map keeps insertion order: re-inserting on each spend makes the first
  // entry the least recently spending one); a bucket back at its burst is dropped, since it equals no bucket.
  const buckets = new Map<string, { tokens: number; at: number }>();

  function put(address: string, tokens: number, now: number): void {
    buckets.delete(address);
    if (tokens >= burst) return;
    buckets.set(address, { tokens, at: now });
    if (buckets.size > max) buckets.delete(buckets.keys().next().value as string);
  }

  function level(address: string, now: number): number {
    const b = buckets.get(address);
    return b ? Math.min(burst, b.tokens + (Math.max(0, now - b.at) / 1000) * rate) : burst;
  }

  return {
    fail(address, now = Date.now()) {
      const tokens = level(address, now);
      if (tokens < 1) return Math.max(1, Math.ceil((1 - tokens) / rate));
      put(address, tokens - 1, now);
      return 0;
    },
  };
}

/** What {@link KeyGate.check} decided. */
export type GateResult<R> = { record: R | undefined; wait?: undefined } | { record?: undefined; wait: number };

/** Verifies keys under a {@link GuessLimiter}. */
export interface KeyGate<R> {
  /**
   * `{ record }` with the verified key; for a wrong key, `{ record: undefined }` while `address` has failures left,
   * else `{ wait }` (seconds).
   */
  check(presented: string, address: string): Promise<GateResult<R>>;
}

/**
 * Wraps `verify` with a per-address guess limit. Requests presenting a key whose verification is already in flight
 * join it and spend nothing: a bot's burst of concurrent requests with one key (on a cold verified-key cache) costs
 * one unit, not one per request, so it is never refused for its own concurrency. The join is by the presented
 * string, held only while its verification runs (in memory, never logged), like the vault's own in-flight reads.
 */
export function createKeyGate<R>(
  verify: (presented: string) => Promise<R | undefined>,
  options: GuessLimitOptions = {},
): KeyGate<R> {
  const limiter = createGuessLimiter(options);
  const verifying = new Map<string, Promise<R | undefined>>();
  return {
    async check(presented, address) {
      let pending = verifying.get(presented);
      if (!pending) {
        pending = verify(presented);
        verifying.set(presented, pending);
        pending.finally(() => verifying.delete(presented)).catch(() => {});
      }
      const record = await pending;
      if (record !== undefined) return { record };
      const wait = limiter.fail(address);
      return wait > 0 ? { wait } : { record: undefined };
    },
  };
}
