/**
 * Broker API key permissions (issue 16 row 2) and the limit on failed key guesses per client address (row 12), over a
 * real SQLite vault in a temp dir and the real emulator (refreshes reach it). The store is the real SQLite store,
 * wrapped only to count its API-key look-ups.
 */
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningEmulator, startEmulator } from '../../src/emulator/index.js';
import { type BrokerVault, brokerRoutes } from '../../src/server/routes/api/index.js';
import {
  hashApiKey,
  LEGACY_KEY_PERMISSIONS,
  openSqliteStore,
  openVault,
  type Store,
  type VaultInternals,
} from '../../src/vault/index.js';
import { grantFromEmulator, refreshGrants, TEST_INTEGRATION, testSeed } from '../vault/emulator-grant.js';
import { TEST_KEY, tempDir, testConfig } from '../vault/helpers.js';

/** A well-formed key nobody made. */
const randomKey = () => `wak_${Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64url')}`;
/** `key` with its last character changed: the right prefix, the wrong rest. */
const nearMiss = (key: string) => `${key.slice(0, -1)}${key.endsWith('A') ? 'B' : 'A'}`;

describe('broker API key permissions and failed-guess limit', () => {
  let emulator: RunningEmulator;
  let vault: VaultInternals;
  let store: Store;
  let app: FastifyInstance;
  let cleanup: () => void;
  /** The connection every key below may use (the emulator's Alice). */
  let alice: string;
  /** Store look-ups of API keys (by hash) so far. */
  let lookups = 0;

  /** A connection of the emulator's Alice from a fresh grant (another owner: another row, e.g. one to delete). */
  async function connect(ownerId?: string): Promise<string> {
    const grant = await grantFromEmulator(emulator.apiBase);
    const integration = await vault.integrations.upsert({ ...grant.integration, scopes: TEST_INTEGRATION.scopes });
    const c = await vault.connections.saveFromGrant({
      ...(ownerId ? { ownerId } : {}),
      integrationId: integration.id,
      tokens: grant.tokens,
      person: grant.person,
      requestedScopes: TEST_INTEGRATION.scopes,
    });
    return c.id;
  }

  beforeAll(async () => {
    emulator = await startEmulator({ seed: testSeed, autoConsent: 'alice@example.com' });
    const t = tempDir();
    cleanup = t.cleanup;
    const config = testConfig({
      WEBEX_AUTH_DB: join(t.dir, 'v.db'),
      WEBEX_AUTH_KEYS: TEST_KEY,
      FORCED_REFRESH_MIN_INTERVAL: '0',
    });
    const real = await openSqliteStore(config.dbPath);
    store = new Proxy(real, {
      get(target, prop) {
        if (prop === 'findApiKeyByHash') {
          return (hash: string) => {
            lookups++;
            return target.findApiKeyByHash(hash);
          };
        }
        const value = Reflect.get(target, prop, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    vault = await openVault(config, { store, retryBaseDelayMs: 1 });
    alice = await connect();
    app = Fastify();
    await app.register(brokerRoutes, { vault, config, rateLimit: { burst: 10_000, perSecond: 1000 } });
    await app.ready();
  });
  afterAll(async () => {
    await app?.close();
    await vault?.close();
    await store?.close();
    await emulator?.close();
    cleanup?.();
  });

  const call = (method: 'GET' | 'POST' | 'DELETE', url: string, key: string, remoteAddress = '198.51.100.1') =>
    app.inject({ method, url, remoteAddress, headers: { authorization: `Bearer ${key}` } });
  const token = (key: string, id = alice) => call('GET', `/api/v1/connections/${id}/token`, key);
  const refresh = (key: string, id = alice) => call('POST', `/api/v1/connections/${id}/refresh`, key);
  const remove = (key: string, id: string) => call('DELETE', `/api/v1/connections/${id}`, key);

  /** A key for `connectionIds` with `permissions` (undefined: the default). */
  const keyWith = async (permissions?: ('token' | 'refresh' | 'delete' | 'proxy' | 'guests')[], ids = [alice]) =>
    vault.apiKeys.create({ name: 'bot', connectionIds: ids, ...(permissions ? { permissions } : {}) });

  /** A key as made before permissions existed: its row has no permissions (NULL). */
  async function legacyKey(ids = [alice]): Promise<{ key: string; id: string }> {
    const key = randomKey();
    const id = `key_legacy_${lookups}_${Date.now()}`;
    await store.insertApiKey({
      id,
      ownerId: 'local',
      name: 'old bot',
      keyHash: hashApiKey(key),
      prefix: key.slice(0, 8),
      connectionIds: ids,
      createdAt: Date.now(),
      lastUsedAt: undefined,
      revokedAt: undefined,
    });
    return { key, id };
  }

  const expectForbidden = (res: Awaited<ReturnType<typeof call>>, permission: string) => {
    expect(res.statusCode).toBe(403);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.json()).toMatchObject({
      code: 'forbidden',
      detail: `This API key lacks the "${permission}" permission.`,
    });
  };

  describe('row 2: a key does only what its permissions allow', () => {
    it('a new key gets `token` only: it reads tokens, and its DELETE is 403 naming `delete` (the connection stays)', async () => {
      const { key, record } = await keyWith();
      expect(record).toMatchObject({ permissions: ['token'], legacy: false });
      expect((await token(key)).statusCode).toBe(200);
      expectForbidden(await remove(key, alice), 'delete');
      expect((await vault.connections.get(alice))?.status).toBe('active');
      expect((await token(key)).statusCode).toBe(200);
    });

    it('403 names the missing permission on the token and refresh routes too', async () => {
      const { key } = await keyWith(['delete']);
      const before = await refreshGrants(emulator.url);
      expectForbidden(await token(key), 'token');
      expectForbidden(await refresh(key), 'refresh');
      expect(await refreshGrants(emulator.url)).toBe(before);
    });

    it('any key may list its connections, whatever its permissions', async () => {
      const { key } = await keyWith(['delete']);
      const res = await call('GET', '/api/v1/connections', key);
      expect(res.statusCode).toBe(200);
      expect(res.json().connections.map((c: { id: string }) => c.id)).toEqual([alice]);
    });

    it('a key with `refresh` forces a refresh at the emulator, and the audit log records it', async () => {
      const { key, record } = await keyWith(['token', 'refresh']);
      const before = await refreshGrants(emulator.url);
      const res = await refresh(key);
      expect(res.statusCode).toBe(200);
      expect(await refreshGrants(emulator.url)).toBe(before + 1);
      const entries = await vault.audit.list();
      expect(entries.find((e) => e.action === 'refresh.forced' && e.actor.id === record.id)).toMatchObject({
        actor: { kind: 'key', id: record.id, label: record.prefix },
        target: alice,
        ownerId: 'local',
        address: '198.51.100.1',
      });
    });

    it('a legacy key (no permissions stored) keeps token, refresh and delete, and is shown as legacy', async () => {
      const victim = await connect('acct_legacy');
      const { key, id } = await legacyKey([alice, victim]);
      const listed = (await vault.apiKeys.list()).find((k) => k.id === id);
      expect(listed).toMatchObject({ legacy: true, permissions: [...LEGACY_KEY_PERMISSIONS] });
      expect((await token(key)).statusCode).toBe(200);
      expect((await refresh(key)).statusCode).toBe(200);
      expect((await remove(key, victim)).statusCode).toBe(204);
      expect(await vault.connections.get(victim)).toBeUndefined();
    });

    it('a key with `delete` deletes its connection, recorded in the audit log with the connection owner', async () => {
      const victim = await connect('acct_victim');
      const { key, record } = await keyWith(['delete'], [victim]);
      expect((await remove(key, victim)).statusCode).toBe(204);
      expect(await vault.connections.get(victim)).toBeUndefined();
      expect((await remove(key, victim)).statusCode).toBe(404);
      const entries = await vault.audit.list({ ownerId: 'acct_victim' });
      expect(entries.find((e) => e.action === 'connection.delete')).toMatchObject({
        actor: { kind: 'key', id: record.id },
        target: victim,
        ownerId: 'acct_victim',
      });
    });

    it('narrow takes effect at once, even for a key this process has just verified (and cached)', async () => {
      const { key, id } = await legacyKey();
      expect((await token(key)).statusCode).toBe(200); // now in the verified-key cache
      expect((await refresh(key)).statusCode).toBe(200);
      expect(await vault.apiKeys.narrow(id, ['token'])).toBe(true);
      expectForbidden(await refresh(key), 'refresh');
      expect((await token(key)).statusCode).toBe(200);
      expect((await vault.apiKeys.list()).find((k) => k.id === id)).toMatchObject({
        legacy: false,
        permissions: ['token'],
      });
      expect(await vault.apiKeys.narrow(id, ['refresh'])).toBe(true);
      expectForbidden(await token(key), 'token');
      await vault.apiKeys.revoke(id);
      expect(await vault.apiKeys.narrow(id, ['token'])).toBe(false);
      expect(await vault.apiKeys.narrow('key_nope', ['token'])).toBe(false);
    });

    it('refuses bad permissions, paths and methods with invalid_request naming the value', async () => {
      const bad: Array<[Record<string, unknown>, RegExp]> = [
        [{ permissions: [] }, /non-empty/],
        [{ permissions: ['admin'] }, /"admin"/],
        [{ permissions: ['token', 'token'] }, /twice/],
        [{ permissions: 'token' }, /list/],
        [{ permissions: ['proxy'], paths: ['../admin'] }, /paths/],
        [{ permissions: ['proxy'], paths: ['Rooms'] }, /paths/],
        [{ permissions: ['proxy'], paths: ['rooms//x'] }, /paths/],
        [{ permissions: ['proxy'], methods: ['TRACE'] }, /"TRACE"/],
        [{ permissions: ['proxy'], methods: ['get'] }, /methods/],
        [{ permissions: ['token'], paths: ['rooms'] }, /proxy/],
      ];
      for (const [extra, message] of bad) {
        await expect(
          vault.apiKeys.create({ name: 'bad', connectionIds: [alice], ...extra } as never),
          JSON.stringify(extra),
        ).rejects.toMatchObject({ code: 'invalid_request', message: expect.stringMatching(message) });
      }
      await expect(vault.apiKeys.narrow('key_x', ['root' as never])).rejects.toMatchObject({
        code: 'invalid_request',
      });
      const ok = await vault.apiKeys.create({
        name: 'proxy',
        connectionIds: [alice],
        permissions: ['proxy', 'token'],
        paths: ['rooms', 'messages'],
        methods: ['GET', 'POST'],
      });
      expect(ok.record).toMatchObject({
        permissions: ['token', 'proxy'],
        paths: ['rooms', 'messages'],
        methods: ['GET', 'POST'],
      });
      expect((await vault.apiKeys.verify(ok.key))?.paths).toEqual(['rooms', 'messages']);
    });

    it('a failing audit log never fails the request', async () => {
      const failing: BrokerVault = {
        connections: vault.connections,
        apiKeys: vault.apiKeys,
        audit: { ...vault.audit, record: () => Promise.reject(new Error('audit store down')) },
      };
      const other = Fastify();
      await other.register(brokerRoutes, { vault: failing, config: { keepaliveDays: 30 } });
      const { key } = await keyWith(['refresh']);
      const res = await other.inject({
        method: 'POST',
        url: `/api/v1/connections/${alice}/refresh`,
        headers: { authorization: `Bearer ${key}` },
      });
      expect(res.statusCode).toBe(200);
      await other.close();
    });
  });

  describe('row 12: failed key guesses are limited per client address', () => {
    it('1,000 guessed keys from one address: all but the first 20 get 429 + Retry-After; the valid key from that address is still served', async () => {
      const { key } = await keyWith();
      const attacker = '203.0.113.7';
      const at = (k: string, address: string) => call('GET', `/api/v1/connections/${alice}/token`, k, address);
      const before = lookups;
      const statuses: number[] = [];
      const retryAfter = new Set<string>();
      // In waves of 100 parallel requests: the failures are counted as they come back, so the burst holds for them too.
      for (let wave = 0; wave < 10; wave++) {
        const res = await Promise.all(
          // Half near misses (the right prefix, a wrong rest), half random keys; all different.
          Array.from({ length: 100 }, (_, i) =>
            at(i % 2 ? randomKey() : `${key.slice(0, 30)}${randomKey().slice(30)}`, attacker),
          ),
        );
        for (const r of res) {
          statuses.push(r.statusCode);
          if (r.statusCode === 429) {
            expect(r.json().code).toBe('rate_limited');
            retryAfter.add(String(r.headers['retry-after']));
          }
        }
      }
      expect(statuses.filter((s) => s === 401)).toHaveLength(20);
      expect(statuses.filter((s) => s === 429)).toHaveLength(980);
      expect([...retryAfter].every((s) => Number(s) >= 1)).toBe(true);
      // Each guess cost exactly one look-up, whatever it looked like.
      expect(lookups - before).toBe(1000);
      // A bot with a valid key behind the same address (a NAT, a proxy) is not locked out by the guesser …
      expect((await at(key, attacker)).statusCode).toBe(200);
      // … and neither is another address.
      expect((await at(key, '192.0.2.9')).statusCode).toBe(200);
      expect((await at(randomKey(), attacker)).statusCode).toBe(429);
    });

    it("a bot's burst of 200 concurrent requests with one new (uncached) key from one address is served in full", async () => {
      const { key } = await keyWith();
      const before = lookups;
      const res = await Promise.all(
        Array.from({ length: 200 }, () => call('GET', `/api/v1/connections/${alice}/token`, key, '192.0.2.200')),
      );
      expect(res.map((r) => r.statusCode)).toEqual(Array(200).fill(200));
      expect(lookups - before).toBe(1);
    });

    it('groups IPv6 clients per /64', async () => {
      const { key } = await keyWith();
      const at = (k: string, address: string) => call('GET', `/api/v1/connections/${alice}/token`, k, address);
      for (let i = 0; i < 20; i++) expect((await at(randomKey(), '2001:db8:1:2::1')).statusCode).toBe(401);
      expect((await at(randomKey(), '2001:db8:1:2:ffff::9')).statusCode).toBe(429); // the same /64
      expect((await at(randomKey(), '2001:db8:1:3::1')).statusCode).toBe(401); // the next /64
      expect((await at(key, '2001:db8:1:2:ffff::9')).statusCode).toBe(200); // a valid key is always served
    });

    it('valid keys spend nothing: after 100 good requests an address still has its 20 failures', async () => {
      const { key } = await keyWith();
      const address = '192.0.2.50';
      for (let i = 0; i < 100; i++) {
        expect((await call('GET', `/api/v1/connections/${alice}/token`, key, address)).statusCode).toBe(200);
      }
      const codes: number[] = [];
      for (let i = 0; i < 21; i++) {
        codes.push((await call('GET', `/api/v1/connections/${alice}/token`, randomKey(), address)).statusCode);
      }
      expect(codes).toEqual([...Array(20).fill(401), 429]);
    });

    it('a near miss and a random key do the same work: one store look-up each', async () => {
      const { key } = await keyWith();
      const address = '192.0.2.77';
      const cost = async (k: string) => {
        const before = lookups;
        const res = await call('GET', `/api/v1/connections/${alice}/token`, k, address);
        expect(res.statusCode).toBe(401);
        return lookups - before;
      };
      expect(await cost(nearMiss(key))).toBe(1);
      expect(await cost(randomKey())).toBe(1);
      expect(await cost(`${key.slice(0, 30)}${randomKey().slice(30)}`)).toBe(1);
      // Not even a key's shape: rejected before hashing (its format is public; nothing about any key is learnt).
      expect(await cost('not-a-key')).toBe(0);
    });
  });
});
