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
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
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
    expect(file).toMatch(/token-v\d+\.\d+\.\d+-[a-z0-9]+-[0-9a-f]{32}\.v8cache$/);
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

    // Damaged past V8's header, as a write cut short would leave it: V8 does not check a cache's body (a damaged one
    // crashed `serve`), so the file's own SHA-256 must catch it; compiled from source and written anew.
    const cut = Buffer.from(readFileSync(file as string));
    for (let i = 0; i < 64; i++) cut[1000 + i] = (cut[1000 + i] as number) ^ 0xff;
    writeFileSync(file as string, cut);
    const afterCut = token(env);
    expect([afterCut.status, afterCut.stderr, afterCut.stdout]).toEqual([0, '', `${ACCESS}\n`]);
    expect(readFileSync(file as string).equals(cut)).toBe(false);
  });

  it('is never used for another bundle of the same length and modification time', () => {
    // requireWithCodeCache itself, on two made-up bundles: V8 checks only a source's length, so a cache named after the
    // size and time (as it once was) ran the first bundle's compiled code for the second.
    const home = mkdtempSync(join(tmpdir(), 'wa-cc-'));
    const bundle = join(home, 'bundle.cjs');
    const env = process.env.XDG_CACHE_HOME;
    process.env.XDG_CACHE_HOME = join(home, 'cache');
    try {
      const { requireWithCodeCache } = createRequire(import.meta.url)(join(ROOT, 'dist', 'cli', 'code-cache.cjs'));
      const load = (text: string) => {
        writeFileSync(bundle, text);
        utimesSync(bundle, 1_700_000_000, 1_700_000_000);
        const loaded = requireWithCodeCache(bundle, 'serve');
        loaded.save();
        return loaded.exports.answer();
      };
      expect(load("exports.answer = () => 'first';")).toBe('first');
      expect(load("exports.answer = () => 'other';")).toBe('other');
    } finally {
      if (env === undefined) delete process.env.XDG_CACHE_HOME;
      else process.env.XDG_CACHE_HOME = env;
      rmSync(home, { recursive: true, force: true });
    }
  });

  it('is never used for a bundle changed in place that kept the digest line the build wrote', () => {
    // The build writes the bundle's SHA-256 as its last line, which names the cache instead of hashing the bundle at
    // every start; an edit that keeps that line (and the length and modification time) must still not run the old code.
    const home = mkdtempSync(join(tmpdir(), 'wa-cc-'));
    const bundle = join(home, 'bundle.cjs');
    const digestLine = `\n// SHA-256 of the text above: ${'ab'.repeat(32)}\n`;
    const env = process.env.XDG_CACHE_HOME;
    process.env.XDG_CACHE_HOME = join(home, 'cache');
    try {
      const { requireWithCodeCache } = createRequire(import.meta.url)(join(ROOT, 'dist', 'cli', 'code-cache.cjs'));
      const write = (text: string) => {
        writeFileSync(bundle, `${text}${digestLine}`);
        utimesSync(bundle, 1_700_000_000, 1_700_000_000);
      };
      const load = () => {
        const loaded = requireWithCodeCache(bundle, 'serve');
        // Called before the cache is written, so that the cache holds `answer` compiled (V8 compiles it on first call).
        const answer = loaded.exports.answer();
        loaded.save();
        return answer;
      };
      write("exports.answer = () => 'first';");
      expect(load()).toBe('first');
      expect(readdirSync(join(home, 'cache', 'webex-auth'))).toEqual([
        expect.stringMatching(new RegExp(`^serve-.*-${'ab'.repeat(16)}\\.v8cache$`)),
      ]);
      expect(load()).toBe('first');
      // Rewritten in place (same file), until the change time moves on where the file system's clock is coarse.
      const written = statSync(bundle, { bigint: true }).ctimeNs;
      do write("exports.answer = () => 'other';");
      while (statSync(bundle, { bigint: true }).ctimeNs === written);
      expect(load()).toBe('other');
    } finally {
      if (env === undefined) delete process.env.XDG_CACHE_HOME;
      else process.env.XDG_CACHE_HOME = env;
      rmSync(home, { recursive: true, force: true });
    }
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
