/** The public view of a connection's refresh history and back-off state (the connection page, `status --history`). */
import type { ConnectionRow, RefreshHistoryRow } from './store/types.js';

/** One refresh and its outcome. Never a secret. */
export interface RefreshRecord {
  /** Epoch ms. */
  at: number;
  /** Why it ran: `keepalive`, `ondemand`, `forced`, `proxy` or `reconcile`. */
  kind: string;
  /** `success`, `unchanged` (Webex returned the same token), `failing`, `needs_reauth` or `error`. */
  outcome: string;
  /** Webex's HTTP status (0: no answer). */
  status?: number | undefined;
  durationMs: number;
  /** The error's code. */
  error?: string | undefined;
}

/** A history row as the public record. */
export function refreshRecord(r: RefreshHistoryRow): RefreshRecord {
  return { at: r.at, kind: r.kind, outcome: r.outcome, status: r.status, durationMs: r.durationMs, error: r.error };
}

/** The back-off state of a connection whose refreshes fail (5xx/429/network); undefined fields when not failing. */
export interface RefreshFailingState {
  /** True while refreshes keep failing (the connection stays `active`). */
  refreshFailing: boolean;
  /** Failures in a row. */
  refreshFailures: number;
  /** When the failing run began (epoch ms). */
  failingSince?: number | undefined;
  /** No refresh is tried before this (epoch ms). */
  nextAttemptAt?: number | undefined;
  /** The last error's HTTP status (0: no answer). */
  lastErrorStatus?: number | undefined;
}

/** The back-off state of a connection row. */
export function failingState(r: ConnectionRow): RefreshFailingState {
  const failures = r.refreshFailures ?? 0;
  return {
    refreshFailing: failures > 0,
    refreshFailures: failures,
    failingSince: r.refreshFailingSince,
    nextAttemptAt: r.refreshNextAttemptAt,
    lastErrorStatus: r.lastErrorStatus,
  };
}
