/**
 * A per-API-key token bucket, in memory (per process). Enough to keep one misbehaving bot from hammering the vault
 * and Webex; a fleet behind a load balancer would add a shared limiter in front.
 */
import { API_KEY_RATE_DEFAULTS } from '../../../config.js';

/** Options of {@link createRateLimiter}. */
export interface RateLimitOptions {
  /** Requests allowed in a burst (default 120, `API_KEY_RATE_BURST`). */
  burst?: number;
  /** Sustained requests per second (default 20, `API_KEY_RATE_LIMIT`); 0 turns the limit off. */
  perSecond?: number;
}

/** Takes one request from `key`'s bucket; returns 0 when allowed, else the seconds until one is available. */
export type RateLimiter = (key: string, now?: number) => number;

/** Creates a per-key token bucket (or, with `perSecond: 0`, a limiter that allows everything). */
export function createRateLimiter(options: RateLimitOptions = {}): RateLimiter {
  const burst = options.burst ?? API_KEY_RATE_DEFAULTS.burst;
  const rate = options.perSecond ?? API_KEY_RATE_DEFAULTS.perSecond;
  if (rate === 0) return () => 0;
  const buckets = new Map<string, { tokens: number; at: number }>();
  return (key, now = Date.now()) => {
    const b = buckets.get(key) ?? { tokens: burst, at: now };
    b.tokens = Math.min(burst, b.tokens + ((now - b.at) / 1000) * rate);
    b.at = now;
    buckets.set(key, b);
    if (buckets.size > 10_000) buckets.delete(buckets.keys().next().value as string);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - b.tokens) / rate));
  };
}
