/**
 * The keep-alive sweep: a refresh token dies after ~90 unused days, so connections whose refresh token has less than
 * `KEEPALIVE_DAYS` left are refreshed, and so are connections whose failing refresh reached its next attempt (the
 * store makes that attempt time their due time): a failing connection recovers on its own. Each sweep claims small
 * batches of due rows (the `keepalive_due_at` index) under this instance's per-connection lease, so instances sharing
 * the store share the sweep; rows backing off are never claimed. Refreshes start at `rate` per second (a pacer on the
 * injected clock) with at most `concurrency` in flight, and the sweep stops between refreshes when its signal aborts.
 */
import type { Logger } from 'pino';
import type { Clock } from '../oauth/types.js';
import type { Refresher } from './refresher.js';
import type { ConnectionRow, Store } from './store/types.js';
import type { SweepResult } from './types.js';

/** Options of {@link sweepKeepAlive}. */
export interface SweepOptions {
  store: Store;
  refresher: Refresher;
  clock: Clock;
  instanceId: string;
  logger: Logger | undefined;
  /** Refreshes started per second by this instance (`KEEPALIVE_RATE`, default 2). */
  rate?: number;
  /** Refreshes in flight at once (`KEEPALIVE_CONCURRENCY`, default 4). */
  concurrency?: number;
  /** Rows claimed per query (default one second of `rate`, at least `concurrency`, at most 100). */
  batchSize?: number;
  /** Stops the sweep between refreshes (rows claimed and not started are released). */
  signal?: AbortSignal;
  /** How the pacer waits (default a timer; tests move their clock instead). Resolves early when `signal` aborts. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/**
 * Start times `rate` per second apart on `clock`: {@link Pacer.reserve} books the next start and says how long to
 * wait for it (0: now). No burst: a sweep that starts late does not catch up.
 */
export class Pacer {
  private next = Number.NEGATIVE_INFINITY;
  private readonly gapMs: number;

  constructor(rate: number) {
    this.gapMs = 1000 / rate;
  }

  /** Books the next start at or after `now`; returns the wait until it in ms. */
  reserve(now: number): number {
    const at = Math.max(now, this.next);
    this.next = at + this.gapMs;
    return at - now;
  }
}

const timerSleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

/** Runs one sweep of this instance; `ran` is false when it was aborted before claiming anything. */
export async function sweepKeepAlive(o: SweepOptions): Promise<SweepResult> {
  const result: SweepResult = { ran: false, refreshed: 0, failed: 0 };
  const rate = o.rate ?? 2;
  const concurrency = Math.max(1, o.concurrency ?? 4);
  const batch = o.batchSize ?? Math.min(100, Math.max(concurrency, Math.ceil(rate)));
  const sleep = o.sleep ?? timerSleep;
  const pacer = new Pacer(rate);
  // A claimed row's lease covers its wait in the batch and its refresh; an expired claim is simply claimable again.
  const claimMs = Math.ceil((batch / rate) * 1000) + 60_000;
  const aborted = () => o.signal?.aborted === true;
  while (!aborted()) {
    const now = o.clock();
    const due = await o.store.claimDueForKeepAlive(now, batch, o.instanceId, now + claimMs);
    result.ran = true;
    if (due.length === 0) break;
    let next = 0;
    const worker = async () => {
      for (let row = due[next++]; row; row = due[next++]) {
        if (!aborted()) {
          const wait = pacer.reserve(o.clock());
          if (wait > 0) await sleep(wait, o.signal);
        }
        if (aborted()) {
          await o.store.releaseLease(row.id, o.instanceId).catch(() => {});
          continue;
        }
        await refreshOne(o, row, result);
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, due.length) }, worker));
  }
  if (result.refreshed || result.failed) o.logger?.info({ ...result }, 'keep-alive sweep done');
  return result;
}

/** Refreshes one claimed row (the refresher's lease and version check keep it to one refresh across instances). */
async function refreshOne(o: SweepOptions, row: ConnectionRow, result: SweepResult): Promise<void> {
  try {
    await o.refresher.ensure(
      row.id,
      // Done when it is no longer due: refreshed meanwhile (due moved on) and not failing.
      (r) => (r.keepaliveDueAt === undefined || r.keepaliveDueAt > o.clock()) && !(r.refreshFailures ?? 0),
      'keepalive',
    );
    result.refreshed++;
  } catch (err) {
    result.failed++;
    // Paths that fail before the refresher leases (a back-off noticed late, a gone integration) leave our claim.
    await o.store.releaseLease(row.id, o.instanceId).catch(() => {});
    o.logger?.warn({ connectionId: row.id, error: (err as { code?: string }).code }, 'keep-alive refresh failed');
  }
}
