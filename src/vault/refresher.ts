/**
 * The refresher: single-flight refresh of a connection's access token across every process sharing the store.
 *
 * - In one process, callers waiting for the same connection share one promise.
 * - Across processes, the store's lease (holder + expiry) admits one refresher; the others poll the row until its
 *   `version` changes (the refresh landed) or the lease expires (the holder died), then look again.
 * - The token write is a compare-and-set on `version` by the lease holder (fencing): a holder whose lease expired
 *   and was taken over cannot overwrite the newer tokens.
 * - Whatever refresh token Webex returns is written in the same statement as the access token.
 * - `invalid_grant`/`invalid_request` (400) → `needs_reauth` + webhook; 429/5xx/network → retried with backoff that
 *   honours `Retry-After`, then `upstream_unavailable`; the connection stays `active`.
 */
import type { Logger } from 'pino';
import { isWebexAuthError } from '../errors.js';
import type { WebexOAuthError } from '../oauth/errors.js';
import type { Clock, FetchLike, Integration, TokenSet } from '../oauth/types.js';
import { type BackoffOptions, nextAttemptAt } from './backoff.js';
import type { KeyRing } from './crypto/keyring.js';
import type { VaultMetrics } from './metrics.js';
import { accessSlot, refreshSlot } from './slots.js';
import type { ConnectionRow, Store, TokenWrite } from './store/types.js';
import { VaultError } from './types.js';
import type { WebhookSender } from './webhooks.js';

const DAY_MS = 86_400_000;

/** What the refresh reads of a failed refresh: a WebexOAuthError's code, status and verdicts. */
type OAuthFailure = Pick<WebexOAuthError, 'code' | 'status' | 'retryAfter' | 'needsReauth' | 'retryable'>;

/** A refresh that got no answer from Webex (the time limit ran out, or anything but the OAuth client's error). */
const NO_ANSWER: OAuthFailure = {
  code: 'network_error',
  status: 0,
  retryAfter: undefined,
  needsReauth: false,
  retryable: true,
};

/** Dependencies and knobs of the {@link Refresher}. */
export interface RefresherOptions {
  store: Store;
  ring: KeyRing;
  clock: Clock;
  fetch: FetchLike | undefined;
  logger: Logger | undefined;
  webhooks: WebhookSender;
  metrics: VaultMetrics;
  instanceId: string;
  integration(id: string): Promise<Integration | undefined>;
  keepaliveDays: number;
  /** How long a refresh lease lasts; a dead holder's lease is taken over after it (default 15 s). */
  leaseMs?: number;
  /** How often a waiter in another process polls the row (default 50 ms). */
  pollMs?: number;
  /** Refresh attempts on 429/5xx/network before giving up (default 3). */
  attempts?: number;
  /** First retry delay's ceiling without Retry-After (default 250 ms, doubled per attempt, fully jittered). */
  baseDelayMs?: number;
  /** Longest Retry-After waited for inside one call (default 5 s); longer ones fail at once with that hint. */
  maxRetryWaitMs?: number;
  /**
   * Called under our lease when Webex refuses a refresh token, before `needs_reauth`: true when it wrote new tokens
   * (a Service App fetched again, vault/service-apps.ts), and the refresh then starts over with them.
   */
  recover?(leased: ConnectionRow): Promise<boolean>;
  /** The back-off schedule of a failing refresh (backoff.ts; default: 6 h at most, 4 attempts per hour). */
  backoff?: BackoffOptions;
}

/** Why a refresh ran (the refresh history's `kind`). */
export type RefreshKind = 'keepalive' | 'ondemand' | 'forced' | 'proxy' | 'reconcile';

/** Restart the refresh loop: our lease or version went stale. */
class Stale extends Error {}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** When a connection with this refresh-token expiry is due for keep-alive: `keepaliveDays` before, jittered ≤ 6 h. */
export function keepaliveDue(refreshExpiresAt: number, keepaliveDays: number, now: number): number {
  const due = refreshExpiresAt - keepaliveDays * DAY_MS - Math.floor(Math.random() * 6 * 3_600_000);
  // Never due again within a day of now: guards against a server that stops renewing the refresh-token lifetime.
  return Math.max(due, now + DAY_MS);
}

/** Runs refreshes under the store lease. */
export class Refresher {
  private readonly flights = new Map<string, Promise<ConnectionRow>>();
  private readonly leaseMs: number;
  private readonly pollMs: number;

  constructor(private readonly o: RefresherOptions) {
    this.leaseMs = o.leaseMs ?? 15_000;
    this.pollMs = o.pollMs ?? 50;
  }

