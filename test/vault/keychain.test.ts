/**
 * The development key in the OS keychain, against a real Secret Service (GNOME Keyring on a private D-Bus session bus):
 * where a new key goes, that the key file then only points to it, that processes starting at once agree on one key,
 * and that every way the keychain can fail either falls back to the file (new key) or stops with a clear error
 * (existing key) — never a second key for a store that has one.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { resolveKeys } from '../../src/vault/crypto/dev-key.js';
import { keychainEntry } from '../../src/vault/crypto/keychain.js';
import type { SecretSlot } from '../../src/vault/crypto/keyring.js';
import { openVault, VaultKeyError } from '../../src/vault/index.js';
import { CANARY_INTEGRATION, tempDir, testConfig, tokenSet } from './helpers.js';
import { type SecretService, secretServiceAvailable, startSecretService } from './secret-service.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const available = secretServiceAvailable();

describe.skipIf(!available)('development key in the OS keychain', () => {
  const cleanups: Array<() => unknown> = [];
  /** This process's keychain: libdbus reads the session bus address once per process, so one bus serves the file. */
  let service: SecretService;
  const saved = { ...process.env };
  beforeAll(async () => {
    service = await startSecretService({ unlocked: true });
    Object.assign(process.env, service.env);
  });
  afterAll(async () => {
    await service?.stop();
    for (const k of Object.keys(service?.env ?? {})) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  });
  /** Resolves the key of an empty store (or of one holding secrets) in this process. */
  const resolve = (config: Parameters<typeof resolveKeys>[0], hasSecrets = false) =>
    resolveKeys(config, { storeHasSecrets: async () => hasSecrets });
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  function store(extra: Record<string, string> = {}) {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const dbPath = join(dir, 'db', 'vault.db');
    return {
      keyFile: join(dir, 'db', 'keys'),
      config: testConfig({ WEBEX_AUTH_DB: dbPath, WEBEX_AUTH_KEYCHAIN: 'auto', ...extra }),
    };
  }

  /** Resolves the key of `dbPath` in a child process reaching the keychain through `bus` (and other settings). */
  async function resolveInChild(dbPath: string, bus: Record<string, string>): Promise<Record<string, unknown>> {
    const env = {
      ...process.env,
      DIST: join(ROOT, 'dist'),
      WEBEX_AUTH_DB: dbPath,
      WEBEX_AUTH_KEYCHAIN: 'auto',
      WEBEX_AUTH_KEYS: '',
      ...bus,
    };
    const child = spawn(process.execPath, [join(ROOT, 'test', 'vault', 'fixtures', 'resolve-key.mjs')], { env });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const code = await new Promise((res) => child.on('exit', res));
    if (code !== 0 && code !== 3) throw new Error(`resolve-key exited ${code}: ${err}`);
    return JSON.parse(out);
  }

  it('keeps a new key in the keychain; the key file only names the entry', async () => {
    const { config, keyFile } = store();
    const lines: Array<{ obj: Record<string, unknown>; msg: string }> = [];
    const logger = { info: (obj: Record<string, unknown>, msg: string) => lines.push({ obj, msg }) };
    const vault = await openVault(config, { logger: logger as never });
    expect(vault.keySource).toBe('keychain');
    const account = vault.keyLocation.account as string;
    expect(account).toContain(dirname(keyFile));
    const entry = service.lookup(account);
    expect(entry).toMatch(/^devk\d{8}[0-9a-f]{6}:[A-Za-z0-9+/]{43}=$/);
    const pointer = readFileSync(keyFile, 'utf8');
    expect(pointer).toContain(`keychain ${account}`);
    expect(pointer).not.toContain((entry as string).split(':')[1]);
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(lines.some((l) => l.msg.includes('kept in the OS keychain') && l.obj.keychainAccount === account)).toBe(
      true,
    );

    const i = await vault.integrations.upsert(CANARY_INTEGRATION);
    await vault.close();
    // A second open reads the same key from the keychain and decrypts what the first stored.
    const again = await openVault(config);
    expect(again.keySource).toBe('keychain');
    expect((await again.getIntegrationWithSecret(i.id))?.clientSecret).toBe('SECRET-CANARY');
    await again.close();
  });

  it('gives every process that starts on an empty store at once the same key', async () => {
    const { config, keyFile } = store();
    const outputs = await Promise.all(Array.from({ length: 6 }, () => resolveInChild(config.dbPath, service.env)));
    const { ring, source } = await resolve(config);
    expect(source).toBe('keychain');
    for (const { source: theirs, slot, sealed } of outputs) {
      expect(theirs).toBe('keychain');
      expect(ring.decrypt(sealed as string, slot as SecretSlot)).toBe('same key');
    }
    expect(readFileSync(keyFile, 'utf8')).toMatch(/^keychain /m);
  });

  it('keeps the key in the file when WEBEX_AUTH_KEYCHAIN=off', async () => {
    const { config, keyFile } = store({ WEBEX_AUTH_KEYCHAIN: 'off' });
    const keys = await resolve(config);
    expect(keys.source).toBe('file');
    expect(keys.keychainSkipped).toBeUndefined();
    expect(readFileSync(keyFile, 'utf8')).toMatch(/^devk\d{8}[0-9a-f]{6}:/);
  });

  it('falls back to the file when the keychain refuses the new key (locked, no prompt possible), and says why', async () => {
    const locked = await startSecretService({ unlocked: false });
    cleanups.push(() => locked.stop());
    const { config, keyFile } = store();
    const result = await resolveInChild(config.dbPath, locked.env);
    expect(result).toMatchObject({ source: 'file', keychainSkipped: expect.stringMatching(/refused/) });
    expect(readFileSync(keyFile, 'utf8')).toMatch(/^devk\d{8}[0-9a-f]{6}:/);
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    // From then on the file is used without asking the keychain.
    const next = await resolve(config);
    expect(next.source).toBe('file');
    expect(next.keychainSkipped).toBeUndefined();
  });

  it('falls back to the file when no keychain can be reached (no session bus), and says why', async () => {
    const { config, keyFile } = store();
    const result = await resolveInChild(config.dbPath, { DBUS_SESSION_BUS_ADDRESS: 'unix:path=/nonexistent/bus' });
    expect(result).toMatchObject({ source: 'file', keychainSkipped: expect.stringMatching(/DBus|bus|connect/i) });
    expect(result.keychainSkipped).not.toMatch(/refused/);
    expect(readFileSync(keyFile, 'utf8')).toMatch(/^devk\d{8}[0-9a-f]{6}:/);
  });

  it('stops with a clear error, writing nothing, when the keychain holding the key cannot be reached', async () => {
    const { config, keyFile } = store();
    const account = (await resolve(config)).account as string;
    const pointer = readFileSync(keyFile, 'utf8');
    const result = await resolveInChild(config.dbPath, { DBUS_SESSION_BUS_ADDRESS: 'unix:path=/nonexistent/bus' });
    expect(result.error).toBe('VaultKeyError');
    expect(result.message).toContain(`account "${account}"`);
    expect(result.message).toContain('cannot be reached');
    expect(readFileSync(keyFile, 'utf8')).toBe(pointer);
  });

  it('stops with a clear error when the entry is gone from the keychain, instead of making a second key', async () => {
    const { config, keyFile } = store();
    const account = (await resolve(config)).account as string;
    const access = keychainEntry(account);
    if (!('entry' in access)) throw new Error(access.unavailable);
    expect(await access.entry.delete()).toBe(true);
    expect(service.lookup(account)).toBeUndefined();
    await expect(resolve(config)).rejects.toThrow(VaultKeyError);
    await expect(resolve(config)).rejects.toThrow(/entry is missing.*delete .*keys together with the database/);
    expect(readFileSync(keyFile, 'utf8')).toContain(`keychain ${account}`);
    expect(service.lookup(account)).toBeUndefined();
  });

  it('never makes a new key for a store that holds secrets and lost its key file; names the entries that may hold it', async () => {
    const { config, keyFile } = store();
    const vault = await openVault(config);
    const account = vault.keyLocation.account as string;
    await vault.integrations.upsert(CANARY_INTEGRATION);
    await vault.close();
    const pointer = readFileSync(keyFile, 'utf8');
    rmSync(keyFile);
    const error = await openVault(config).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VaultKeyError);
    expect((error as Error).message).toContain(`key file ${keyFile} is missing, so no new key is made`);
    expect((error as Error).message).toContain('webex-auth keys local');
    expect((error as Error).message).toContain(JSON.stringify(account));
    expect(existsSync(keyFile)).toBe(false);
    // Putting the pointer back is the whole repair.
    writeFileSync(keyFile, pointer, { mode: 0o600 });
    const back = await openVault(config);
    expect(back.keyLocation.account).toBe(account);
    await back.close();
  });

  it('a store in a directory whose name has a control character gets a printable account, and opens again', async () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const config = testConfig({ WEBEX_AUTH_DB: join(dir, 'tab\there', 'vault.db'), WEBEX_AUTH_KEYCHAIN: 'auto' });
    const first = await openVault(config);
    expect(first.keyLocation.account).toMatch(/tab\?here#[0-9a-f]{8}$/);
    await first.integrations.upsert(CANARY_INTEGRATION);
    await first.close();
    const again = await openVault(config);
    expect(again.keySource).toBe('keychain');
    await again.close();
  });

  it('names the development key, not WEBEX_AUTH_KEYS, when it does not open the store', async () => {
    const { config, keyFile } = store({ WEBEX_AUTH_KEYCHAIN: 'off' });
    const vault = await openVault(config);
    await vault.integrations.upsert(CANARY_INTEGRATION);
    await vault.close();
    writeFileSync(keyFile, `devother:${Buffer.alloc(32, 5).toString('base64')}\n`);
    const error = await openVault(config).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VaultKeyError);
    expect((error as Error).message).toContain(`not in the key file ${keyFile}`);
    expect((error as Error).message).not.toContain('WEBEX_AUTH_KEYS');
  });

  it('rejects a key file naming an account with control characters, without echoing it', async () => {
    const { config, keyFile } = store();
    mkdirSync(dirname(keyFile), { recursive: true });
    writeFileSync(keyFile, 'keychain evil\u001b[31maccount\n', { mode: 0o600 });
    const error = await resolve(config).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VaultKeyError);
    expect((error as Error).message).toMatch(/names no valid keychain entry/);
    expect((error as Error).message).not.toContain('\u001b');
  });

  it('processes racing on an empty store with the key file (keychain off) never read it half-written', async () => {
    for (let round = 0; round < 3; round++) {
      const { config } = store();
      const outputs = await Promise.all(
        Array.from({ length: 12 }, () => resolveInChild(config.dbPath, { ...service.env, WEBEX_AUTH_KEYCHAIN: 'off' })),
      );
      const { ring } = await resolve(config);
      for (const out of outputs) {
        expect(out.error).toBeUndefined();
        expect(ring.decrypt(out.sealed as string, out.slot as SecretSlot)).toBe('same key');
      }
    }
  });

  it('the built bin reads the key from the keychain: `token` prints the stored token, `doctor` says where the key is', async () => {
    const { config } = store();
    const vault = await openVault(config);
    const integration = await vault.integrations.upsert({
      ...CANARY_INTEGRATION,
      scopes: ['spark:people_read'],
      apiBase: 'http://127.0.0.1:9/v1',
    });
    await vault.connections.saveFromGrant({
      integrationId: integration.id,
      tokens: tokenSet({ accessToken: 'ACCESS-FROM-KEYCHAIN-STORE', refreshToken: 'REFRESH-CANARY' }),
      person: { id: 'p1', emails: ['p1@example.com'], displayName: 'P 1' },
      requestedScopes: ['spark:people_read'],
    });
    const account = vault.keyLocation.account as string;
    await vault.close();

    const env = {
      ...process.env,
      WEBEX_AUTH_DB: config.dbPath,
      WEBEX_AUTH_KEYCHAIN: 'auto',
      WEBEX_AUTH_KEYS: '',
      LOG_LEVEL: 'silent',
      NO_COLOR: '1',
    };
    const run = (args: string[]) =>
      new Promise<{ code: number | null; stdout: string; stderr: string }>((res) => {
        const child = spawn(process.execPath, [join(ROOT, 'dist', 'cli', 'main.js'), ...args], { env });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d) => (stdout += d));
        child.stderr.on('data', (d) => (stderr += d));
        child.on('exit', (code) => res({ code, stdout, stderr }));
      });
    const token = await run(['token']);
    expect(token.stderr).toBe('');
    expect(token).toMatchObject({ code: 0, stdout: 'ACCESS-FROM-KEYCHAIN-STORE\n' });
    const local = await run(['keys', 'local']);
    expect(local.code).toBe(0);
    expect(local.stdout.trim()).toBe(service.lookup(account));
    const doctor = await run(['doctor', '--json']);
    const findings = JSON.parse(doctor.stdout) as Array<{ check: string; message: string }>;
    expect(findings.find((f) => f.check === 'store')?.message).toContain(
      `encryption key from the OS keychain (service "webex-auth", account "${account}")`,
    );
  });
});
