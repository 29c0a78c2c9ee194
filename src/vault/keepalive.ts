/**
 * The keep-alive sweep: a refresh token dies after ~90 unused days, so connections whose refresh token has less than
 * `KEEPALIVE_DAYS` left are refreshed. Each sweep reads only due rows (the `keepalive_due_at` index), refreshes them
 * with bounded concurrency and a random spread, and runs in one instance at a time (a named lease in the store).
 */
import type { Logger } from 'pino';
import type { Clock } from '../oauth/types.js';
import type { Refresher } from './refresher.js';
import type { Store } from './store/types.js';
import type { SweepResult } from './types.js';

/** Options of {@link sweepKeepAlive}. */
export interface SweepOptions {
  store: Store;
  refresher: Refresher;
  clock: Clock;
  instanceId: string;
  logger: Logger | undefined;
  /** Parallel refreshes (default 4). */
  concurrency?: number;
  /** Each refresh waits a random 0…jitterMs first, so a sweep does not burst (default 2000). */
  jitterMs?: number;
  /** Rows read per query (default 100). */
  batchSize?: number;
}

const SWEEP_LEASE = 'keepalive-sweep';

/** Runs one sweep; `ran` is false when another instance holds the sweep lease. */
export async function sweepKeepAlive(o: SweepOptions): Promise<SweepResult> {
  const now = o.clock();
  const leaseMs = 10 * 60_000;
  if (!(await o.store.acquireNamedLease(SWEEP_LEASE, o.instanceId, now + leaseMs, now))) {
    return { ran: false, refreshed: 0, failed: 0 };
  }
  const result: SweepResult = { ran: true, refreshed: 0, failed: 0 };
  const tried = new Set<string>();
  const concurrency = o.concurrency ?? 4;
  const jitter = o.jitterMs ?? 2000;
  try {
    for (;;) {
      const due = (await o.store.dueForKeepAlive(o.clock(), o.batchSize ?? 100)).filter((r) => !tried.has(r.id));
      if (due.length === 0) break;
      for (const r of due) tried.add(r.id);
      let next = 0;
      const worker = async () => {
        while (next < due.length) {
          const row = due[next++];
          if (!row) break;
          if (jitter > 0) await new Promise((r) => setTimeout(r, Math.random() * jitter));
          try {
            await o.refresher.ensure(
              row.id,
              (r) => r.keepaliveDueAt === undefined || r.keepaliveDueAt > o.clock(),
              'keepalive',
            );
            result.refreshed++;
          } catch (err) {
            result.failed++;
            o.logger?.warn(
              { connectionId: row.id, error: (err as { code?: string }).code },
              'keep-alive refresh failed',
            );
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(concurrency, due.length) }, worker));
      const t = o.clock();
      await o.store.acquireNamedLease(SWEEP_LEASE, o.instanceId, t + leaseMs, t);
    }
  } finally {
    await o.store.releaseNamedLease(SWEEP_LEASE, o.instanceId).catch(() => {});
  }
  if (result.refreshed || result.failed) o.logger?.info({ ...result }, 'keep-alive sweep done');
  return result;
}
