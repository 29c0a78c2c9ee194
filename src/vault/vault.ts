/**
 * `openVault(config)`: the token vault's composition root. It opens the store (PostgreSQL when `DATABASE_URL` is set,
 * else SQLite at `WEBEX_AUTH_DB`) and the key ring, makes the refresher, the hot-path cache and webhooks out, and wires
 * the parts, each in its own module: connections (connections.ts), integrations, broker API keys (api-keys.ts),
 * identities, the background sweep and reconciliation (schedule.ts), and team mode's accounts, web sessions and owners.
 * The logic lives in those modules; which fields are encrypted, and how, in slots.ts.
 * The database driver is imported when the vault opens, so importing the library loads neither native SQLite nor pg.
 */
import { randomUUID } from 'node:crypto';
import type { Config } from '../config.js';
import { createAccounts } from './accounts.js';
import { type ApiKeyCacheOptions, createApiKeys } from './api-keys.js';
import { createAudit } from './audit.js';
import { backoffOptions } from './backoff.js';
import { createConnections } from './connections.js';
import { type ResolvedKeys, resolveKeys } from './crypto/dev-key.js';
import { describeKeychainEntry } from './crypto/keychain.js';
import type { KeyRing } from './crypto/keyring.js';
import { OpenedSecrets } from './crypto/opened.js';
import { createIdentities, type Identities } from './identities.js';
import { cachedIntegrationRows, createIntegrations, integrationWithSecret } from './integrations.js';
import { LiveKeys } from './key-reload.js';
import { VaultMetrics } from './metrics.js';
import { createProxyCalls } from './proxy-calls.js';
import { type ReconcileDeps, revokeAtWebex } from './reconcile.js';
import { Refresher } from './refresher.js';
import { rotateKeys } from './rotation.js';
import { createSchedule } from './schedule.js';
import { createWebSessions } from './sessions.js';
import { secretSlot } from './slots.js';
import type { Store } from './store/types.js';
import { TokenCache, type TokenCacheOptions } from './token-cache.js';
import type { OpenVaultOptions, Vault } from './types.js';
import type { WebhookLookup } from './webhook-address.js';
import { createWebhookEndpoints } from './webhook-endpoints.js';
import { createWebhookSender } from './webhooks.js';

/** Options of {@link openVault} beyond the public ones: tuning knobs for tests. */
export interface VaultTuning {
  /** Refresh lease duration (default 15 s). */
  leaseMs?: number;
  /** Waiter poll interval (default 50 ms). */
  pollMs?: number;
  /** `0`: the keep-alive sweep is not paced (tests); otherwise it runs at `KEEPALIVE_RATE`. */
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

  // Every step of a browser flow reads its integration: rows (with their ciphertext) are cached while the store reports
  // no write to integrations. Each OAuth callback opens the client secret: kept in clear beside its unchanged ciphertext.
  const integrationRow = cachedIntegrationRows(store);
  const integrationSecrets = new OpenedSecrets(ring, 100);
  const getIntegrationWithSecret: Vault['getIntegrationWithSecret'] = (id) =>
    integrationWithSecret({ row: integrationRow, ring: integrationSecrets }, id);

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
    freshToken: async (id) => (await connections.getFreshToken(id)).accessToken,
    markNeedsReauth: (id, reason) => connections.markNeedsReauth(id, reason),
    forget: (id) => tokens.forget(id),
  };
  // The keep-alive sweep and the reconciliation, in the background (schedule.ts).
  const schedule = createSchedule({
    config,
    sweep: {
      store,
      refresher,
      clock,
      instanceId,
      logger,
      ...(options.keepAliveJitterMs === 0 ? { rate: Number.POSITIVE_INFINITY } : {}),
    },
    reconcile: reconcileDeps,
  });

  // Grants stored as connections, and the tokens they serve (connections.ts).
  const connections = createConnections({
    config,
    store,
    ring,
    clock,
    logger,
    webhooks,
    refresher,
    tokens,
    metrics,
    revokeAtWebex: (id) => revokeAtWebex(reconcileDeps, id),
  });

  // Bots, Service Apps and guest tokens (identities.ts), over this vault's connections (read when called).
  const identities: Identities = createIdentities({
    store,
    ring,
    clock,
    fetch: options.fetch,
    instanceId,
    connections: {
      saveFromGrant: (input) => connections.saveFromGrant(input),
      getFreshToken: (id, min) => connections.getFreshToken(id, min),
      markNeedsReauth: (id, reason) => connections.markNeedsReauth(id, reason),
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
    integrations: createIntegrations({ store, ring, clock, row: integrationRow }),
    accounts: createAccounts(store, clock),
    sessions: createWebSessions(store, ring, clock),
    deriveKeys: (purpose) => live.deriveKeys(purpose),
    reloadKeys: () => live.reload(),
    missingKeyId: () => ring.missingKeyId(),
    getIntegrationWithSecret,
    writeTogether: (fn) => store.writeTogether(fn),
    connections,
    identities,
    proxyCalls: createProxyCalls({ store, clock, logger }),
    apiKeys: createApiKeys({ store, clock, webhooks, cache: options.apiKeyCache }),
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
    startKeepAlive: (opts) => schedule.startKeepAlive(opts),
    stopKeepAlive: () => schedule.stopKeepAlive(),
    sweepOnce: () => schedule.sweepOnce(),
    reconcile: () => schedule.reconcile(),
    async close() {
      await schedule.close();
      // Gives webhooks in flight a moment to land; their retries do not hold the process open (timers are unref'd).
      await webhooks.close();
      await vault.proxyCalls.close();
      if (!options.store) await store.close();
    },
  };
  return vault;
}

/** The one log line that says where the key ring came from. */
function keyMessage(keys: ResolvedKeys): string {
  if (keys.source === 'env' && keys.path) return `vault: encryption keys from WEBEX_AUTH_KEYS_FILE ${keys.path}`;
  if (keys.source === 'env') return 'vault: encryption key from WEBEX_AUTH_KEYS';
  const where = keys.account ? describeKeychainEntry(keys.account) : keys.path;
  const why = keys.keychainSkipped ? ` (not in the OS keychain: ${keys.keychainSkipped})` : '';
  return `vault: development encryption key kept in ${where}${why} (set WEBEX_AUTH_KEYS in production)`;
}
