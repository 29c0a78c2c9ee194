// The hot-token file of `webex-auth token` (src/cli/hot-token.ts), through the built bin as package.json installs it,
// with a real SQLite store: a plain `token` remembers its answer once the store has been left alone, the next plain
// `token` prints it from the file, and anything that may change the answer — a write to the store by another process
// (a deleted connection), another environment, a tampered, foreign, near-expiry or loosely permitted file, or a flag —
// takes the usual path instead.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, SETTING_NAMES } from '../../src/config.js';
import { openVault } from '../../src/vault/index.js';
import { isolatedEnv, storeFreshConnection, TEST_KEYS } from './helpers.js';

const ROOT = join(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'dist', 'cli', 'webex-auth.cjs');
// The built module, the one the bin loads.
const hotToken = createRequire(import.meta.url)(
  join(ROOT, 'dist', 'cli', 'hot-token.cjs'),
) as typeof import('../../src/cli/hot-token.js');
const STORED = `hot-stored-${'a'.repeat(40)}`;
const NAMES = [...SETTING_NAMES, 'HOME', 'WEBEX_AUTH_CONNECTION'];
type Env = Record<string, string | undefined>;

/** An isolated home with one stored connection whose access token is valid for 14 days; returns its id too. */
async function homeWithToken(): Promise<{ env: Env; id: string }> {
  const env = isolatedEnv();
  return { env, id: await storeFreshConnection(env, STORED, 'hot') };
}

function run(env: Env, ...args: string[]) {
  return spawnSync(process.execPath, [BIN, 'token', ...args], {
    cwd: ROOT,
    env: env as NodeJS.ProcessEnv,
    encoding: 'utf8',
  });
}

const dbOf = (env: Env) => join(env.XDG_DATA_HOME as string, 'webex-auth', 'webex-auth.db');
const hotDir = (env: Env) => join(env.HOME as string, '.cache', 'webex-auth', 'hot-token');
const hotFiles = (env: Env) => (existsSync(hotDir(env)) ? readdirSync(hotDir(env)) : []);

/**
 * Seals `token` into the hot-token file as a plain `token` would after reading the store, with a clock 5 s ahead (so
 * the store counts as left alone without waiting); `expiresAt` defaults to 14 days.
 */
function remember(env: Env, token: string, expiresAt = Date.now() + 14 * 86_400_000): void {
  const ahead = () => Date.now() + 5_000;
  hotToken.watchStore(dbOf(env), env.WEBEX_AUTH_KEYS, NAMES, env, ROOT, ahead).remember(token, expiresAt);
}