  /** The encrypted token write for a fresh token set. */
  tokenWrite(id: string, tokens: TokenSet, now: number): TokenWrite {
    return {
      accessTokenEnc: this.o.ring.encrypt(tokens.accessToken, accessSlot(id)),
      refreshTokenEnc: this.o.ring.encrypt(tokens.refreshToken, refreshSlot(id)),
      keyId: this.o.ring.activeKeyId,
      accessExpiresAt: tokens.expiresAt,
      refreshExpiresAt: tokens.refreshExpiresAt,
      keepaliveDueAt: keepaliveDue(tokens.refreshExpiresAt, this.o.keepaliveDays, now),
      scopes: tokens.scopes,
      lastRefreshAt: now,
      updatedAt: now,
    };
  }

  /**
   * Returns the connection once `satisfied(row)` holds, refreshing under the lease when it does not. Callers in this
   * process with the same connection share one flight; each re-checks its own condition afterwards.
   */
  async ensure(
    id: string,
    satisfied: (row: ConnectionRow) => boolean,
    kind: RefreshKind = 'ondemand',
  ): Promise<ConnectionRow> {
    for (;;) {
      const flight = this.flights.get(id);
      if (flight) {
        const row = await flight.catch(() => undefined);
        if (row && satisfied(row)) return row;
        if (!row) {
          // The shared flight failed: surface the same outcome to this caller via the row's state.
          const current = await this.o.store.getConnection(id);
          if (!current) throw new VaultError('not_found', 'No such connection.');
          if (current.status === 'needs_reauth') throw needsReauth(current);
          if (satisfied(current)) return current;
          return flight; // rethrows the flight's error (e.g. upstream_unavailable)
        }
        continue;
      }
      const mine = this.refreshUntil(id, satisfied, kind);
      this.flights.set(id, mine);
      try {
        return await mine;
      } finally {
        if (this.flights.get(id) === mine) this.flights.delete(id);
      }
    }
  }

  /** Refreshes now unless another refresh of this connection lands first. */
  async force(id: string, kind: RefreshKind = 'forced'): Promise<ConnectionRow> {
    const start = await this.o.store.getConnection(id);
    if (!start) throw new VaultError('not_found', 'No such connection.');
    // Through the shared flight: a refresh already running in this process counts, and none is started beside it.
    return this.ensure(id, (row) => row.version > start.version && row.lastRefreshAt !== start.lastRefreshAt, kind);
  }

  private async refreshUntil(
    id: string,
    satisfied: (row: ConnectionRow) => boolean,
    kind: RefreshKind,
  ): Promise<ConnectionRow> {
    for (;;) {
      const row = await this.o.store.getConnection(id);
      if (!row) throw new VaultError('not_found', 'No such connection.');
      if (row.status === 'needs_reauth') throw needsReauth(row);
      if (satisfied(row)) return row;
      const now = this.o.clock();
      // A failing refresh backs off (backoff.ts): until its next attempt, Webex is not asked, whoever asks.
      if (row.refreshNextAttemptAt !== undefined && row.refreshNextAttemptAt > now) {
        throw backingOff(row.refreshNextAttemptAt - now);
      }
      const leased = await this.o.store.acquireLease(id, this.o.instanceId, now + this.leaseMs, now);
      if (!leased) {
        await this.waitForHolder(row);
        continue;
      }
      if (leased.status === 'needs_reauth' || satisfied(leased)) {
        await this.o.store.releaseLease(id, this.o.instanceId);
        continue;
      }
      try {
        return await this.refreshLeased(leased, kind);
      } catch (err) {
        if (err instanceof Stale) continue;
        throw err;
      }
    }
  }

  /**
   * Polls until the holder's refresh lands (version changes) or its lease ends. When the holder gave up on an
   * unavailable Webex (lease released, version unchanged, error recorded), its outcome is ours too: we do not hammer
   * a failing Webex once per waiting process.
   */
  private async waitForHolder(seen: ConnectionRow): Promise<void> {
    for (;;) {
      await sleep(this.pollMs);
      const r = await this.o.store.getConnection(seen.id);
      if (!r || r.version !== seen.version) return;
      if (!r.leaseHolder && r.lastError === 'upstream_unavailable' && r.updatedAt > seen.updatedAt) {
        throw new VaultError(
          'upstream_unavailable',
          'Webex is unavailable right now; the connection stays active, try again later.',
          // The holder's back-off names the next attempt (backoff.ts).
          r.refreshNextAttemptAt !== undefined
            ? Math.max(1, Math.ceil((r.refreshNextAttemptAt - this.o.clock()) / 1000))
            : 5,
        );
      }
      if (!r.leaseHolder || (r.leaseExpiresAt ?? 0) <= this.o.clock()) return;
    }
  }

