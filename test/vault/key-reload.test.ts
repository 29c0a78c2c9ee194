/**
 * WEBEX_AUTH_KEYS_FILE and `vault.reloadKeys()`: the file's format and mode check, the refusal of both key settings
 * at once, a missing key reported by id, and a reload that swaps the ring in place (or is refused, keeping the old
 * ring) — on a real SQLite vault in a temp directory.
 */
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { liveCookieSigner } from '../../src/server/access/cookie-signer.js';
import { resolveKeys } from '../../src/vault/crypto/dev-key.js';
import { KeyRing, MISSING_KEY_WINDOW_MS } from '../../src/vault/crypto/keyring.js';
import { readKeysFile } from '../../src/vault/crypto/keys-file.js';
import { openVault, type VaultInternals } from '../../src/vault/index.js';
import { LiveKeys } from '../../src/vault/key-reload.js';
import { accessSlot, refreshSlot, secretSlot } from '../../src/vault/slots.js';
import { openSqliteStore } from '../../src/vault/store/sqlite.js';
import { VaultKeyError } from '../../src/vault/types.js';
import { connectionRow, integrationRow, TEST_KEY, TEST_KEY_2, tempDir, testConfig, tokenSet } from './helpers.js';

const K1 = TEST_KEY; // test1
const K2 = TEST_KEY_2; // test2
/** test1's id with other key bytes: a ring that names the right key id but holds the wrong key. */
const K1_WRONG = `test1:${Buffer.alloc(32, 3).toString('base64')}`;
const secretOf = (entry: string) => entry.slice(entry.indexOf(':') + 1);

/** Writes a keys file with `mode` (chmod after writing: the umask does not decide). */
function writeKeys(path: string, content: string, mode = 0o600): string {
  writeFileSync(path, content);
  chmodSync(path, mode);
  return path;
}

/** A logger whose lines are kept. */
function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  return { lines, logger: createLogger({ level: 'info', destination }) };
}

