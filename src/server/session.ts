/**
 * Server-side sessions of the web app, kept in memory: the browser holds only a signed cookie with a random session
 * id. A session holds the authorizations it started (one per `state`, so two tabs can run flows at once), the
 * connections it completed (only this browser may see them), the integration it brought, and its CSRF token.
 */
import { randomBytes } from 'node:crypto';
import type { PendingAuthorization } from '../oauth/types.js';

/** An authorization started in this session and not yet answered. */
export interface SessionPending {
  pending: PendingAuthorization;
  /** The vault integration it was started for. */
  integrationId: string;
}

/** The outcome of a "Try it" call, shown once on the connection page. */
export interface TryResult {
  label: string;
  status: number;
  durationMs: number;
  trackingId: string | undefined;
  body: unknown;
  /** Scopes that would allow the call, when it was refused with 403. */
  requiredScopes?: string[];
}

/** One browser session. */
export interface SessionData {
  id: string;
  /** The CSRF token every state-changing form of this session carries. */
  csrf: string;
  /** Pending authorizations by `state`. */
  pending: Map<string, SessionPending>;
  /** States already answered, with the connection they produced (a reused callback URL never exchanges twice). */
  completed: Map<string, string | null>;
  /** Connection ids this browser completed. */
  connections: Set<string>;
  /** The integration this browser configured with the bring-your-own form (its secret is encrypted in the vault). */
  integrationId: string | undefined;
  /** One-shot results per connection id. */
  flash: Map<string, TryResult>;
  lastSeen: number;
}

/** Limits that keep one browser (or many) from growing memory without bound. */
export const SESSION_LIMITS = {
  /** Sessions kept at most; the least recently seen is dropped first. */
  maxSessions: 10_000,
  /** Pending authorizations per session; the oldest is dropped first. */
  maxPending: 20,
  /** How long a pending authorization lives (Webex codes live 5 minutes; the consent page may take a while). */
  pendingTtlMs: 15 * 60_000,
  /** Idle session lifetime. */
  idleTtlMs: 12 * 60 * 60_000,
  maxCompleted: 100,
} as const;

/** The in-memory session store. */
export class SessionStore {
  readonly #sessions = new Map<string, SessionData>();
  constructor(private readonly clock: () => number = Date.now) {}

  /** The session with this id, if alive (and marks it as recently seen). */
  get(id: string | undefined): SessionData | undefined {
    if (!id) return undefined;
    const s = this.#sessions.get(id);
    if (!s) return undefined;
    const now = this.clock();
    if (now - s.lastSeen > SESSION_LIMITS.idleTtlMs) {
      this.#sessions.delete(id);
      return undefined;
    }
    s.lastSeen = now;
    // Re-insert so that Map order is least-recently-seen first.
    this.#sessions.delete(id);
    this.#sessions.set(id, s);
    this.#expirePending(s, now);
    return s;
  }

  /** A new, empty session with a random id and CSRF token. */
  create(): SessionData {
    const s: SessionData = {
      id: randomBytes(32).toString('base64url'),
      csrf: randomBytes(32).toString('base64url'),
      pending: new Map(),
      completed: new Map(),
      connections: new Set(),
      integrationId: undefined,
      flash: new Map(),
      lastSeen: this.clock(),
    };
    this.#sessions.set(s.id, s);
    while (this.#sessions.size > SESSION_LIMITS.maxSessions) {
      const oldest = this.#sessions.keys().next().value;
      if (oldest === undefined) break;
      this.#sessions.delete(oldest);
    }
    return s;
  }

  /** Remembers a pending authorization under its state. */
  addPending(s: SessionData, entry: SessionPending): void {
    s.pending.set(entry.pending.state, entry);
    while (s.pending.size > SESSION_LIMITS.maxPending) {
      const oldest = s.pending.keys().next().value;
      if (oldest === undefined) break;
      s.pending.delete(oldest);
    }
  }

  /** Takes (and removes) the pending authorization of `state`: each one is answered at most once. */
  takePending(s: SessionData, state: string): SessionPending | undefined {
    const entry = s.pending.get(state);
    if (entry) s.pending.delete(state);
    return entry;
  }

  /** Records that `state` was answered, producing `connectionId` (or nothing). */
  markCompleted(s: SessionData, state: string, connectionId: string | null): void {
    s.completed.set(state, connectionId);
    while (s.completed.size > SESSION_LIMITS.maxCompleted) {
      const oldest = s.completed.keys().next().value;
      if (oldest === undefined) break;
      s.completed.delete(oldest);
    }
  }

  /** Number of live sessions. */
  get size(): number {
    return this.#sessions.size;
  }

  #expirePending(s: SessionData, now: number): void {
    for (const [state, entry] of s.pending) {
      if (now - entry.pending.createdAt > SESSION_LIMITS.pendingTtlMs) s.pending.delete(state);
    }
  }
}