  private async refreshLeased(leased: ConnectionRow, kind: RefreshKind): Promise<ConnectionRow> {
    const { store, instanceId, metrics } = this.o;
    const started = performance.now();
    const elapsed = () => (performance.now() - started) / 1000;
    if (leased.kind === 'bot') {
      await store.releaseLease(leased.id, instanceId);
      throw new VaultError('invalid_request', 'A bot token does not expire: there is nothing to refresh.');
    }
    const failing = (leased.refreshFailures ?? 0) > 0;
    /** One line of the refresh history (never a secret); its failure never fails the refresh. */
    const history = (outcome: string, status?: number, error?: string) =>
      store
        .insertRefreshHistory({
          connectionId: leased.id,
          at: this.o.clock(),
          kind,
          outcome,
          status,
          durationMs: performance.now() - started,
          error,
        })
        .catch((err) =>
          this.o.logger?.warn({ connectionId: leased.id, error: (err as Error).name }, 'history not kept'),
        );
    const integration = await this.o.integration(leased.integrationId);
    if (!integration) {
      await store.releaseLease(leased.id, instanceId);
      throw new VaultError('not_found', 'The connection’s integration is gone.');
    }
    const refreshToken = this.o.ring.decrypt(leased.refreshTokenEnc, refreshSlot(leased.id));
    // A connection already failing tries once per scheduled attempt: its schedule is the retry.
    const attempts = failing ? 1 : (this.o.attempts ?? 3);
    // Loaded on the first refresh: the OAuth client brings zod, which `webex-auth token` on a fresh token never needs.
    // The backoff helper too: the OAuth client holds it, and the `token` bundle shares no module with that chunk.
    // Its errors are recognised by their brand (errors.ts), whichever copy of the class made them.
    const [{ refreshAccessToken }, { backoffDelay }] = await Promise.all([
      import('../oauth/tokens.js'),
      import('../oauth/retry-after.js'),
    ]);
    for (let attempt = 1; ; attempt++) {
      let tokens: TokenSet;
      try {
        tokens = await refreshAccessToken(integration, refreshToken, {
          fetch: this.o.fetch,
          clock: this.o.clock,
          requestedScopes: leased.requestedScopes,
          signal: AbortSignal.timeout(Math.max(1000, Math.floor(this.leaseMs * 0.6))),
        });
      } catch (err) {
        const e: OAuthFailure = isWebexAuthError(err, { family: 'oauth' })
          ? (err as unknown as OAuthFailure)
          : NO_ANSWER;
        const now = this.o.clock();
        // A Service App whose refresh token is dead is fetched again through its fetching connection (service-apps.ts),
        // under our lease, before it is given up on.
        if (e.needsReauth && (await this.o.recover?.(leased))) throw new Stale();
        if (e.needsReauth) {
          const marked = await store.setStatus(leased.id, 'needs_reauth', e.code, now, leased.version);
          if (!marked) {
            metrics.observeRefresh('stale', elapsed());
            throw new Stale();
          }
          metrics.observeRefresh('needs_reauth', elapsed());
          await history('needs_reauth', e.status, e.code);
          this.o.logger?.warn(
            { connectionId: leased.id, error: e.code },
            'refresh token refused: connection needs re-authorization',
          );
          this.o.webhooks.send('connection.needs_reauth', leased.id, now);
          throw needsReauth({});
        }
        if (!e.retryable) {
          metrics.observeRefresh('error', elapsed());
          await store.recordError(leased.id, instanceId, e.code, now);
          await history('error', e.status, e.code);
          throw new VaultError(
            'refresh_failed',
            `Webex refused the refresh (${e.code}); check the integration's client secret.`,
          );
        }
        // One backoff rule for every outbound retry (oauth/retry-after.ts): a Retry-After beyond the cap is not
        // waited out inside a call; the caller is told when to come back instead.
        const next = backoffDelay(attempt, {
          baseMs: this.o.baseDelayMs ?? 250,
          capMs: this.o.maxRetryWaitMs ?? 5000,
          retryAfterMs: e.retryAfter !== undefined ? e.retryAfter * 1000 : undefined,
        });
        if (attempt >= attempts || !next.wait) {
          metrics.observeRefresh('retryable_error', elapsed());
          return this.failed(leased, e, now, history);
        }
        this.o.logger?.info({ connectionId: leased.id, error: e.code, attempt }, 'refresh failed, retrying');
        await sleep(next.ms);
        // Extend our lease for the next attempt; if it was taken over meanwhile, start over.
        const t = this.o.clock();
        if (!(await store.acquireLease(leased.id, instanceId, t + this.leaseMs, t))) throw new Stale();
        const again = await store.getConnection(leased.id);
        if (!again || again.version !== leased.version) throw new Stale();
        continue;
      }
      const now = this.o.clock();
      const previous = this.previousToken(leased);
      const written = await store.writeTokens(
        leased.id,
        leased.version,
        instanceId,
        this.tokenWrite(leased.id, tokens, now),
      );
      if (!written) {
        // Our lease expired and someone else refreshed: their tokens win (Webex keeps ours valid too).
        metrics.observeRefresh('stale', elapsed());
        throw new Stale();
      }
      metrics.observeRefresh('success', elapsed());
      // Cap awareness (cap.ts): a new live token for the person; Webex may answer a refresh with the same token.
      const unchanged = tokens.accessToken === previous;
      if (!unchanged) {
        await store
          .recordTokenMint({
            connectionId: leased.id,
            personId: leased.personId,
            accessExpiresAt: tokens.expiresAt,
            mintedAt: now,
          })
          .catch((err) =>
            this.o.logger?.warn({ connectionId: leased.id, error: (err as Error).name }, 'mint not kept'),
          );
      }
      await history(unchanged ? 'unchanged' : 'success', 200);
      if (failing) {
        this.o.logger?.info(
          { connectionId: leased.id, failures: leased.refreshFailures, failingSince: leased.refreshFailingSince },
          'refresh recovered',
        );
        this.o.webhooks.send('connection.recovered', leased.id, now, {
          failures: leased.refreshFailures ?? 0,
          failingSince: new Date(leased.refreshFailingSince ?? now).toISOString(),
        });
      }
      this.o.webhooks.send('connection.refreshed', leased.id, now);
      const row = await store.getConnection(leased.id);
      if (!row) throw new VaultError('not_found', 'The connection was deleted during the refresh.');
      return row;
    }
  }

