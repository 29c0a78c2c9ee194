/**
 * The vault's counters for `/metrics`: refreshes by outcome and a refresh-latency histogram. Plain numbers in memory,
 * per process (Prometheus sums instances); connections by status are read from the store at scrape time.
 */

/** Refresh outcomes counted. */
export type RefreshOutcome = 'success' | 'needs_reauth' | 'retryable_error' | 'error' | 'stale';

/** Histogram bucket upper bounds in seconds. */
export const LATENCY_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

/** The vault's metrics. */
export class VaultMetrics {
  readonly refreshes: Record<RefreshOutcome, number> = {
    success: 0,
    needs_reauth: 0,
    retryable_error: 0,
    error: 0,
    stale: 0,
  };
  /** Cumulative counts per bucket (last entry: +Inf). */
  readonly latencyBuckets: number[] = new Array(LATENCY_BUCKETS.length + 1).fill(0);
  latencySum = 0;
  latencyCount = 0;
  tokenRequests = 0;
  keepAliveRefreshes = 0;

  /** Counts one refresh attempt's outcome and duration. */
  observeRefresh(outcome: RefreshOutcome, seconds: number): void {
    this.refreshes[outcome]++;
    this.latencySum += seconds;
    this.latencyCount++;
    LATENCY_BUCKETS.forEach((le, i) => {
      if (seconds <= le) this.latencyBuckets[i] = (this.latencyBuckets[i] ?? 0) + 1;
    });
    this.latencyBuckets[LATENCY_BUCKETS.length] = (this.latencyBuckets[LATENCY_BUCKETS.length] ?? 0) + 1;
  }
}
