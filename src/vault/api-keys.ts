/**
 * Broker API keys: `wak_` + 32 random bytes (base64url), shown once; stored only as a SHA-256 hash — enough for
 * 256-bit random keys, which need no password stretching — and compared in constant time.
 *
 * Each key has permissions (`token`, `refresh`, `proxy`, `delete`, `guests`; `token` by default): a key made before
 * permissions existed has none stored and keeps the powers it had (`LEGACY_KEY_PERMISSIONS`) until narrowed.
 *
 * Verified keys are cached in memory for a few seconds (see {@link ApiKeyCacheOptions}), so the broker's hot path
 * does not read the store on every request.
 */
import { hash as digest, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../oauth/types.js';
import { BoundedCache } from './bounded-cache.js';
import { ownerOf } from './owners.js';
import { apiKeyRecord, validKeyMethods, validKeyPaths, validKeyPermissions } from './records.js';
import type { ApiKeyRow, Store } from './store/types.js';
import { type ApiKeyRecord, LOCAL_OPERATOR, type Vault, VaultError } from './types.js';
import type { WebhookSender } from './webhooks.js';

const API_KEY = /^wak_[A-Za-z0-9_-]{43}$/;
/** The length of every API key (`wak_` and 43 base64url characters, as {@link API_KEY} accepts). */
export const API_KEY_LENGTH = 'wak_'.length + 43;

/** Active API keys one signed-in account may have (the local operator is not bounded). */
export const MAX_KEYS_PER_OWNER = 100;

/** How often a key's `lastUsedAt` is written at most. */
const TOUCH_EVERY_MS = 60_000;

/** SHA-256 of an API key: enough for 256-bit random keys (no password stretching needed). */
export function hashApiKey(key: string): string {
  // One-shot `crypto.hash` (Node ≥ 20.12, and package.json asks for ≥ 20.19): no Hash object per call, on the
  // broker's every request.
  return digest('sha256', key, 'hex');
}

/** A frozen copy of `record` used at `lastUsedAt`: shared by every request served from the cache, so none can alter it. */
function frozen(record: ApiKeyRecord, lastUsedAt: number): Readonly<ApiKeyRecord> {
  return Object.freeze({
    ...record,
    connectionIds: Object.freeze([...record.connectionIds]) as string[],
    permissions: Object.freeze([...record.permissions]) as ApiKeyRecord['permissions'],
    ...(record.paths ? { paths: Object.freeze([...record.paths]) as string[] } : {}),
    ...(record.methods ? { methods: Object.freeze([...record.methods]) as string[] } : {}),
    lastUsedAt,
  });
}

/** Options of the verified-key cache of {@link createApiKeys}. */
export interface ApiKeyCacheOptions {
  /**
   * How long a verified key is trusted without reading the store again (default 5 s; 0 turns the cache off). A key
   * revoked through this vault stops at once; one revoked by *another* process (the CLI, another server) stops when
   * the store's change stamp moves — at the next request on SQLite, on the revocation's notification on PostgreSQL —
   * and at the latest after `ttlMs` (PostgreSQL while its LISTEN connection is down, or a store without a stamp).
   */
  ttlMs?: number;
  /** Most keys held (default 10,000). */
  max?: number;
}

interface CachedKey {
  record: ApiKeyRecord;
  /** `record` as of `lastUsedAt`, frozen (arrays too): what {@link Vault.apiKeys}' `cached` hands out, shared. */
  served: Readonly<ApiKeyRecord>;
  /** The store's `apiKeys` change stamp taken before the read. */
  stamp: number | undefined;
  /** Clock time after which the store is read again. */
  until: number;
  lastUsedAt: number;
}

/** What {@link createApiKeys} is wired with (by vault.ts). */
export interface ApiKeysDeps {
  store: Store;
  clock: Clock;
  /** Sends `key.created` / `key.revoked` to the key owner's endpoints. */
  webhooks: Pick<WebhookSender, 'post'>;
  /** The verified-key cache (default 5 s, 10,000 keys). */
  cache?: ApiKeyCacheOptions | undefined;
}

/** The `apiKeys` part of the vault over a store. */
export function createApiKeys(d: ApiKeysDeps): Vault['apiKeys'] {
  const { store, clock, webhooks } = d;
  const cacheOptions = d.cache ?? {};
  // SECURITY (SECURITY.md, "Broker hot-path caches"): verified keys are kept in memory, keyed by the key's SHA-256
  // (never the key itself), while the store reports no revocation by another process and for at most `ttlMs`.
  // Trade-off: when the store cannot report (PostgreSQL with its LISTEN connection down), a key revoked by another
  // process stays usable here for up to `ttlMs` (5 s by default); revocation through this vault drops it at once.
  // Only keys that verified are cached — an unknown or malformed key is never stored — and the cache is bounded, so
  // guessing keys cannot grow it.
  const ttlMs = cacheOptions.ttlMs ?? 5_000;
  const cache = new BoundedCache<string, CachedKey>(cacheOptions.max ?? 10_000);
  // Bumped by every revocation here: a verification whose store read began before a revocation must not cache the
  // row it read (it may predate the revocation).
  let revocations = 0;
  // One store read per key hash at a time: a bot's many concurrent requests with a key not (or no longer) cached
  // share one read instead of each reading the store. Keyed by hash, like the cache; bounded by requests in flight.
  const reading = new Map<string, { stamp: number | undefined; record: Promise<ApiKeyRecord | undefined> }>();

  /** The cached entry of `hash` while it may be served without the store: younger than `ttlMs`, same change stamp. */
  function fresh(hash: string, now: number, stamp: number | undefined): CachedKey | undefined {
    const hit = ttlMs > 0 ? cache.get(hash) : undefined;
    return hit && now < hit.until && hit.stamp === stamp ? hit : undefined;
  }

  /** Drops key `id` from the cache, and makes reads in flight (which may predate its revocation) unjoinable. */
  function forgetKey(id: string): void {
    revocations++;
    reading.clear();
    cache.deleteWhere((e) => e.record.id === id);
  }

  async function lookUp(hash: string, now: number, stamp: number | undefined): Promise<ApiKeyRecord | undefined> {
    const seen = revocations;
    const row = await store.findApiKeyByHash(hash);
    // The look-up is by hash already; compare again in constant time so no timing depends on the match.
    if (!row || !timingSafeEqual(Buffer.from(row.keyHash, 'hex'), Buffer.from(hash, 'hex'))) {
      cache.delete(hash);
      return undefined;
    }
    const lastUsedAt = !row.lastUsedAt || now - row.lastUsedAt > TOUCH_EVERY_MS ? now : row.lastUsedAt;
    if (lastUsedAt === now) await store.touchApiKey(row.id, now);
    const record = apiKeyRecord({ ...row, lastUsedAt: now });
    if (ttlMs > 0 && seen === revocations) {
      cache.set(hash, { record, served: frozen(record, lastUsedAt), stamp, until: now + ttlMs, lastUsedAt });
    }
    return record;
  }

  return {
    async create(input) {
      const name = input.name.trim();
      if (!name || name.length > 100)
        throw new VaultError('invalid_request', 'An API key needs a name of 1–100 characters.');
      const ownerId = ownerOf(input.ownerId);
      const permissions = validKeyPermissions(input.permissions ?? ['token']);
      const paths = input.paths === undefined ? undefined : validKeyPaths(input.paths);
      const methods = input.methods === undefined ? undefined : validKeyMethods(input.methods);
      if ((paths || methods) && !permissions.includes('proxy'))
        throw new VaultError('invalid_request', 'Paths and methods limit the "proxy" permission; the key lacks it.');
      // A bound per signed-in account: the keys page reads every key of an owner, and a member must not grow them
      // without end (revoked keys are not counted). The local operator (the CLI, local mode) holds the key ring and is
      // not bounded: a load test or a fleet may need many keys.
      if (
        ownerId !== LOCAL_OPERATOR &&
        (await store.listApiKeys(ownerId)).filter((k) => k.revokedAt === undefined).length >= MAX_KEYS_PER_OWNER
      ) {
        throw new VaultError(
          'invalid_request',
          `An owner may have at most ${MAX_KEYS_PER_OWNER} active API keys; revoke one you no longer use.`,
        );
      }
      for (const cid of input.connectionIds) {
        const connection = await store.getConnection(cid);
        // An account's key may only read that account's connections: another owner's connection is "no such
        // connection" (its existence is not revealed). The local operator may name any connection, as before owners.
        if (!connection || (ownerId !== LOCAL_OPERATOR && connection.ownerId !== ownerId))
          throw new VaultError('not_found', `No such connection: ${cid.slice(0, 64)}`);
      }
      const key = `wak_${randomBytes(32).toString('base64url')}`;
      const row: ApiKeyRow = {
        id: `key_${randomBytes(9).toString('base64url')}`,
        ownerId,
        name,
        keyHash: hashApiKey(key),
        prefix: key.slice(0, 8),
        connectionIds: [...new Set(input.connectionIds)],
        permissions,
        paths,
        methods,
        createdAt: clock(),
        lastUsedAt: undefined,
        revokedAt: undefined,
      };
      await store.insertApiKey(row);
      webhooks.post({ type: 'key.created', subjectId: row.id, at: clock(), ownerId });
      return { key, record: apiKeyRecord(row) };
    },
    async verify(key) {
      if (typeof key !== 'string' || !API_KEY.test(key)) return undefined;
      const hash = hashApiKey(key);
      const now = clock();
      // The map look-up compares SHA-256 digests of the keys, not the keys: its timing reveals nothing usable about
      // a stored key (learning a digest prefix does not help find a key that hashes to it).
      const stamp = store.changeStamp?.('apiKeys');
      const hit = fresh(hash, now, stamp);
      if (hit) {
        if (now - hit.lastUsedAt > TOUCH_EVERY_MS) {
          hit.lastUsedAt = now;
          hit.served = frozen(hit.record, now);
          await store.touchApiKey(hit.record.id, now);
        }
        return { ...hit.record, lastUsedAt: hit.lastUsedAt };
      }
      // Join a read in flight only if it began under the same stamp (one begun before a revocation elsewhere may
      // return the key as it was).
      let flight = reading.get(hash);
      if (!flight || flight.stamp !== stamp) {
        const mine = { stamp, record: lookUp(hash, now, stamp) };
        mine.record
          .finally(() => {
            if (reading.get(hash) === mine) reading.delete(hash);
          })
          .catch(() => {});
        reading.set(hash, mine);
        flight = mine;
      }
      const record = await flight.record;
      return record && { ...record };
    },
    cached(key) {
      // The same checks as `verify`'s cache hit (SHA-256, change stamp, age), with no promise: the broker's token route
      // asks this first on every request. A key whose `lastUsedAt` is due for a write is left to `verify`. Only keys
      // that verified (so of the `wak_` format) are cached, by SHA-256: a string whose hash is found is such a key, so
      // the format's pattern (~1k instructions a request) would add nothing to a hit; the length check bounds the hash.
      if (typeof key !== 'string' || key.length !== API_KEY_LENGTH) return undefined;
      const now = clock();
      const hit = fresh(hashApiKey(key), now, store.changeStamp?.('apiKeys'));
      return hit && now - hit.lastUsedAt <= TOUCH_EVERY_MS ? hit.served : undefined;
    },
    async list(ownerId) {
      return (await store.listApiKeys(ownerId)).map(apiKeyRecord);
    },
    /**
     * Replaces key `id`'s permissions (validated as in `create`; a legacy key stops being one). It takes effect at once
     * in this process: the key's verified-cache entry is dropped, as on revocation. Other processes sharing the store
     * (another server, the CLI) drop theirs within the cache's bounds (see {@link ApiKeyCacheOptions}): when the
     * store's change stamp moves, and at the latest after `ttlMs`.
     */
    async narrow(id, permissions) {
      const valid = validKeyPermissions(permissions);
      forgetKey(id);
      const changed = await store.setApiKeyPermissions(id, valid);
      forgetKey(id);
      return changed;
    },
    async revoke(id) {
      const owner = (await store.getApiKey(id))?.ownerId;
      forgetKey(id);
      const revoked = await store.revokeApiKey(id, clock());
      // Again after the write: a verification whose read overlapped the write caches nothing (`revocations` moved
      // since it began), and one that begins after this point reads the revoked row.
      forgetKey(id);
      if (revoked) webhooks.post({ type: 'key.revoked', subjectId: id, at: clock(), ownerId: owner });
      return revoked;
    },
  };
}
