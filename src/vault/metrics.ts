/**
 * The vault's counters for `/metrics`: refreshes by outcome and a refresh-latency histogram. Plain numbers in memory,
 * per process (Prometheus sums instances); connections by status are read from the store at scrape time.
 */

/** Refresh outcomes counted. */
export type RefreshOutcome = 'success' | 'needs_reauth' | 'retryable_error' | 'error' | 'stale';

/** Histogram bucket upper bounds in seconds. */
export const LATENCY_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

/** Most proxy label sets (method, template, status) kept; see {@link VaultMetrics.proxyCalls}. */
export const MAX_PROXY_SERIES = 500;

/** One proxied-call histogram: cumulative counts per {@link LATENCY_BUCKETS} bucket (last: +Inf). */
export interface ProxySeries {
  method: string;
  template: string;
  status: number;
  buckets: number[];
  sum: number;
  count: number;
}

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

  /**
   * Proxied Webex calls (server/routes/api/proxy.ts) by `method template status`: a latency histogram each. At most
   * {@link MAX_PROXY_SERIES} label sets; calls beyond them are counted under the template `other`, so callers sending
   * many distinct paths cannot grow the scrape without end.
   */
  readonly proxyCalls = new Map<string, ProxySeries>();

  /** Counts one proxied call (method, path template with ids as `{id}`, Webex's status, seconds). */
  observeProxyCall(method: string, template: string, status: number, seconds: number): void {
    let key = `${method} ${template} ${status}`;
    if (!this.proxyCalls.has(key) && this.proxyCalls.size >= MAX_PROXY_SERIES) key = `${method} other ${status}`;
    let series = this.proxyCalls.get(key);
    if (!series) {
      series = {
        method,
        template: key.split(' ')[1] as string,
        status,
        buckets: new Array(LATENCY_BUCKETS.length + 1).fill(0),
        sum: 0,
        count: 0,
      };
      this.proxyCalls.set(key, series);
    }
    series.sum += seconds;
    series.count++;
    LATENCY_BUCKETS.forEach((le, i) => {
      if (seconds <= le) series.buckets[i] = (series.buckets[i] ?? 0) + 1;
    });
    series.buckets[LATENCY_BUCKETS.length] = (series.buckets[LATENCY_BUCKETS.length] ?? 0) + 1;
  }

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