describe('the hot-token file of `webex-auth token`', () => {
  beforeAll(() => {
    if (!existsSync(BIN)) {
      const build = spawnSync('npm', ['run', 'build'], { cwd: ROOT, encoding: 'utf8' });
      if (build.status !== 0) throw new Error(`build failed: ${build.stdout}${build.stderr}`);
    }
  });

  it('is written by a plain `token` once the store was left alone, 0600 in a 0700 directory, sealed', async () => {
    const { env } = await homeWithToken();
    // Just written: the answer is printed but not remembered (a write could still share the timestamp granule).
    expect(run(env).stdout).toBe(`${STORED}\n`);
    expect(hotFiles(env)).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, hotToken.QUIET_MS + 100));
    expect(run(env).stdout).toBe(`${STORED}\n`);
    const [file] = hotFiles(env);
    if (!file) throw new Error('no hot-token file was written');
    expect(statSync(hotDir(env)).mode & 0o777).toBe(0o700);
    expect(statSync(join(hotDir(env), file)).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(hotDir(env), file), 'utf8')).not.toContain(STORED);
    expect(hotToken.readHotToken(env, ROOT)).toBe(STORED);
  });

  it('is printed by the next plain `token`, and never for a flag or another environment', async () => {
    const { env } = await homeWithToken();
    remember(env, 'from-the-hot-file');
    expect(run(env)).toMatchObject({ status: 0, stdout: 'from-the-hot-file\n', stderr: '' });
    // Flags, another connection choice, the switch: the usual path, which reads the store.
    expect(run(env, '--min-validity', '60').stdout).toBe(`${STORED}\n`);
    expect(JSON.parse(run(env, '--json').stdout).access_token).toBe(STORED);
    expect(run({ ...env, WEBEX_AUTH_CONNECTION: 'hot@example.com' }).stdout).toBe(`${STORED}\n`);
    expect(run({ ...env, WEBEX_AUTH_HOT_TOKEN: 'off' }).stdout).toBe(`${STORED}\n`);
    // A value the setting does not take is refused in one line, as any setting's, never served from the file.
    const typo = run({ ...env, WEBEX_AUTH_HOT_TOKEN: 'false' });
    expect(typo.status).not.toBe(0);
    expect(typo.stdout).toBe('');
    expect(typo.stderr).toContain('WEBEX_AUTH_HOT_TOKEN');
    expect(typo.stderr).not.toContain('    at ');
  });

  it('is not served once another process deleted the connection', async () => {
    const { env, id } = await homeWithToken();
    remember(env, 'from-the-hot-file');
    expect(run(env).stdout).toBe('from-the-hot-file\n');
    const vault = await openVault(loadConfig({ env, dotenvDir: false }));
    await vault.connections.delete(id);
    await vault.close();
    const after = run(env);
    expect(after.stdout).toBe('');
    expect(after.status).toBe(4);
    expect(after.stderr).toContain('no connection yet');
  });

  it('is not served when tampered with, near its expiry, sealed under another key, or loosely permitted', async () => {
    const { env } = await homeWithToken();
    const file = () => join(hotDir(env), hotFiles(env)[0] as string);

    remember(env, 'from-the-hot-file');
    const text = readFileSync(file(), 'utf8');
    const flipped = text.slice(0, -2) + (text.at(-2) === 'A' ? 'B' : 'A') + text.at(-1);
    writeFileSync(file(), flipped, { mode: 0o600 });
    expect(run(env).stdout).toBe(`${STORED}\n`);
    // A byte of the ciphertext changed, the tag left alone: without the tag's check it would open to another token
    // (AES-GCM's counter mode flips the same bit of the plaintext, here a letter of the token, which ends the payload).
    remember(env, 'from-the-hot-file');
    const sound = readFileSync(file(), 'utf8');
    const head = sound.slice(0, sound.lastIndexOf(':') + 1);
    const body = Buffer.from(sound.slice(head.length), 'base64url');
    const at = body.length - 16 - 5;
    body.writeUInt8(body.readUInt8(at) ^ 0x01, at);
    writeFileSync(file(), head + body.toString('base64url'), { mode: 0o600 });
    expect(hotToken.readHotToken(env, ROOT)).toBeUndefined();
    expect(run(env).stdout).toBe(`${STORED}\n`);

    // Valid for less than `--min-validity`'s default of 60 s.
    remember(env, 'from-the-hot-file', Date.now() + 30_000);
    expect(run(env).stdout).toBe(`${STORED}\n`);

    // A new active key: the stored token still opens with the old one, the file (under the old key) is not used.
    remember(env, 'from-the-hot-file');
    const rotated = { ...env, WEBEX_AUTH_KEYS: `new:${Buffer.alloc(32, 3).toString('base64')},${TEST_KEYS}` };
    expect(run(rotated).stdout).toBe(`${STORED}\n`);

    remember(env, 'from-the-hot-file');
    chmodSync(file(), 0o640);
    expect(run(env).stdout).toBe(`${STORED}\n`);
    // Each refused file was replaced or removed by the usual path (the store is too recent to remember an answer).
    expect(hotFiles(env)).toEqual([]);
    remember(env, 'from-the-hot-file');
    chmodSync(hotDir(env), 0o777);
    expect(run(env).stdout).toBe(`${STORED}\n`);
    chmodSync(hotDir(env), 0o700);
    // The same steps with a sound file: served.
    remember(env, 'from-the-hot-file');
    expect(run(env).stdout).toBe('from-the-hot-file\n');
  });

  it('is not written when the store changed while it was read, and is forgotten then', async () => {
    const { env, id } = await homeWithToken();
    remember(env, 'from-the-hot-file');
    expect(hotFiles(env)).toHaveLength(1);
    const ahead = () => Date.now() + 5_000;
    const writer = hotToken.watchStore(dbOf(env), env.WEBEX_AUTH_KEYS, NAMES, env, ROOT, ahead);
    const vault = await openVault(loadConfig({ env, dotenvDir: false }));
    await vault.connections.delete(id);
    await vault.close();
    writer.remember('read-before-the-delete', Date.now() + 14 * 86_400_000);
    expect(hotFiles(env)).toEqual([]);
    // A key ring from elsewhere than WEBEX_AUTH_KEYS of the environment: nothing is remembered.
    hotToken
      .watchStore(dbOf(env), `other:${Buffer.alloc(32, 4).toString('base64')}`, NAMES, env, ROOT, ahead)
      .remember('x', Date.now() + 14 * 86_400_000);
    expect(hotFiles(env)).toEqual([]);
  });

  it('is not written for a store written under 2 s before it was opened, however slow the read', async () => {
    // Just written (homeWithToken). A commit whose WAL frames moved the stamp may not yet be visible to a read that
    // starts then: the store must have been quiet when it was opened, not only when the answer is remembered.
    const { env } = await homeWithToken();
    let calls = 0;
    // The first reading of the clock is when the store is opened; later ones come 5 s on (a slow read).
    const slowRead = () => Date.now() + (calls++ === 0 ? 0 : 5_000);
    hotToken
      .watchStore(dbOf(env), env.WEBEX_AUTH_KEYS, NAMES, env, ROOT, slowRead)
      .remember('read-as-the-store-changed', Date.now() + 14 * 86_400_000);
    expect(hotFiles(env)).toEqual([]);
  });

  it('is not written when `.env` changed between the configuration and the store being read', async () => {
    const { env } = await homeWithToken();
    const cwd = join(env.HOME as string, 'project');
    mkdirSync(cwd);
    const ahead = () => Date.now() + 5_000;
    const remembered = (edit: boolean) => {
      writeFileSync(join(cwd, '.env'), 'WEBEX_AUTH_DB=one.db\n');
      // Taken before the configuration is loaded, as the `token` command does.
      const configuredAs = hotToken.hotTokenFile(env, cwd);
      if (edit) writeFileSync(join(cwd, '.env'), 'WEBEX_AUTH_DB=two.db\n');
      hotToken
        .watchStore(dbOf(env), env.WEBEX_AUTH_KEYS, NAMES, env, cwd, ahead, configuredAs)
        .remember('from-the-old-env', Date.now() + 14 * 86_400_000);
      return hotToken.readHotToken(env, cwd);
    };
    // Edited meanwhile: the answer of the old `.env` is not bound to the new one.
    expect(remembered(true)).toBeUndefined();
    expect(hotFiles(env)).toEqual([]);
    expect(remembered(false)).toBe('from-the-old-env');
  });
});
