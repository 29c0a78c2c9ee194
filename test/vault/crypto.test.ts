/** Envelope encryption: round trip, binding to row + column, fail-closed on a missing or wrong key, rotation. */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveKeys } from '../../src/vault/crypto/dev-key.js';
import { KeyRing, parseKeyRing } from '../../src/vault/crypto/keyring.js';
import { openVault, VaultKeyError } from '../../src/vault/index.js';
import { CANARY_INTEGRATION, TEST_KEY, TEST_KEY_2, tempDir, testConfig } from './helpers.js';

const slot = { table: 'connections', rowId: 'conn_1', column: 'access_token' };
const tokens = (now: number) => ({
  accessToken: 'ACCESS-CANARY-1234',
  refreshToken: 'REFRESH-CANARY-5678',
  tokenType: 'Bearer' as const,
  expiresAt: now + 3_600_000,
  refreshExpiresAt: now + 90 * 86_400_000,
  scopes: ['spark:all'],
  scopeReported: true,
  receivedAt: now,
});

describe('KeyRing', () => {
  const ring = new KeyRing(TEST_KEY);

  it('round-trips and never stores the plaintext', () => {
    const enc = ring.encrypt('secret-value', slot);
    expect(enc).not.toContain('secret-value');
    expect(enc.startsWith('v1:test1:')).toBe(true);
    expect(ring.decrypt(enc, slot)).toBe('secret-value');
    expect(ring.encrypt('secret-value', slot)).not.toBe(enc); // fresh data key and IV each time
  });

  it('binds the ciphertext to its row and column', () => {
    const enc = ring.encrypt('secret-value', slot);
    expect(() => ring.decrypt(enc, { ...slot, rowId: 'conn_2' })).toThrow(VaultKeyError);
    expect(() => ring.decrypt(enc, { ...slot, column: 'refresh_token' })).toThrow(VaultKeyError);
  });

  it('fails closed on a wrong key with the same id, a missing key, or tampering', () => {
    const enc = ring.encrypt('secret-value', slot);
    const wrong = new KeyRing(`test1:${Buffer.alloc(32, 1).toString('base64')}`);
    expect(() => wrong.decrypt(enc, slot)).toThrow(/not the key it was encrypted with/);
    expect(() => new KeyRing(TEST_KEY_2).decrypt(enc, slot)).toThrow(/key "test1", which is not in WEBEX_AUTH_KEYS/);
    const parts = enc.split(':');
    // One changed character at the front (the last ones may carry only padding bits, or already read "AA").
    const part = parts[5] ?? '';
    parts[5] = `${part[0] === 'A' ? 'B' : 'A'}${part.slice(1)}`;
    expect(() => ring.decrypt(parts.join(':'), slot)).toThrow(VaultKeyError);
    expect(() => ring.decrypt('plaintext', slot)).toThrow(VaultKeyError);
  });

  it('rejects malformed rings without echoing key material', () => {
    expect(() => parseKeyRing('k1:short')).toThrow(/entry 1/);
    expect(() => parseKeyRing(`${TEST_KEY},${TEST_KEY}`)).toThrow(/repeats/);
    try {
      parseKeyRing('k1:c2hvcnQ=');
    } catch (err) {
      expect(String(err)).not.toContain('c2hvcnQ');
    }
  });
});

describe('vault key handling', () => {
  const dirs: Array<() => void> = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) d();
  });

  it('keeps a generated development key in a 0600 file next to the database and says so', async () => {
    const { dir, cleanup } = tempDir();
    dirs.push(cleanup);
    const config = testConfig({ WEBEX_AUTH_DB: join(dir, 'db', 'vault.db') });
    const vault = await openVault(config);
    expect(vault.keySource).toBe('file');
    const keyFile = join(dir, 'db', 'keys');
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    const i = await vault.integrations.upsert(CANARY_INTEGRATION);
    await vault.close();
    const again = await openVault(config);
    expect((await again.getIntegrationWithSecret(i.id))?.clientSecret).toBe('SECRET-CANARY');
    await again.close();
  });

  it('refuses to invent a key in production', async () => {
    await expect(
      resolveKeys({ ...testConfig({}), production: true, keys: undefined }, { storeHasSecrets: async () => false }),
    ).rejects.toThrow(VaultKeyError);
  });

  it('fails closed at open with the wrong key, and rotation moves every secret to the new key', async () => {
    const { dir, cleanup } = tempDir();
    dirs.push(cleanup);
    const db = join(dir, 'vault.db');
    const v1 = await openVault(testConfig({ WEBEX_AUTH_DB: db, WEBEX_AUTH_KEYS: TEST_KEY }));
    const now = Date.now();
    const integ = await v1.integrations.upsert(CANARY_INTEGRATION);
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) {
      const c = await v1.connections.saveFromGrant({
        integrationId: integ.id,
        tokens: tokens(now),
        person: { id: `p${i}`, emails: [`p${i}@example.com`], displayName: `P ${i}` },
        requestedScopes: ['spark:all'],
      });
      ids.push(c.id);
    }
    await v1.close();

    await expect(openVault(testConfig({ WEBEX_AUTH_DB: db, WEBEX_AUTH_KEYS: TEST_KEY_2 }))).rejects.toThrow(
      VaultKeyError,
    );

    const both = await openVault(testConfig({ WEBEX_AUTH_DB: db, WEBEX_AUTH_KEYS: `${TEST_KEY_2},${TEST_KEY}` }));
    const seen: number[] = [];
    const result = await both.rotateKeys((p) => seen.push(p.done));
    expect(result).toEqual({ done: 8, total: 8 });
    expect(seen.at(-1)).toBe(8);
    expect((await both.rotateKeys()).total).toBe(0);
    await both.close();

    const only2 = await openVault(testConfig({ WEBEX_AUTH_DB: db, WEBEX_AUTH_KEYS: TEST_KEY_2 }));
    expect((await only2.connections.revealTokens(ids[3] as string))?.refreshToken).toBe('REFRESH-CANARY-5678');
    expect((await only2.getIntegrationWithSecret(integ.id))?.clientSecret).toBe('SECRET-CANARY');
    await only2.close();
    await expect(openVault(testConfig({ WEBEX_AUTH_DB: db, WEBEX_AUTH_KEYS: TEST_KEY }))).rejects.toThrow(
      /not in WEBEX_AUTH_KEYS/,
    );
  });
});
