/**
 * The one-shot reader of `webex-auth token` (src/vault/token-reader.ts) on a real SQLite store: a store of a few
 * connections is listed whole, as the vault lists it; a store of many gives only the connection the CLI picks without
 * `--connection` (the local operator's most recently updated) and the one a `--connection` id names, never a read of
 * every row.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { pickConnection } from '../../src/cli/context.js';
import { KeyRing } from '../../src/vault/crypto/keyring.js';
import { connectionOf } from '../../src/vault/records.js';
import { accessSlot, refreshSlot, secretSlot } from '../../src/vault/slots.js';
import { openSqliteStore } from '../../src/vault/store/sqlite.js';
import { openTokenReader } from '../../src/vault/token-reader.js';
import { connectionRow, integrationRow, TEST_KEY, tempDir, testConfig } from './helpers.js';

describe('the one-shot token reader', () => {
  const cleanups: Array<() => unknown> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  /**
   * A store of `n` connections (ids by creation order); the local operator's most recently updated is `conn_2`, and
   * another owner's row is more recent still.
   */
  async function storeOf(n: number, wanted?: string) {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const path = join(t.dir, 'v.db');
    const store = await openSqliteStore(path);
    cleanups.push(() => store.close());
    const ring = new KeyRing(TEST_KEY);
    await store.upsertIntegration(
      integrationRow({ secretEnc: ring.encrypt('s', secretSlot('int_1')), keyId: 'test1' }),
    );
    for (let i = 0; i < n; i++) {
      const id = `conn_${String(i).padStart(3, '0')}`;
      const updatedAt = i === 2 ? 5000 : i === n - 1 ? 9000 : 2000 + i;
      await store.upsertConnection(
        connectionRow({
          id,
          ownerId: i === n - 1 ? 'acct_x' : 'local',
          personId: `p${i}`,
          personEmail: `p${i}@example.com`,
          personEmails: [`p${i}@example.com`],
          accessTokenEnc: ring.encrypt(`ACCESS-${i}`, accessSlot(id)),
          refreshTokenEnc: ring.encrypt(`REFRESH-${i}`, refreshSlot(id)),
          keyId: 'test1',
          accessExpiresAt: Date.now() + 3_600_000,
          createdAt: 1000 + i,
          updatedAt,
        }),
      );
    }
    const reader = await openTokenReader(
      testConfig({ WEBEX_AUTH_DB: path, WEBEX_AUTH_KEYS: TEST_KEY }),
      Date.now,
      wanted,
    );
    if (!reader) throw new Error('a SQLite store must get a token reader');
    cleanups.push(() => reader.close());
    return { store, reader };
  }

  it('lists a few connections whole, as the vault lists them', async () => {
    const { store, reader } = await storeOf(4);
    const all = (await store.listConnections()).map(connectionOf);
    const listed = await reader.connections.list();
    expect(listed.map((c) => c.id)).toEqual(all.map((c) => c.id));
    expect(pickConnection(listed, 'p3@example.com').id).toBe('conn_003');
  });

  it('of many connections reads only the default pick, the one the full list gives', async () => {
    const { store, reader } = await storeOf(120);
    const listed = await reader.connections.list();
    expect(listed.map((c) => c.id)).toEqual(['conn_002']);
    const all = (await store.listConnections()).map(connectionOf);
    expect(pickConnection(listed, undefined).id).toBe(pickConnection(all, undefined).id);
    expect(await reader.freshToken('conn_002', 60)).toMatchObject({ accessToken: 'ACCESS-2' });
  });

  it('of many connections also reads the one a --connection id names, and serves it', async () => {
    const { reader } = await storeOf(120, 'conn_077');
    const listed = await reader.connections.list();
    expect(listed.map((c) => c.id)).toEqual(['conn_002', 'conn_077']);
    expect(pickConnection(listed, 'conn_077').id).toBe('conn_077');
    expect(await reader.freshToken('conn_077', 60)).toMatchObject({ accessToken: 'ACCESS-77' });
  });
});
