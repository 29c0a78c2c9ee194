// The V8 code cache of `webex-auth token` (src/cli/code-cache.cts), through the built bin as package.json installs it:
// the first run writes the cache into the user's cache directory, later runs use it and leave it alone, a damaged
// cache is replaced without the command noticing, a cache another user owns or can write (or a link) is not loaded,
// and WEBEX_AUTH_CODE_CACHE=off writes none.
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  lstatSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { isolatedEnv, storeFreshConnection } from './helpers.js';

const ROOT = join(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'dist', 'cli', 'webex-auth.cjs');
const ACCESS = `cc-access-${'a'.repeat(40)}`;

/** An isolated home with one stored connection whose access token is valid for 14 days. */
async function homeWithToken(): Promise<Record<string, string | undefined>> {
  // The hot-token file (hot-token.test.ts) would bypass the bundle, and so the cache, once the store is 2 s old.
  const env = isolatedEnv({ WEBEX_AUTH_HOT_TOKEN: 'off' });
  await storeFreshConnection(env, ACCESS, 'cc');
  return env;
}

function token(env: Record<string, string | undefined>) {
  return spawnSync(process.execPath, [BIN, 'token'], { env: env as NodeJS.ProcessEnv, encoding: 'utf8' });
}

/** The cache files in this home's cache directory. */
function caches(env: Record<string, string | undefined>): string[] {
  const dir = join(env.HOME as string, '.cache', 'webex-auth');
  return existsSync(dir) ? readdirSync(dir).map((f) => join(dir, f)) : [];
}

describe('the code cache of `webex-auth token`', () => {
  beforeAll(() => {
    if (!existsSync(BIN)) {
      const build = spawnSync('npm', ['run', 'build'], { cwd: ROOT, encoding: 'utf8' });
      if (build.status !== 0) throw new Error(`build failed: ${build.stdout}${build.stderr}`);
    }
  });

  it('is written by the first run, used as is by the next, and replaced when damaged', async () => {
    const env = await homeWithToken();
    const first = token(env);
    expect(first.stderr).toBe('');
    expect(first.stdout).toBe(`${ACCESS}\n`);
    const [file, ...others] = caches(env);
    expect(others).toEqual([]);
    expect(file).toMatch(/token-v\d+\.\d+\.\d+-[a-z0-9]+-\d+-\d+\.v8cache$/);
    const written = readFileSync(file as string);
    expect(written.length).toBeGreaterThan(1000);

    const second = token(env);
    expect(second.stdout).toBe(`${ACCESS}\n`);
    expect(caches(env)).toEqual([file]);
    expect(readFileSync(file as string).equals(written)).toBe(true);

    writeFileSync(file as string, 'not a code cache');
    const damaged = token(env);
    expect(damaged.status).toBe(0);
    expect(damaged.stderr).toBe('');
    expect(damaged.stdout).toBe(`${ACCESS}\n`);
    expect(readFileSync(file as string).toString()).not.toBe('not a code cache');
    expect(readFileSync(file as string).length).toBeGreaterThan(1000);
  });

  it('is private (0700 directory, 0600 file); a cache another user owns or can write, or a link, is not loaded', async () => {
    const env = await homeWithToken();
    expect(token(env).stdout).toBe(`${ACCESS}\n`);
    const [file] = caches(env) as [string];
    const dir = dirname(file);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const mode = (f: string) => lstatSync(f).mode & 0o777;

    // Writable by others: not trusted, so compiled from source and written anew (its own file, 0600).
    chmodSync(file, 0o666);
    expect(token(env).stdout).toBe(`${ACCESS}\n`);
    expect(mode(file)).toBe(0o600);

    // A symbolic link (to a valid cache elsewhere) is not followed: replaced by a file of our own.
    const elsewhere = join(env.HOME as string, 'elsewhere.v8cache');
    renameSync(file, elsewhere);
    symlinkSync(elsewhere, file);
    expect(token(env).stdout).toBe(`${ACCESS}\n`);
    expect(lstatSync(file).isSymbolicLink()).toBe(false);
    expect(mode(file)).toBe(0o600);

    // Owned by another user (only root can make one here).
    if (process.getuid?.() === 0) {
      chownSync(file, 65534, 65534);
      expect(token(env).stdout).toBe(`${ACCESS}\n`);
      expect(lstatSync(file).uid).toBe(0);
    }
  });

  it('writes nothing with WEBEX_AUTH_CODE_CACHE=off, and a failed command writes nothing either', async () => {
    const env = { ...(await homeWithToken()), WEBEX_AUTH_CODE_CACHE: 'off' };
    const r = token(env);
    expect(r.stdout).toBe(`${ACCESS}\n`);
    expect(caches(env)).toEqual([]);
    const empty = isolatedEnv();
    const none = token(empty);
    expect(none.status).toBe(4);
    expect(caches(empty)).toEqual([]);
  });
});