  /** The connection's access token before this refresh; undefined when it cannot be read (then any token is new). */
  private previousToken(row: ConnectionRow): string | undefined {
    try {
      return this.o.ring.decrypt(row.accessTokenEnc, accessSlot(row.id));
    } catch {
      return undefined;
    }
  }

  /**
   * A refresh failed on 5xx/429/network after its attempts: records the failure and the next attempt (backoff.ts),
   * fires `connection.refresh_failing` when a run of failures starts, and throws `upstream_unavailable` naming the
   * wait until the next attempt.
   */
  private async failed(
    leased: ConnectionRow,
    e: { code: string; status: number; retryAfter?: number | undefined },
    now: number,
    history: (outcome: string, status?: number, error?: string) => Promise<unknown>,
  ): Promise<never> {
    const failures = (leased.refreshFailures ?? 0) + 1;
    const next = nextAttemptAt(
      failures,
      now,
      leased.refreshFailingSince ?? now,
      this.o.backoff ?? { maxIntervalMs: 21_600_000, maxPerHour: 4 },
      e.retryAfter !== undefined ? e.retryAfter * 1000 : undefined,
    );
    const recorded = await this.o.store.recordRefreshFailure(leased.id, this.o.instanceId, {
      lastError: 'upstream_unavailable',
      status: e.status,
      now,
      nextAttemptAt: next,
    });
    await history('failing', e.status, e.code);
    this.o.logger?.warn(
      {
        connectionId: leased.id,
        error: e.code,
        status: e.status,
        failures,
        nextAttemptAt: new Date(next).toISOString(),
      },
      'refresh failed: backing off',
    );
    if (recorded?.failures === 1) {
      this.o.webhooks.send('connection.refresh_failing', leased.id, now, {
        status: e.status,
        error: e.code,
        nextAttemptAt: new Date(next).toISOString(),
      });
    }
    throw new VaultError(
      'upstream_unavailable',
      'Webex is unavailable right now; the connection stays active, try again later.',
      Math.max(1, Math.ceil((next - now) / 1000)),
    );
  }
}

/** Why a backing-off refresh was not tried: `upstream_unavailable` until the next attempt. */
function backingOff(waitMs: number): VaultError {
  return new VaultError(
    'upstream_unavailable',
    'Webex failed the last refresh of this connection; it stays active, and the next attempt is scheduled.',
    Math.max(1, Math.ceil(waitMs / 1000)),
  );
}

function needsReauth(row: Pick<ConnectionRow, 'needsReauthReason'>): VaultError {
  const reason = row.needsReauthReason ?? 'refresh_refused';
  return new VaultError(
    'needs_reauth',
    reason === 'refresh_refused'
      ? 'Webex refused the refresh token: the person must authorize again.'
      : `The connection needs re-authorization (${reason}).`,
    undefined,
    reason,
  );
}
