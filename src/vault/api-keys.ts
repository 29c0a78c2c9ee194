/**
 * Broker API keys: `wak_` + 32 random bytes (base64url), shown once; stored only as a SHA-256 hash — enough for
 * 256-bit random keys, which need no password stretching — and compared in constant time.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../oauth/types.js';
import { apiKeyRecord } from './records.js';
import type { ApiKeyRow, Store } from './store/types.js';
import { type Vault, VaultError } from './types.js';

const API_KEY = /^wak_[A-Za-z0-9_-]{43}$/;

/** SHA-256 of an API key: enough for 256-bit random keys (no password stretching needed). */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** The `apiKeys` part of the vault over a store. */
export function createApiKeys(store: Store, clock: Clock): Vault['apiKeys'] {
  return {
    async create(input) {
      const name = input.name.trim();
      if (!name || name.length > 100)
        throw new VaultError('invalid_request', 'An API key needs a name of 1–100 characters.');
      for (const cid of input.connectionIds) {
        if (!(await store.getConnection(cid)))
          throw new VaultError('not_found', `No such connection: ${cid.slice(0, 64)}`);
      }
      const key = `wak_${randomBytes(32).toString('base64url')}`;
      const row: ApiKeyRow = {
        id: `key_${randomBytes(9).toString('base64url')}`,
        name,
        keyHash: hashApiKey(key),
        prefix: key.slice(0, 8),
        connectionIds: [...new Set(input.connectionIds)],
        createdAt: clock(),
        lastUsedAt: undefined,
        revokedAt: undefined,
      };
      await store.insertApiKey(row);
      return { key, record: apiKeyRecord(row) };
    },
    async verify(key) {
      if (typeof key !== 'string' || !API_KEY.test(key)) return undefined;
      const hash = hashApiKey(key);
      const row = await store.findApiKeyByHash(hash);
      // The look-up is by hash already; compare again in constant time so no timing depends on the match.
      if (!row || !timingSafeEqual(Buffer.from(row.keyHash, 'hex'), Buffer.from(hash, 'hex'))) return undefined;
      const now = clock();
      if (!row.lastUsedAt || now - row.lastUsedAt > 60_000) await store.touchApiKey(row.id, now);
      return apiKeyRecord({ ...row, lastUsedAt: now });
    },
    async list() {
      return (await store.listApiKeys()).map(apiKeyRecord);
    },
    revoke: (id) => store.revokeApiKey(id, clock()),
  };
}
