/**
 * A limit on failed API-key attempts per client address (SECURITY.md, "Broker API"): a token bucket per address that
 * only failures spend. The broker takes a unit *before* it verifies a key, so once an address has spent its bucket
 * its requests cost neither a hash nor a store look-up, and gives the unit back when the key verified. Successes
 * spend nothing: a bot with a valid key is limited only by its own per-key limit, and never by failures from another
 * address. In memory, per process.
 *
 * Trade-offs: a unit is held while its key is being verified, so more than `burst` *different* keys from one address
 * that all miss the verified-key cache at the same moment (one store read each) may see 429 for that read's length —
 * requests with a key already being verified join that verification ({@link createKeyGate}) and spend nothing. An
 * address that has guessed `burst` keys waits `1 / perSecond` seconds per further attempt, whatever key it sends.
 * Behind a reverse proxy set TRUST_PROXY, or every client shares the proxy's address (and its budget).
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
  /**
   * Reserves one attempt for `address`: 0 when it may try a key now (one unit is spent until {@link refund}), else
   * the seconds until it may (nothing spent). Reserving before verifying bounds concurrent guesses too: a burst of
   * parallel requests cannot all pass before the first failure is counted.
   */
  take(address: string, now?: number): number;
  /** Gives back the unit a verified key reserved: only failures stay spent. */
  refund(address: string, now?: number): void;
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
    take(address, now = Date.now()) {
      const tokens = level(address, now);
      if (tokens < 1) return Math.max(1, Math.ceil((1 - tokens) / rate));
      put(address, tokens - 1, now);
      return 0;
    },
    refund(address, now = Date.now()) {
      if (buckets.has(address)) put(address, Math.min(burst, level(address, now) + 1), now);
    },
  };
}

/** What {@link KeyGate.check} decided. */
export type GateResult<R> = { record: R | undefined; wait?: undefined } | { record?: undefined; wait: number };

/** Verifies keys under a {@link GuessLimiter}. */
export interface KeyGate<R> {
  /**
   * `{ wait }` (seconds) when `address` has no attempt left — the key is then neither hashed nor looked up — else
   * `{ record }`: the verified key, or undefined.
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
      const joined = verifying.get(presented);
      if (joined) return { record: await joined };
      const wait = limiter.take(address);
      if (wait > 0) return { wait };
      const pending = verify(presented);
      verifying.set(presented, pending);
      try {
        const record = await pending;
        if (record !== undefined) limiter.refund(address);
        return { record };
      } finally {
        verifying.delete(presented);
      }
    },
  };
}
