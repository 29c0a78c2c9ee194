/**
 * `openVault(config)`: the token vault over a store (PostgreSQL when `DATABASE_URL` is set, else SQLite at
 * `WEBEX_AUTH_DB`), a key ring, the refresher, the keep-alive sweep, broker API keys and webhooks out, plus the
 * accounts, web sessions and owners of team mode (accounts.ts, sessions.ts, owners.ts).
 * The database driver is imported when the vault opens, so importing the library loads neither native SQLite nor pg.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Config } from '../config.js';
import type { Integration } from '../oauth/types.js';
import { createAccounts } from './accounts.js';
import { type ApiKeyCacheOptions, createApiKeys } from './api-keys.js';
import { createAudit } from './audit.js';
import { backoffOptions } from './backoff.js';
import { capOptions, TokenCapError, tokenCapStatus } from './cap.js';
import { type ResolvedKeys, resolveKeys } from './crypto/dev-key.js';
import { describeKeychainEntry } from './crypto/keychain.js';
import type { KeyRing } from './crypto/keyring.js';
import { refreshRecord } from './history.js';
import { createIdentities, type Identities } from './identities.js';
import { createIntegrations } from './integrations.js';
import { sweepKeepAlive } from './keepalive.js';
import { LiveKeys } from './key-reload.js';
import { VaultMetrics } from './metrics.js';
import { ownerOf } from './owners.js';
import { type ReconcileDeps, type ReconcileResult, reconcile, revokeAtWebex } from './reconcile.js';
import { connectionOf, integrationRecord, secretSlot } from './records.js';
import { accessSlot, keepaliveDue, Refresher, refreshSlot } from './refresher.js';
import { rotateKeys } from './rotation.js';
import { createWebSessions } from './sessions.js';
import type { ConnectionRow, Store } from './store/types.js';
import { TokenCache, type TokenCacheOptions } from './token-cache.js';
import {
  type Connection,
  type IntegrationRecord,
  type NeedsReauthReason,
  type OpenVaultOptions,
  type SaveGrantInput,
  type SweepResult,
  type Vault,
  VaultError,
} from './types.js';
import type { WebhookLookup } from './webhook-address.js';
import { createWebhookEndpoints } from './webhook-endpoints.js';
import { createWebhookSender } from './webhooks.js';

/** Options of {@link openVault} beyond the public ones: tuning knobs for tests. */
export interface VaultTuning {
  /** Refresh lease duration (default 15 s). */
  leaseMs?: number;
  /** Waiter poll interval (default 50 ms). */
  pollMs?: number;
  /** Keep-alive sweep jitter (default 2 s). */
  keepAliveJitterMs?: number;
  /** Webhook first retry delay (default 500 ms). */
  webhookBaseDelayMs?: number;
  /** How members' webhook host names resolve (default the system resolver): tests point a public name at loopback. */
  webhookLookup?: WebhookLookup;
  /** First refresh retry delay (default 250 ms). */
  retryBaseDelayMs?: number;
  /** Use this store instead of opening one from the configuration. */
  store?: Store;
  /** PostgreSQL schema (created if missing). */
  schema?: string;
  /** The verified-API-key cache (default 5 s, 10,000 keys; `ttlMs: 0` turns it off). */
  apiKeyCache?: ApiKeyCacheOptions;
  /** The connection-row and decrypted-token cache of `getFreshToken` (default 2 s, 10,000 connections). */
  tokenCache?: TokenCacheOptions;
  /** PostgreSQL: listen for other processes' writes so the caches can be used (default true; see PostgresStoreOptions). */
  watchChanges?: boolean;
}

/** The vault plus what the broker's `/metrics` reads. */
export interface VaultInternals extends Vault {
  readonly metrics: VaultMetrics;
  readonly store: Store;
  /** The hot-path cache of `getFreshToken` (tests check its bound). */
  readonly tokenCache: TokenCache;
  /** Waits for webhook deliveries in flight. */
  drainWebhooks(): Promise<void>;
}