describe('key ring reload (WEBEX_AUTH_KEYS_FILE)', () => {
  const cleanups: Array<() => unknown> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  function dir(): string {
    const t = tempDir();
    cleanups.push(t.cleanup);
    return t.dir;
  }

  /**
   * A "server" vault on ring test1 from a keys file, and a "CLI" vault on test2,test1 sharing its SQLite store, which
   * saves a connection under test2 (as `webex-auth login` after the rotation's first steps would).
   */
  async function fleet() {
    const d = dir();
    const db = join(d, 'v.db');
    const keysFile = writeKeys(join(d, 'keys'), K1);
    const log = capture();
    const server = await openVault(testConfig({ WEBEX_AUTH_DB: db, WEBEX_AUTH_KEYS_FILE: keysFile }), {
      logger: log.logger,
    });
    cleanups.push(() => server.close());
    const cli = await openVault(testConfig({ WEBEX_AUTH_DB: db, WEBEX_AUTH_KEYS: `${K2},${K1}` }));
    cleanups.push(() => cli.close());
    const integration = await server.integrations.upsert({
      clientId: 'C1',
      clientSecret: 'CLIENT-SECRET-CANARY',
      redirectUri: 'http://localhost:8080/oauth',
      scopes: ['spark:all'],
      apiBase: 'https://webex.test/v1',
    });
    const save = (vault: VaultInternals, person: string) =>
      vault.connections.saveFromGrant({
        integrationId: integration.id,
        tokens: tokenSet({ accessToken: `ACCESS-${person}`, refreshToken: `REFRESH-${person}` }),
        person: { id: person, emails: [`${person}@example.com`], displayName: person },
        requestedScopes: ['spark:all'],
      });
    const old = (await save(server, 'old')).id;
    const fresh = (await save(cli, 'new')).id;
    return { server, cli, keysFile, log, old, fresh };
  }

  it('names the key a value needs when the ring lacks it, and reports it for a minute (not for sessions)', () => {
    const writer = new KeyRing(`${K2},${K1}`);
    const reader = new KeyRing(K1);
    const slot = { table: 'connections', rowId: 'c1', column: 'access_token' };
    const stored = writer.encrypt('ACCESS-CANARY', slot);
    const now = Date.now();
    let error: unknown;
    try {
      reader.decrypt(stored, slot);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(VaultKeyError);
    expect(error).toMatchObject({ keyId: 'test2', code: 'vault_key' });
    expect(String((error as Error).message)).not.toContain('ACCESS-CANARY');
    expect(reader.missingKeyId(now)).toBe('test2');
    expect(reader.missingKeyId(now + MISSING_KEY_WINDOW_MS + 1_000)).toBeUndefined();
    // A wrong key (not a missing one) carries no key id: that is no temporary state.
    const wrong = new KeyRing(K1_WRONG);
    const underTest1 = new KeyRing(K1).encrypt('x', slot);
    expect(() => wrong.decrypt(underTest1, slot)).toThrow(VaultKeyError);
    expect(() => wrong.decrypt(underTest1, slot)).not.toThrow(expect.objectContaining({ keyId: 'test1' }));
    expect(wrong.missingKeyId()).toBeUndefined();
    // A session sealed under a dropped key is no session, not an alarm.
    const sessionSlot = { table: 'web_sessions', rowId: 'h', column: 'data' };
    const other = new KeyRing(K1);
    expect(() => other.decrypt(writer.encrypt('{}', sessionSlot), sessionSlot)).toThrow(VaultKeyError);
    expect(other.missingKeyId()).toBeUndefined();
    // Once the ring holds it, it is no longer reported.
    reader.replace(new KeyRing(`${K2},${K1}`).keys.slice());
    expect(reader.missingKeyId(now)).toBeUndefined();
    expect(reader.decrypt(stored, slot)).toBe('ACCESS-CANARY');
    // The existing one-argument constructor still works.
    expect(new VaultKeyError('plain').keyId).toBeUndefined();
  });

  it('reads a ring written with newlines, spaces and comments', () => {
    const d = dir();
    const path = writeKeys(join(d, 'keys'), `# rotated 2026-05-01\n  ${K2}\n\n${K1} ,\n`);
    expect(readKeysFile(path).map((k) => k.kid)).toEqual(['test2', 'test1']);
  });

  it('refuses a keys file open to other users, like ssh (at start and at reload), naming the mode', async () => {
    const d = dir();
    const path = writeKeys(join(d, 'keys'), K1, 0o644);
    let error: unknown;
    try {
      readKeysFile(path);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(/mode 0644.*chmod 600/);
    expect((error as Error).message).not.toContain(secretOf(K1));
    expect((error as Error).message.split('\n')).toHaveLength(1);
    chmodSync(path, 0o640);
    expect(() => readKeysFile(path)).toThrow(/mode 0640/);
    await expect(
      openVault(testConfig({ WEBEX_AUTH_DB: join(d, 'v.db'), WEBEX_AUTH_KEYS_FILE: path })),
    ).rejects.toBeInstanceOf(ConfigError);
  });

  it('names the file and the entry of a malformed ring, never a key', () => {
    const d = dir();
    const path = writeKeys(join(d, 'keys'), `${K2}\nbroken-${secretOf(K1)}\n`);
    expect(() => readKeysFile(path)).toThrow(VaultKeyError);
    try {
      readKeysFile(path);
    } catch (err) {
      expect((err as Error).message).toContain(`WEBEX_AUTH_KEYS_FILE ${path} entry 2`);
      expect((err as Error).message).not.toContain(secretOf(K1));
      expect((err as Error).message).not.toContain(secretOf(K2));
    }
    expect(() => readKeysFile(writeKeys(join(d, 'empty'), '# nothing yet\n'))).toThrow(/is empty/);
    expect(() => readKeysFile(join(d, 'absent'))).toThrow(ConfigError);
  });

  it('refuses WEBEX_AUTH_KEYS and WEBEX_AUTH_KEYS_FILE together', async () => {
    const d = dir();
    const path = writeKeys(join(d, 'keys'), K1);
    const config = testConfig({ WEBEX_AUTH_DB: join(d, 'v.db'), WEBEX_AUTH_KEYS: K1, WEBEX_AUTH_KEYS_FILE: path });
    await expect(resolveKeys(config, { storeHasSecrets: async () => false })).rejects.toThrow(
      /WEBEX_AUTH_KEYS and WEBEX_AUTH_KEYS_FILE are both set/,
    );
    await expect(openVault(config)).rejects.toMatchObject({ name: 'ConfigError', setting: 'WEBEX_AUTH_KEYS_FILE' });
  });

  it('meets data under a key it lacks as a VaultKeyError naming it, then reloads the ring in place', async () => {
    const { server, keysFile, log, old, fresh } = await fleet();
    const cookie = server.deriveKeys('session cookie');
    const csrf = server.deriveKeys('csrf');
    const signer = liveCookieSigner(cookie);
    const signedBefore = signer.sign('session-id');
    expect(cookie[0]).toEqual(new KeyRing(K1).deriveKeys('session cookie')[0]);
    expect((await server.connections.getFreshToken(old)).accessToken).toBe('ACCESS-old');
    await expect(server.connections.getFreshToken(fresh)).rejects.toMatchObject({
      name: 'VaultKeyError',
      keyId: 'test2',
    });
    expect(server.missingKeyId()).toBe('test2');

    writeKeys(keysFile, `${K2}\n${K1}\n`);
    await expect(server.reloadKeys()).resolves.toEqual({ keyIds: ['test2', 'test1'], path: keysFile });
    expect(server.missingKeyId()).toBeUndefined();
    expect((await server.connections.getFreshToken(fresh)).accessToken).toBe('ACCESS-new');
    expect((await server.connections.revealTokens(fresh))?.refreshToken).toBe('REFRESH-new');
    // The derived keys handed out at start follow: the same arrays, now test2's first and test1's kept.
    const both = new KeyRing(`${K2},${K1}`);
    expect(server.deriveKeys('session cookie')).toBe(cookie);
    expect(cookie).toEqual(both.deriveKeys('session cookie'));
    expect(csrf).toEqual(both.deriveKeys('csrf'));
    expect(signer.unsign(signedBefore)).toMatchObject({ valid: true, renew: true, value: 'session-id' });
    expect(signer.sign('session-id')).not.toBe(signedBefore);
    // New secrets are sealed under the new active key; rotation through the reloaded ring moves the rest.
    expect((await server.rotateKeys()).done).toBeGreaterThan(0);
    expect(await server.store.countNotUnderKey('test2')).toBe(0);

    const all = log.lines.join('');
    const reloaded = log.lines.filter((l) => l.includes('key ring reloaded'));
    expect(reloaded).toHaveLength(1);
    expect(reloaded[0]).toContain('test2, test1');
    for (const s of [secretOf(K1), secretOf(K2), 'ACCESS-', 'REFRESH-', 'CLIENT-SECRET-CANARY']) {
      expect(all).not.toContain(s);
    }
  });

  it('refuses a malformed file, a 0644 file, one dropping a used key or holding a wrong key; keeps the old ring', async () => {
    const { server, cli, keysFile, log, old } = await fleet();
    const cookie = [...server.deriveKeys('session cookie')];
    const cases: Array<[string, number, RegExp]> = [
      [`${K1}\ntest2:not-base64`, 0o600, /entry 2 is not "kid:base64"/],
      [`${K2}\n${K1}`, 0o644, /mode 0644/],
      // Drops test2, which the CLI's connection is sealed under.
      [K1, 0o600, /lacks key "test2", which stored data is still encrypted under/],
      // Drops test1, which the server's own rows are still sealed under.
      [K2, 0o600, /lacks key "test1"/],
      [`${K2}\n${K1_WRONG}`, 0o600, /Key "test1" in .* is not the key stored data was encrypted with/],
    ];
    for (const [content, mode, refusal] of cases) {
      writeKeys(keysFile, content, mode);
      await expect(server.reloadKeys()).rejects.toThrow(refusal);
      // The old ring stays: test1 data opens, test2 data is still missing, the derived keys are unchanged.
      expect((await server.connections.getFreshToken(old)).accessToken).toBe('ACCESS-old');
      expect(server.deriveKeys('session cookie')).toEqual(cookie);
    }
    const errors = log.lines.filter((l) => l.includes('key ring reload refused'));
    expect(errors).toHaveLength(cases.length);
    for (const e of errors) {
      expect(JSON.parse(e).level).toBe(50);
      expect(e).toContain('the ring in use (test1) is kept');
    }
    const all = log.lines.join('');
    for (const s of [secretOf(K1), secretOf(K2), secretOf(K1_WRONG)]) expect(all).not.toContain(s);
    // After the CLI rotated every row to test2, dropping test1 is allowed.
    await cli.rotateKeys();
    // The SQLite store reads another connection's commits once per event-loop turn (sqlite.ts changeStamp): let
    // one pass, as one would between two requests.
    await new Promise((r) => setImmediate(r));
    writeKeys(keysFile, K2);
    await expect(server.reloadKeys()).resolves.toMatchObject({ keyIds: ['test2'] });
    expect((await server.connections.getFreshToken(old)).accessToken).toBe('ACCESS-old');
  });

  it('checks the stored key ids a page at a time, through the last page', async () => {
    const d = dir();
    const store = await openSqliteStore(join(d, 'v.db'));
    cleanups.push(() => store.close());
    const k1 = new KeyRing(K1);
    const k2 = new KeyRing(K2);
    await store.upsertIntegration(integrationRow({ secretEnc: k1.encrypt('s', secretSlot('int_1')), keyId: 'test1' }));
    // Seven connections by id: the first six under test1, the last (alone on the third page of three) under test2.
    for (let i = 1; i <= 7; i++) {
      const id = `conn_${i}`;
      const ring = i === 7 ? k2 : k1;
      await store.upsertConnection(
        connectionRow({
          id,
          personId: `p${i}`,
          accessTokenEnc: ring.encrypt(`A${i}`, accessSlot(id)),
          refreshTokenEnc: ring.encrypt(`R${i}`, refreshSlot(id)),
          keyId: ring.activeKeyId,
        }),
      );
    }
    let pages = 0;
    const keysFile = writeKeys(join(d, 'keys'), K1);
    const live = new LiveKeys({
      ring: new KeyRing(K1),
      // No listing of every connection: only pages.
      store: {
        listIntegrations: (owner) => store.listIntegrations(owner),
        pageConnections: (page) => {
          pages++;
          return store.pageConnections(page);
        },
      },
      keysFile,
      pageSize: 3,
    });
    await expect(live.reload()).rejects.toThrow(/lacks key "test2"/);
    expect(pages).toBe(3);
    writeKeys(keysFile, `${K2}\n${K1}`);
    await expect(live.reload()).resolves.toMatchObject({ keyIds: ['test2', 'test1'] });
  });

  it('refuses to reload without WEBEX_AUTH_KEYS_FILE', async () => {
    const d = dir();
    const vault = await openVault(testConfig({ WEBEX_AUTH_DB: join(d, 'v.db'), WEBEX_AUTH_KEYS: K1 }));
    cleanups.push(() => vault.close());
    await expect(vault.reloadKeys()).rejects.toMatchObject({ name: 'ConfigError', setting: 'WEBEX_AUTH_KEYS_FILE' });
  });
});
