/**
 * The vault's background work: the keep-alive sweep (keepalive.ts) every interval, and the reconciliation with Webex
 * (reconcile.ts) every `RECONCILE_INTERVAL`, each one run at a time in this process (the store's leases cover other
 * processes). Timers are unref'd: they never hold the process open.
 */
import type { Config } from '../config.js';
import { type SweepOptions, sweepKeepAlive } from './keepalive.js';
import { type ReconcileDeps, type ReconcileResult, reconcile } from './reconcile.js';
import type { SweepResult, Vault } from './types.js';

/** What {@link createSchedule} is wired with (by vault.ts). */
export interface ScheduleDeps {
  config: Pick<Config, 'reconcileInterval'> & Partial<Pick<Config, 'keepaliveRate' | 'keepaliveConcurrency'>>;
  /** The sweep's store, refresher, clock, instance and tuning. */
  sweep: SweepOptions;
  reconcile: ReconcileDeps;
}

/** The background part of the vault, and a way to wait for the runs in flight. */
export interface Schedule extends Pick<Vault, 'startKeepAlive' | 'stopKeepAlive' | 'sweepOnce' | 'reconcile'> {
  /**
   * Stops the timers, aborts a sweep in flight between two refreshes (so it ends within one refresh), and waits for it
   * and a reconciliation in flight (their failure is not reported again).
   */
  close(): Promise<void>;
}

/** Creates the vault's background schedule (nothing runs until `startKeepAlive`, `sweepOnce` or `reconcile`). */
export function createSchedule(d: ScheduleDeps): Schedule {
  const logger = d.sweep.logger;
  let timer: NodeJS.Timeout | undefined;
  let reconcileTimer: NodeJS.Timeout | undefined;
  let sweeping: Promise<SweepResult> | undefined;
  let reconciling: Promise<ReconcileResult> | undefined;
  const closing = new AbortController();
  const rate = d.config.keepaliveRate;
  const concurrency = d.config.keepaliveConcurrency;
  const sweep = {
    ...(rate !== undefined ? { rate } : {}),
    ...(concurrency !== undefined ? { concurrency } : {}),
    ...d.sweep,
    signal: d.sweep.signal ? AbortSignal.any([d.sweep.signal, closing.signal]) : closing.signal,
  };

  /** One sweep at a time in this process (instances sharing the store each claim their own due rows). */
  function sweepOnce(): Promise<SweepResult> {
    if (sweeping) return Promise.resolve({ ran: false, refreshed: 0, failed: 0 });
    sweeping = sweepKeepAlive(sweep).finally(() => {
      sweeping = undefined;
    });
    return sweeping;
  }

  /** One reconciliation at a time in this process (the store's `reconcile` lease covers other processes). */
  function reconcileOnce(): Promise<ReconcileResult> {
    if (reconciling) return Promise.resolve({ ran: false, checked: 0, revoked: [], unknown: 0 });
    reconciling = reconcile(d.reconcile).finally(() => {
      reconciling = undefined;
    });
    return reconciling;
  }

  function stop(): void {
    if (timer) clearInterval(timer);
    timer = undefined;
    if (reconcileTimer) clearInterval(reconcileTimer);
    reconcileTimer = undefined;
  }

  return {
    startKeepAlive(opts = {}) {
      if (timer) return;
      const run = () => {
        sweepOnce().catch((err) => logger?.warn({ error: (err as Error).name }, 'keep-alive sweep failed'));
      };
      timer = setInterval(run, opts.intervalMs ?? 3_600_000);
      timer.unref();
      run();
      // Reconciliation with Webex, every RECONCILE_INTERVAL (first after one interval: a start probes nothing).
      reconcileTimer = setInterval(
        () => {
          reconcileOnce().catch((err) => logger?.warn({ error: (err as Error).name }, 'reconcile failed'));
        },
        Math.max(60, (d.config as Partial<Config>).reconcileInterval ?? 3600) * 1000,
      );
      reconcileTimer.unref();
    },
    stopKeepAlive: stop,
    sweepOnce,
    reconcile: reconcileOnce,
    async close() {
      stop();
      closing.abort();
      await sweeping?.catch(() => {});
      await reconciling?.catch(() => {});
    },
  };
}
