/**
 * The `connections` part of the vault: grants stored as connections, and the token they serve. The broker's token
 * route is one hop from each of the three things a token can be: served (`getFreshToken` → the hot-path cache,
 * token-cache.ts), refreshed (`getFreshToken` → the refresher's single flight, refresher.ts) and stored (either → the
 * store). Forced refreshes, `needs_reauth`, the live-token cap and the refresh history are here too.
 */
import { randomBytes } from 'node:crypto';
import type { Config } from '../config.js';
import { isWebexAuthError } from '../errors.js';
import type { Clock } from '../oauth/types.js';
import { capOptions, TokenCapError, tokenCapStatus } from './cap.js';
import type { KeyRing } from './crypto/keyring.js';
import { freshTokenOf } from './fresh-token.js';
import { type RefreshRecord, refreshRecord } from './history.js';
import type { VaultMetrics } from './metrics.js';
import { ownerOf } from './owners.js';
import { connectionOf } from './records.js';
import { keepaliveDue, type Refresher } from './refresher.js';
import { accessSlot, refreshSlot } from './slots.js';
import { StampedCache } from './stamped-cache.js';
import type { ConnectionRow, Store } from './store/types.js';
import type { TokenCache } from './token-cache.js';
import {
  type Connection,
  type FreshToken,
  type NeedsReauthReason,
  type OpenVaultOptions,
  type SaveGrantInput,
  type Vault,
  VaultError,
} from './types.js';
import type { WebhookSender } from './webhooks.js';

/** What {@link createConnections} is wired with (by vault.ts). */
export interface ConnectionsDeps {
  config: Config;
  store: Store;
  ring: KeyRing;
  clock: Clock;
  logger: OpenVaultOptions['logger'];
  webhooks: WebhookSender;
  refresher: Refresher;
  /** The hot-path cache of connection rows and decrypted access tokens. */
  tokens: TokenCache;
  metrics: VaultMetrics;
  /** "Revoke at Webex" (reconcile.ts), wired with the reconciliation's dependencies. */
  revokeAtWebex(id: string): Promise<{ deleted: number }>;
}

