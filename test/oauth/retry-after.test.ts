/** The one Retry-After reader and backoff rule (src/oauth/retry-after.ts), with hand-made Responses and properties. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { oauthErrorFromResponse } from '../../src/oauth/http.js';
import { backoffDelay, parseHttpDate, parseRetryAfter, retryAfterOf } from '../../src/oauth/retry-after.js';

const NOW = Date.UTC(2026, 11, 6, 12, 0, 0);
const withRetryAfter = (value: string) => new Response(null, { status: 429, headers: { 'retry-after': value } });

describe('parseRetryAfter', () => {
  it('reads delta-seconds and the three HTTP-date formats as milliseconds from now', () => {
    expect(retryAfterOf(withRetryAfter('120'), NOW)).toBe(120_000);
    expect(retryAfterOf(withRetryAfter(' 0 '), NOW)).toBe(0);
    expect(retryAfterOf(withRetryAfter('Sun, 06 Dec 2026 12:00:30 GMT'), NOW)).toBe(30_000);
    expect(retryAfterOf(withRetryAfter('Sunday, 06-Dec-26 12:01:00 GMT'), NOW)).toBe(60_000);
    expect(retryAfterOf(withRetryAfter('Sun Dec  6 12:00:05 2026'), NOW)).toBe(5_000);
    expect(retryAfterOf(new Response(null, { status: 429 }), NOW)).toBeUndefined();
  });

  it('invalid → undefined; negative or past → 0; absurd → clamped to a year', () => {
    for (const bad of ['', '   ', 'soon', '1.5', '1e3', '0x10', '12 s', 'Sun, 31 Feb 2026 00:00:00 GMT', 'tomorrow 12'])
      expect(parseRetryAfter(bad, NOW), bad).toBeUndefined();
    expect(parseRetryAfter(null, NOW)).toBeUndefined();
    expect(parseRetryAfter('-5', NOW)).toBe(0);
    expect(parseRetryAfter('Sun, 06 Dec 2026 11:00:00 GMT', NOW)).toBe(0);
    expect(parseRetryAfter('9'.repeat(400), NOW)).toBe(366 * 86_400_000);
  });

  it('property: delta-seconds round-trip; any IMF-fixdate of a whole second round-trips', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 365 * 86_400 }), (s) => parseRetryAfter(String(s), NOW) === s * 1000),
    );
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4_102_444_800 }), (s) => {
        const at = s * 1000;
        return parseHttpDate(new Date(at).toUTCString()) === at;
      }),
    );
  });

  it('property: never throws and never returns a negative or non-finite wait', () => {
    fc.assert(
      fc.property(fc.string(), fc.integer({ min: 0, max: 4_102_444_800_000 }), (v, now) => {
        const ms = parseRetryAfter(v, now);
        return ms === undefined || (Number.isFinite(ms) && ms >= 0);
      }),
    );
  });

  it('the OAuth client surfaces it in whole seconds', async () => {
    const e = await oauthErrorFromResponse(withRetryAfter('Sun, 06 Dec 2026 12:00:01 GMT'), NOW - 500);
    expect(e).toMatchObject({ code: 'rate_limited', retryAfter: 2 });
  });
});

describe('backoffDelay', () => {
  it('honours a Retry-After that fits under the cap, and gives up on one beyond it', () => {
    expect(backoffDelay(1, { baseMs: 100, capMs: 30_000, retryAfterMs: 2_000 })).toEqual({ wait: true, ms: 2_000 });
    expect(backoffDelay(1, { baseMs: 100, capMs: 30_000, retryAfterMs: 86_400_000 })).toEqual({
      wait: false,
      retryAfterMs: 86_400_000,
    });
  });

  it('is exponential with full jitter: random 1 gives the ceiling, random 0 gives 0', () => {
    const top = (attempt: number) => backoffDelay(attempt, { baseMs: 250, capMs: 5_000, random: () => 0.999999 });
    expect([1, 2, 3, 4, 5, 6].map((a) => Math.round((top(a) as { ms: number }).ms / 10) * 10)).toEqual([
      250, 500, 1000, 2000, 4000, 5000,
    ]);
    expect(backoffDelay(3, { baseMs: 250, capMs: 5_000, random: () => 0 })).toEqual({ wait: true, ms: 0 });
  });

  it('property: every wait is within [0, cap] and a wait is only refused for a Retry-After beyond the cap', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -5, max: 2_000 }),
        fc.integer({ min: 0, max: 1e9 }),
        fc.integer({ min: 0, max: 1e9 }),
        fc.option(fc.integer({ min: 0, max: 1e10 }), { nil: undefined }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (attempt, baseMs, capMs, retryAfterMs, r) => {
          const d = backoffDelay(attempt, { baseMs, capMs, retryAfterMs, random: () => r });
          if (!d.wait) return retryAfterMs !== undefined && retryAfterMs > capMs && d.retryAfterMs === retryAfterMs;
          return Number.isFinite(d.ms) && d.ms >= 0 && d.ms <= capMs;
        },
      ),
    );
  });
});
