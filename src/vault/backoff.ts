/**
 * The back-off schedule of a failing refresh (5xx/429/network): a connection whose refresh keeps failing is tried
 * again after 30 s, 1 min, 5 min, 15 min, 1 h, then every `REFRESH_RETRY_MAX_INTERVAL` (default 6 h), never sooner
 * than Webex's Retry-After, and at most `REFRESH_MAX_ATTEMPTS_PER_HOUR` times in any hour of the failing run — never
 * thousands of attempts a day for one connection, whoever asks for its token.
 */

const SCHEDULE_MS = [30_000, 60_000, 300_000, 900_000, 3_600_000];
const HOUR_MS = 3_600_000;

/** The knobs of {@link nextAttemptAt}. */
export interface BackoffOptions {
  /** Longest wait between two attempts (ms). */
  maxIntervalMs: number;
  /** Attempts per hour at most, counted from the first failure of the run. */
  maxPerHour: number;
}

/** The back-off knobs of a configuration (defaults when a hand-made configuration lacks them). */
export function backoffOptions(config: {
  refreshRetryMaxInterval?: number | undefined;
  refreshMaxAttemptsPerHour?: number | undefined;
}): BackoffOptions {
  return {
    maxIntervalMs: Math.max(60, config.refreshRetryMaxInterval ?? 21_600) * 1000,
    maxPerHour: Math.max(1, Math.floor(config.refreshMaxAttemptsPerHour ?? 4)),
  };
}

/**
 * When the next attempt may run after the `failures`-th failure in a row (1 = the first) at `now`, in a run that
 * began at `failingSince`; `retryAfterMs` is Webex's Retry-After, if it sent one.
 */
export function nextAttemptAt(
  failures: number,
  now: number,
  failingSince: number,
  o: BackoffOptions,
  retryAfterMs?: number,
): number {
  const scheduled = Math.min(SCHEDULE_MS[failures - 1] ?? o.maxIntervalMs, o.maxIntervalMs);
  const next = now + Math.max(scheduled, retryAfterMs ?? 0);
  // The hourly bound: the (k·maxPerHour + 1)-th attempt of the run waits for the k-th hour since the run began.
  const hourFloor = failingSince + Math.floor(failures / o.maxPerHour) * HOUR_MS;
  return Math.max(next, hourFloor);
}