/** The `connections` part of the vault. */
export function createConnections(d: ConnectionsDeps): Vault['connections'] {
  const { store, ring, clock, logger, webhooks, refresher, tokens, config } = d;
  /**
   * Each connection page's refresh history (by id and limit), read at every view and written only by a refresh:
   * reused while no write to refresh_history has been seen (stamped-cache.ts).
   */
  const histories = new StampedCache<string, readonly RefreshRecord[]>(store, 'refreshHistory');

  async function mustGet(id: string): Promise<ConnectionRow> {
    const row = await store.getConnection(id);
    if (!row) throw new VaultError('not_found', 'No such connection.');
    return row;
  }

  /** The token a connection row serves (decrypted once per ciphertext by the cache). */
  function served(row: ConnectionRow, minValidityMet: boolean): FreshToken {
    return freshTokenOf(row, tokens.accessToken(row), minValidityMet);
  }

  async function saveFromGrant(input: SaveGrantInput, retry = true): Promise<Connection> {
    const ownerId = ownerOf(input.ownerId);
    const target = await store.findGrantTarget(input.integrationId, input.person.id, ownerId);
    if (!target) throw new VaultError('not_found', 'No such integration.');
    const now = clock();
    const existing = target.connectionId;
    const id = existing ?? `conn_${randomBytes(12).toString('base64url')}`;
    const t = input.tokens;
    const keysAtSeal = ring.keys;
    const accessTokenEnc = ring.encrypt(t.accessToken, accessSlot(id));
    const { row, created } = await store.upsertConnection({
      id,
      ownerId,
      integrationId: input.integrationId,
      personId: input.person.id,
      personEmail: input.person.emails[0] ?? '',
      personEmails: input.person.emails,
      displayName: input.person.displayName,
      avatar: input.person.avatar,
      orgId: input.person.orgId,
      scopes: t.scopes,
      requestedScopes: input.requestedScopes,
      status: 'active',
      accessTokenEnc,
      refreshTokenEnc: ring.encrypt(t.refreshToken, refreshSlot(id)),
      keyId: ring.activeKeyId,
      accessExpiresAt: t.expiresAt,
      refreshExpiresAt: t.refreshExpiresAt,
      // A bot's token does not expire: nothing to keep alive.
      keepaliveDueAt: input.kind === 'bot' ? undefined : keepaliveDue(t.refreshExpiresAt, config.keepaliveDays, now),
      lastRefreshAt: undefined,
      lastError: undefined,
      version: 1,
      leaseHolder: undefined,
      leaseExpiresAt: undefined,
      createdAt: now,
      updatedAt: now,
      kind: input.kind ?? 'integration',
      appId: input.appId,
      fetcherConnectionId: input.fetcherConnectionId,
    });
    // Another process created the same connection between our look-up and insert: encrypt again for its id.
    if (row.id !== id && retry) return saveFromGrant(input, false);
    // The stored ciphertext is the one just sealed, for this row, under a ring not reloaded since (a reload drops what
    // the token cache holds): its reader (the connection page the flow lands on) need not open it.
    if (row.id === id && row.accessTokenEnc === accessTokenEnc && ring.keys === keysAtSeal)
      tokens.holdSealed(row.id, accessTokenEnc, t.accessToken);
    // Cap awareness (cap.ts): the grant minted a live access token for the person.
    if (input.kind !== 'bot') {
      await store
        .recordTokenMint({ connectionId: row.id, personId: row.personId, accessExpiresAt: t.expiresAt, mintedAt: now })
        .catch((err) => logger?.warn({ connectionId: row.id, error: (err as Error).name }, 'mint not kept'));
    }
    // Its owner and kind given: the event need not read the row just written.
    webhooks.post({
      type: created && !existing ? 'connection.created' : 'connection.refreshed',
      subjectId: row.id,
      at: now,
      ownerId: row.ownerId,
      kind: row.kind,
    });
    return connectionOf(row);
  }

  return {
    saveFromGrant: (input) => saveFromGrant(input),
    async get(id) {
      // Through the hot-path cache: a page that reads a connection, then its tokens, then its cap (the connection
      // page) reads the store once while nothing was written in between (token-cache.ts says when a row is reused).
      const row = await tokens.row(id);
      return row ? connectionOf(row) : undefined;
    },
    async list(ownerId) {
      return (await store.listConnections(ownerId)).map(connectionOf);
    },
    async listByKind(kind) {
      return (await store.listConnectionsByKind(kind)).map(connectionOf);
    },
    async find(filter) {
      return (await store.findConnections(filter)).map(connectionOf);
    },
    countByStatus: () => store.countConnectionsByStatus(),
    async delete(id) {
      tokens.forget(id);
      const before = await store.getConnection(id);
      const deleted = await store.deleteConnection(id);
      tokens.forget(id);
      if (deleted && before) {
        // Its endpoints get the event (queued with their secrets), then go with the connection.
        await webhooks
          .emit({ type: 'connection.deleted', subjectId: id, at: clock(), ownerId: before.ownerId })
          .catch(() => {});
        await store.deleteConnectionWebhooks(id).catch(() => 0);
      }
      return deleted;
    },
    async revealTokens(id) {
      const row = await tokens.row(id);
      if (!row) return undefined;
      return {
        // The access token through the cache (decrypted once per ciphertext); the refresh token is not kept in clear.
        accessToken: tokens.accessToken(row),
        refreshToken: ring.decrypt(row.refreshTokenEnc, refreshSlot(id)),
        expiresAt: row.accessExpiresAt,
        refreshExpiresAt: row.refreshExpiresAt,
      };
    },
    async getFreshToken(id, minValiditySeconds = 60) {
      if (!Number.isFinite(minValiditySeconds) || minValiditySeconds < 0) {
        throw new VaultError('invalid_request', 'minValiditySeconds must be a non-negative number.');
      }
      d.metrics.tokenRequests++;
      const askedMs = minValiditySeconds * 1000;
      let row = await tokens.row(id);
      if (!row) throw new VaultError('not_found', 'No such connection.');
      if (row.status === 'needs_reauth') throw needsReauthError(row);
      const wantMs = wantedMs(row, askedMs);
      const enough = (r: ConnectionRow) => r.accessExpiresAt - clock() >= wantMs;
      if (!enough(row)) {
        const before = row.version;
        const current = row;
        try {
          row = await refresher.ensure(id, (r) => enough(r) || r.version > before);
        } catch (err) {
          // Webex failing (the refresh backs off, backoff.ts): a token still valid is served, the freshest there is;
          // only a connection without one gets 503 + Retry-After (the next attempt).
          if (!isWebexAuthError(err, 'upstream_unavailable')) throw err;
          if (current.accessExpiresAt <= clock()) throw err;
        }
      }
      return served(row, row.accessExpiresAt - clock() >= askedMs);
    },
    cachedFreshToken(id, minValiditySeconds = 60) {
      // The cache-hit case of getFreshToken above, answered without a promise (the broker's hot path); anything else
      // (a row not held, needs_reauth, a token too short-lived, bad input) is left to getFreshToken.
      if (!Number.isFinite(minValiditySeconds) || minValiditySeconds < 0) return undefined;
      const row = tokens.cachedRow(id);
      if (!row || row.status === 'needs_reauth') return undefined;
      const askedMs = minValiditySeconds * 1000;
      const left = row.accessExpiresAt - clock();
      if (left < wantedMs(row, askedMs)) return undefined;
      d.metrics.tokenRequests++;
      return tokens.served(row, left >= askedMs);
    },
    async renewRefused(id, refusedToken) {
      // A bot's token has nothing to refresh: Webex's refusal stands (the proxy passes its 401 back unchanged).
      const current = await tokens.row(id);
      if (current?.kind === 'bot') return served(current, true);
      // The satisfied check compares the stored token with the refused one (the decrypted token is cached per
      // ciphertext): callers joining the flight, or arriving after it landed, take the new token without a refresh.
      // A token refreshed less than RENEW_REFUSED_MIN_AGE_MS ago is not replaced again: were Webex to refuse every
      // token for one call, each call would otherwise mint one and spend the person's live-token cap.
      const row = await refresher.ensure(
        id,
        (r) => tokens.accessToken(r) !== refusedToken || (r.lastRefreshAt ?? 0) > clock() - RENEW_REFUSED_MIN_AGE_MS,
        'proxy',
      );
      return served(row, true);
    },
    async refresh(id) {
      // A forced refresh (broker POST …/refresh, dashboard, "Refresh now", CLI `refresh`): at most one per connection
      // per FORCED_REFRESH_MIN_INTERVAL, claimed in the store so every process sharing it shares the limit. Refreshes
      // because the token is expiring (getFreshToken → refresher.ensure) or refused never come through here.
      // Claimed before the refresh, and a refresh that then fails still counts: the limit is about the tokens minted
      // (Webex caps live tokens per person), and a failed attempt may have minted one whose answer was lost. With no
      // limit (0) the claim always succeeds but still stamps the time, for the processes that have one.
      // Near Webex's live-token cap (cap.ts), a forced refresh is refused before it is claimed: it would mint one more
      // token for nothing. The current token is still served, and keep-alive refreshes still run.
      const target = await mustGet(id);
      const cap = await tokenCapStatus(store, target.personId, clock(), capOptions(config));
      if (cap.refusing) {
        const waitMs = cap.oldestExpiresAt !== undefined ? cap.oldestExpiresAt - clock() : 3_600_000;
        logger?.warn({ connectionId: id, used: cap.used, cap: cap.cap }, 'forced refresh refused: near the token cap');
        throw new TokenCapError(cap, Math.max(1, Math.ceil(waitMs / 1000)));
      }
      // A bot's token does not expire and has no refresh token: nothing to claim nor refresh.
      if ((await tokens.row(id))?.kind === 'bot') {
        throw new VaultError('invalid_request', 'A bot token does not expire: there is nothing to refresh.');
      }
      const intervalMs = forcedRefreshIntervalMs(config);
      const claim = await store.claimForcedRefresh(id, clock(), intervalMs);
      if (!claim) throw new VaultError('not_found', 'No such connection.');
      if (!claim.claimed) {
        throw new VaultError(
          'rate_limited',
          `This connection was refreshed less than ${intervalMs / 1000} s ago.`,
          Math.max(1, Math.ceil(claim.retryAfterMs / 1000)),
        );
      }
      return connectionOf(await refresher.force(id));
    },
    async markNeedsReauth(id, reason = 'refresh_refused') {
      const row = await mustGet(id);
      tokens.forget(id);
      // The first reason wins: a connection already needing re-authorization keeps the reason it has.
      if (row.status === 'needs_reauth') return false;
      const now = clock();
      if (!(await store.setStatus(id, 'needs_reauth', reason, now, row.version, reason))) return false;
      tokens.forget(id);
      webhooks.send('connection.needs_reauth', id, now, { reason });
      if (reason === 'deauthorized') webhooks.send('connection.deauthorized', id, now);
      return true;
    },
    async tokenCap(id, personId) {
      const person = personId ?? (await tokens.row(id))?.personId;
      return person !== undefined ? tokenCapStatus(store, person, clock(), capOptions(config)) : undefined;
    },
    async history(id, limit = 200) {
      const held = await histories.get(`${limit}|${id}`, async () =>
        (await store.listRefreshHistory(id, limit)).map(refreshRecord),
      );
      // A copy: the held list is shared by every caller.
      return held ? [...held] : [];
    },
    revokeAtWebex: (id) => d.revokeAtWebex(id),
  };
}

