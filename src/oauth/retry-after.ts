/**
 * The one reading of `Retry-After` and the one backoff rule of every outbound retry: the REST client, the OAuth
 * client, the refresher and webhooks. oauth/ is the bottom layer, so webex/ and vault/ import it from here.
 *
 * Every wait is capped: a `Retry-After` beyond the caller's cap is not waited out (a page request or a refresh must
 * not hang for a day); the caller fails at once and surfaces the retry-after to its own caller.
 */

/** The longest `Retry-After` kept (one year): larger values are clamped, so arithmetic stays finite. */
const MAX_RETRY_AFTER_MS = 366 * 86_400_000;

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const TIME = '(\\d{2}):(\\d{2}):(\\d{2})';
const MON = '(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)';
/** IMF-fixdate: `Sun, 06 Nov 1994 08:49:37 GMT` (RFC 9110 §5.6.7). */
const IMF = new RegExp(`^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\\d{2}) ${MON} (\\d{4}) ${TIME} GMT$`, 'i');
/** Obsolete RFC 850: `Sunday, 06-Nov-94 08:49:37 GMT`. */
const RFC850 = new RegExp(
  `^(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), (\\d{2})-${MON}-(\\d{2}) ${TIME} GMT$`,
  'i',
);
/** Obsolete asctime: `Sun Nov  6 08:49:37 1994`. */
const ASCTIME = new RegExp(`^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) ${MON} ( \\d|\\d{2}) ${TIME} (\\d{4})$`, 'i');

function utc(year: number, month: string, day: number, h: number, m: number, s: number): number | undefined {
  const mon = MONTHS.indexOf(month.toLowerCase());
  if (day < 1 || day > 31 || h > 23 || m > 59 || s > 60) return undefined;
  const at = Date.UTC(year, mon, day, h, m, Math.min(s, 59));
  // 31 Feb and the like roll over into the next month: not a date.
  return new Date(at).getUTCDate() === day ? at : undefined;
}

/** An HTTP-date in any of the three formats recipients must accept, as epoch milliseconds; else undefined. */
export function parseHttpDate(text: string): number | undefined {
  let m = IMF.exec(text);
  if (m) return utc(Number(m[3]), m[2] as string, Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6]));
  m = RFC850.exec(text);
  if (m) {
    // Two-digit years: RFC 9110 says a year more than 50 years in the future is the past century's.
    const yy = Number(m[3]);
    const nowYear = new Date().getUTCFullYear();
    let year = Math.floor(nowYear / 100) * 100 + yy;
    if (year > nowYear + 50) year -= 100;
    return utc(year, m[2] as string, Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6]));
  }
  m = ASCTIME.exec(text);
  if (m) return utc(Number(m[6]), m[1] as string, Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5]));
  return undefined;
}

/**
 * Reads a `Retry-After` value (RFC 9110 §10.2.3) as milliseconds to wait from `now`: delta-seconds (`120`) or an
 * HTTP-date. Missing, blank or unreadable → `undefined`; a negative delta or a date in the past → 0; anything beyond
 * a year is clamped to a year.
 */
export function parseRetryAfter(header: string | null | undefined, now: number = Date.now()): number | undefined {
  if (header === null || header === undefined) return undefined;
  const v = header.trim();
  if (v === '') return undefined;
  if (/^-?\d+$/.test(v)) {
    const seconds = Number(v);
    return seconds <= 0 ? 0 : Math.min(seconds * 1000, MAX_RETRY_AFTER_MS);
  }
  const at = parseHttpDate(v);
  if (at === undefined) return undefined;
  return Math.min(Math.max(0, at - now), MAX_RETRY_AFTER_MS);
}

/** The `Retry-After` of a response in milliseconds (see {@link parseRetryAfter}). */
export function retryAfterOf(response: { headers: Headers }, now: number = Date.now()): number | undefined {
  return parseRetryAfter(response.headers.get('retry-after'), now);
}

/** Milliseconds as whole seconds for an error's `retryAfter` or a `Retry-After` header (rounded up; 0 stays 0). */
export function toSeconds(ms: number): number {
  return Math.ceil(ms / 1000);
}

/** Knobs of {@link backoffDelay}. */
export interface BackoffOptions {
  /** The first attempt's ceiling in ms; doubled per attempt. */
  baseMs: number;
  /** The longest wait in ms: no computed wait exceeds it, and a longer `Retry-After` is not waited out. */
  capMs: number;
  /** What the server asked for (from {@link parseRetryAfter}), if anything. */
  retryAfterMs?: number | undefined;
  /** A random number in [0, 1) (injectable for tests; default `Math.random`). */
  random?: () => number;
}

/** What to do before the next attempt: wait `ms`, or give up now because the server asked for longer than the cap. */
export type Backoff = { wait: true; ms: number } | { wait: false; retryAfterMs: number };

/**
 * The wait before retry number `attempt` (1 = the first retry): exponential with full jitter — a uniform draw in
 * [0, min(cap, base·2^(attempt−1))] — unless the server sent `Retry-After`, which is honoured as is when it fits under
 * the cap. A `Retry-After` beyond the cap means: do not wait, fail now and tell the caller when to come back.
 */
export function backoffDelay(attempt: number, options: BackoffOptions): Backoff {
  const { baseMs, capMs, retryAfterMs } = options;
  const cap = Math.max(0, capMs);
  if (retryAfterMs !== undefined) {
    return retryAfterMs <= cap ? { wait: true, ms: Math.max(0, retryAfterMs) } : { wait: false, retryAfterMs };
  }
  const n = Math.max(1, Math.floor(attempt));
  // 2^(n−1) overflows to Infinity for absurd attempts; min() keeps the ceiling at the cap.
  const ceiling = Math.min(cap, Math.max(0, baseMs) * 2 ** Math.min(n - 1, 1023));
  const r = (options.random ?? Math.random)();
  const unit = Number.isFinite(r) ? Math.min(Math.max(r, 0), 1) : 0;
  return { wait: true, ms: Math.floor(unit * ceiling) };
}