/**
 * Opens the vault the configuration describes, applying migrations.
 * @throws {VaultKeyError} when the key ring is missing (production), malformed, or cannot decrypt stored secrets.
 */
export async function openVault(config: Config, options: OpenVaultOptions & VaultTuning = {}): Promise<VaultInternals> {
  const clock = options.clock ?? Date.now;
  const logger = options.logger;
  const instanceId = options.instanceId ?? `${process.pid}-${randomUUID()}`;
  const store =
    options.store ??
    (config.databaseUrl
      ? await (await import('./store/postgres.js')).openPostgresStore(config.databaseUrl, {
          ...(options.schema ? { schema: options.schema } : {}),
          ...(options.watchChanges === false ? { watchChanges: false } : {}),
        })
      : await (await import('./store/sqlite.js')).openSqliteStore(config.dbPath));

  let keys: ResolvedKeys;
  try {
    // Fail closed at start: a wrong key ring is reported now, not at the first request.
    const sample = (await store.listIntegrations())[0];
    keys = await resolveKeys(config, { storeHasSecrets: async () => sample !== undefined });
    if (sample) keys.ring.decrypt(sample.secretEnc, secretSlot(sample.id));
  } catch (err) {
    if (!options.store) await store.close();
    throw err;
  }
  const ring: KeyRing = keys.ring;
  logger?.info(
    {
      keySource: keys.source,
      ...(keys.path ? { keyFile: keys.path } : {}),
      ...(keys.account ? { keychainAccount: keys.account } : {}),
      store: store.kind,
    },
    keyMessage(keys),
  );

  const metrics = new VaultMetrics();
  const webhooks = createWebhookSender({
    url: config.webhookUrl,
    secret: config.webhookSecret,
    fetch: options.fetch,
    logger,
    ...(options.webhookBaseDelayMs !== undefined ? { baseDelayMs: options.webhookBaseDelayMs } : {}),
    store,
    ring,
    clock,
    allowPrivate: config.allowPrivateWebhooks === true,
    lookup: options.webhookLookup,
  });

  async function getIntegrationWithSecret(id: string): Promise<(Integration & IntegrationRecord) | undefined> {
    const row = await store.getIntegration(id);
    if (!row) return undefined;
    return { ...integrationRecord(row), clientSecret: ring.decrypt(row.secretEnc, secretSlot(row.id)) };
  }

  const refresher = new Refresher({
    store,
    ring,
    clock,
    fetch: options.fetch,
    logger,
    webhooks,
    metrics,
    instanceId,
    integration: getIntegrationWithSecret,
    keepaliveDays: config.keepaliveDays,
    backoff: backoffOptions(config),
    // A Service App whose refresh token is dead is fetched again (identities.ts); `identities` is made below.
    recover: (leased) => identities.recover(leased),
    ...(options.leaseMs !== undefined ? { leaseMs: options.leaseMs } : {}),
    ...(options.pollMs !== undefined ? { pollMs: options.pollMs } : {}),
    ...(options.retryBaseDelayMs !== undefined ? { baseDelayMs: options.retryBaseDelayMs } : {}),
  });

  async function mustGet(id: string): Promise<ConnectionRow> {
    const row = await store.getConnection(id);
    if (!row) throw new VaultError('not_found', 'No such connection.');
    return row;
  }

  async function saveFromGrant(input: SaveGrantInput, retry = true): Promise<Connection> {
    const integration = await store.getIntegration(input.integrationId);
    if (!integration) throw new VaultError('not_found', 'No such integration.');
    const ownerId = ownerOf(input.ownerId);
    const now = clock();
    const existing = await store.findConnection(input.integrationId, input.person.id, ownerId);
    const id = existing?.id ?? `conn_${randomBytes(12).toString('base64url')}`;
    const t = input.tokens;
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
      accessTokenEnc: ring.encrypt(t.accessToken, accessSlot(id)),
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
    // Cap awareness (cap.ts): the grant minted a live access token for the person.
    if (input.kind !== 'bot') {
      await store
        .recordTokenMint({ connectionId: row.id, personId: row.personId, accessExpiresAt: t.expiresAt, mintedAt: now })
        .catch((err) => logger?.warn({ connectionId: row.id, error: (err as Error).name }, 'mint not kept'));
    }
    webhooks.send(created && !existing ? 'connection.created' : 'connection.refreshed', row.id, now);
    return connectionOf(row);
  }

  // SECURITY (SECURITY.md, "Broker hot-path caches"): access tokens of recently served connections stay decrypted in
  // this process's memory (at most `tokenCache.max` of them) instead of being decrypted on every request, and the
  // connection row is reused while the store reports no write since it was read. Trade-off: token plaintext lives in
  // the heap for as long as the connection keeps being served (a heap or core dump of the server would show it — as
  // it would any token in flight), in exchange for no AES-GCM work per request. A refresh, logout, `needs_reauth` or
  // delete in another process is seen at the next request on SQLite, and within the notification delay (bounded by
  // `tokenCache.maxAgeMs`, 2 s) on PostgreSQL; in this process at once.
  const tokens = new TokenCache(store, ring, options.tokenCache);
  // WEBEX_AUTH_KEYS_FILE reloads (key-reload.ts): the ring is swapped in place, decrypted tokens dropped.
  const live = new LiveKeys({ ring, store, keysFile: config.keysFile, logger, onReload: () => tokens.dropDecrypted() });

  // Reconciliation with Webex and "Revoke at Webex" (reconcile.ts).
  const reconcileDeps: ReconcileDeps = {
    store,
    refresher,
    clock,
    fetch: options.fetch,
    logger,
    webhooks,
    instanceId,
    accessToken: (row) => tokens.accessToken(row),
    freshToken: async (id) => (await vault.connections.getFreshToken(id)).accessToken,
    markNeedsReauth: (id, reason) => vault.connections.markNeedsReauth(id, reason),
    forget: (id) => tokens.forget(id),
  };
  let reconcileTimer: NodeJS.Timeout | undefined;
  let reconciling: Promise<ReconcileResult> | undefined;
  /** One reconciliation at a time in this process (the store's `reconcile` lease covers other processes). */
  function reconcileOnce(): Promise<ReconcileResult> {
    if (reconciling) return Promise.resolve({ ran: false, checked: 0, revoked: [], unknown: 0 });
    reconciling = reconcile(reconcileDeps).finally(() => {
      reconciling = undefined;
    });
    return reconciling;
  }

  let timer: NodeJS.Timeout | undefined;
  let sweeping: Promise<SweepResult> | undefined;
  /** One sweep at a time in this process (the store's sweep lease covers other processes). */
  function sweepOnce(): Promise<SweepResult> {
    if (sweeping) return Promise.resolve({ ran: false, refreshed: 0, failed: 0 });
    const run = sweepKeepAlive({
      store,
      refresher,
      clock,
      instanceId,
      logger,
      ...(options.keepAliveJitterMs !== undefined ? { jitterMs: options.keepAliveJitterMs } : {}),
    });
    sweeping = run.finally(() => {
      sweeping = undefined;
    });
    return sweeping;
  }

  /** Broker API keys that send `key.created` / `key.revoked` to their owner's endpoints. */
  function withKeyEvents(keys: Vault['apiKeys']): Vault['apiKeys'] {
    return {
      ...keys,
      async create(input) {
        const made = await keys.create(input);
        const { id: subjectId, ownerId } = made.record;
        webhooks.post({ type: 'key.created', subjectId, at: clock(), ownerId });
        return made;
      },
      async revoke(id) {
        const owner = (await store.listApiKeys()).find((k) => k.id === id)?.ownerId;
        const revoked = await keys.revoke(id);
        if (revoked) webhooks.post({ type: 'key.revoked', subjectId: id, at: clock(), ownerId: owner });
        return revoked;
      },
    };
  }

  // Bots, Service Apps and guest tokens (identities.ts), over this vault's connections (read when called).
  const identities: Identities = createIdentities({
    store,
    ring,
    clock,
    fetch: options.fetch,
    instanceId,
    connections: {
      saveFromGrant: (input) => vault.connections.saveFromGrant(input),
      getFreshToken: (id, min) => vault.connections.getFreshToken(id, min),
      markNeedsReauth: (id, reason) => vault.connections.markNeedsReauth(id, reason),
    },
    tokenWrite: (id, t, now) => refresher.tokenWrite(id, t, now),
  });

  const vault: VaultInternals = {
    metrics,
    store,
    tokenCache: tokens,
    keySource: keys.source,
    keyLocation: { source: keys.source, path: keys.path, account: keys.account },
    storeKind: store.kind,
    drainWebhooks: () => webhooks.drain(),
    integrations: createIntegrations(store, ring, clock),
    accounts: createAccounts(store, clock),
    sessions: createWebSessions(store, ring, clock),
    deriveKeys: (purpose) => live.deriveKeys(purpose),
    reloadKeys: () => live.reload(),
    missingKeyId: () => ring.missingKeyId(),
    getIntegrationWithSecret,
    connections: {
      saveFromGrant: (input) => saveFromGrant(input),
      async get(id) {
        const row = await store.getConnection(id);
        return row ? connectionOf(row) : undefined;
      },
      async list(ownerId) {
        return (await store.listConnections(ownerId)).map(connectionOf);
      },
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
        const row = await store.getConnection(id);
        if (!row) return undefined;
        return {
          accessToken: ring.decrypt(row.accessTokenEnc, accessSlot(id)),
          refreshToken: ring.decrypt(row.refreshTokenEnc, refreshSlot(id)),
          expiresAt: row.accessExpiresAt,
          refreshExpiresAt: row.refreshExpiresAt,
        };
      },
      async getFreshToken(id, minValiditySeconds = 60) {
        if (!Number.isFinite(minValiditySeconds) || minValiditySeconds < 0) {
          throw new VaultError('invalid_request', 'minValiditySeconds must be a non-negative number.');
        }
        metrics.tokenRequests++;
        const askedMs = minValiditySeconds * 1000;
        let row = await tokens.row(id);
        if (!row) throw new VaultError('not_found', 'No such connection.');
        if (row.status === 'needs_reauth') throw needsReauthError(row);
        // Never a refresh loop: when the caller asks for more than a token's whole lifetime (a device grant's 18 h
        // against min_validity=86400), every new token would fall short at once and each request would mint one,
        // spending the person's live-token cap. Such a caller gets the freshest token — refreshed once half its life is
        // gone — and `minValidityMet: false`.
        const lifetimeMs = row.accessExpiresAt - (row.lastRefreshAt ?? row.updatedAt);
        const wantMs = lifetimeMs > 0 && askedMs > lifetimeMs ? lifetimeMs / 2 : askedMs;
        const enough = (r: ConnectionRow) => r.accessExpiresAt - clock() >= wantMs;
        if (!enough(row)) {
          const before = row.version;
          const current = row;
          try {
            row = await refresher.ensure(id, (r) => enough(r) || r.version > before);
          } catch (err) {
            // Webex failing (the refresh backs off, backoff.ts): a token still valid is served, the freshest there is;
            // only a connection without one gets 503 + Retry-After (the next attempt).
            if (!(err instanceof VaultError && err.code === 'upstream_unavailable')) throw err;
            if (current.accessExpiresAt <= clock()) throw err;
          }
        }
        return {
          accessToken: tokens.accessToken(row),
          minValidityMet: row.accessExpiresAt - clock() >= askedMs,
          expiresAt: row.accessExpiresAt,
          scopes: [...row.scopes],
          person: { id: row.personId, email: row.personEmail, displayName: row.displayName },
        };
      },
      async renewRefused(id, refusedToken) {
        // A bot's token has nothing to refresh: Webex's refusal stands (the proxy passes its 401 back unchanged).
        const current = await tokens.row(id);
        if (current?.kind === 'bot') {
          return {
            accessToken: tokens.accessToken(current),
            minValidityMet: true,
            expiresAt: current.accessExpiresAt,
            scopes: [...current.scopes],
            person: { id: current.personId, email: current.personEmail, displayName: current.displayName },
          };
        }
        // The satisfied check compares the stored token with the refused one (the decrypted token is cached per
        // ciphertext): callers joining the flight, or arriving after it landed, take the new token without a refresh.
        // A token refreshed less than RENEW_REFUSED_MIN_AGE_MS ago is not replaced again: were Webex to refuse every
        // token for one call, each call would otherwise mint one and spend the person's live-token cap.
        const row = await refresher.ensure(
          id,
          (r) => tokens.accessToken(r) !== refusedToken || (r.lastRefreshAt ?? 0) > clock() - RENEW_REFUSED_MIN_AGE_MS,
          'proxy',
        );
        return {
          accessToken: tokens.accessToken(row),
          minValidityMet: true,
          expiresAt: row.accessExpiresAt,
          scopes: [...row.scopes],
          person: { id: row.personId, email: row.personEmail, displayName: row.displayName },
        };
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
          logger?.warn(
            { connectionId: id, used: cap.used, cap: cap.cap },
            'forced refresh refused: near the token cap',
          );
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
      async tokenCap(id) {
        const row = await store.getConnection(id);
        return row ? tokenCapStatus(store, row.personId, clock(), capOptions(config)) : undefined;
      },
      async history(id, limit = 200) {
        return (await store.listRefreshHistory(id, limit)).map(refreshRecord);
      },
      revokeAtWebex: (id) => revokeAtWebex(reconcileDeps, id),
    },
    identities,
    apiKeys: withKeyEvents(createApiKeys(store, clock, options.apiKeyCache)),
    webhooks: createWebhookEndpoints({
      store,
      ring,
      clock,
      sender: webhooks,
      allowPrivate: config.allowPrivateWebhooks === true,
      team: (config as Partial<Config>).accessMode === 'team',
      lookup: options.webhookLookup,
    }),
    // Who did what, when, from where (audit.ts): no secret ever, kept AUDIT_RETENTION_DAYS.
    audit: createAudit(store, clock, config.auditRetentionDays),
    rotateKeys: (onProgress) => rotateKeys({ store, ring, clock }, onProgress),
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
        Math.max(60, (config as Partial<Config>).reconcileInterval ?? 3600) * 1000,
      );
      reconcileTimer.unref();
    },
    stopKeepAlive() {
      if (timer) clearInterval(timer);
      timer = undefined;
      if (reconcileTimer) clearInterval(reconcileTimer);
      reconcileTimer = undefined;
    },
    sweepOnce,
    reconcile: reconcileOnce,
    async close() {
      vault.stopKeepAlive();
      await sweeping?.catch(() => {});
      await reconciling?.catch(() => {});
      // Gives webhooks in flight a moment to land; their retries do not hold the process open (timers are unref'd).
      await webhooks.close();
      if (!options.store) await store.close();
    },
  };
  return vault;
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

/** The one log line that says where the key ring came from. */
function keyMessage(keys: ResolvedKeys): string {
  if (keys.source === 'env' && keys.path) return `vault: encryption keys from WEBEX_AUTH_KEYS_FILE ${keys.path}`;
  if (keys.source === 'env') return 'vault: encryption key from WEBEX_AUTH_KEYS';
  const where = keys.account ? describeKeychainEntry(keys.account) : keys.path;
  const why = keys.keychainSkipped ? ` (not in the OS keychain: ${keys.keychainSkipped})` : '';
  return `vault: development encryption key kept in ${where}${why} (set WEBEX_AUTH_KEYS in production)`;
}