/**
 * How long (ms) the token of `row` must still live to be served without a refresh, for a caller asking `askedMs`.
 * Never a refresh loop: when the caller asks for more than a token's whole lifetime (a device grant's 18 h against
 * min_validity=86400), every new token would fall short at once and each request would mint one, spending the
 * person's live-token cap. Such a caller gets the freshest token — refreshed once half its life is gone — and
 * `minValidityMet: false`.
 */
function wantedMs(row: ConnectionRow, askedMs: number): number {
  const lifetimeMs = row.accessExpiresAt - (row.lastRefreshAt ?? row.updatedAt);
  return lifetimeMs > 0 && askedMs > lifetimeMs ? lifetimeMs / 2 : askedMs;
}

/** The `needs_reauth` failure of a connection row, naming its reason. */
export function needsReauthError(row: Pick<ConnectionRow, 'needsReauthReason'>): VaultError {
  const reason = row.needsReauthReason ?? 'refresh_refused';
  return new VaultError('needs_reauth', NEEDS_REAUTH_MESSAGES[reason], undefined, reason);
}

/** What each `needs_reauth` reason asks of the person (no secret). */
const NEEDS_REAUTH_MESSAGES: Record<NeedsReauthReason, string> = {
  refresh_refused: 'Webex refused the refresh token: the person must authorize again.',
  revoked_at_webex: 'The grant was revoked at Webex: the person must authorize again.',
  deauthorized: 'The Service App was deauthorized in this org: an admin must authorize it again in Control Hub.',
};

/** A refused token younger than this (since its refresh) is not refreshed again by `renewRefused`. */
const RENEW_REFUSED_MIN_AGE_MS = 30_000;

/** FORCED_REFRESH_MIN_INTERVAL in ms (default 30 s when a hand-made configuration lacks it; 0: no limit). */
function forcedRefreshIntervalMs(config: Pick<Config, 'forcedRefreshMinInterval'>): number {
  const seconds = (config as Partial<Config>).forcedRefreshMinInterval ?? 30;
  return Number.isFinite(seconds) ? Math.max(0, seconds) * 1000 : 30_000;
}
