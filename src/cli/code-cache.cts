/**
 * Loads a CommonJS bundle with a V8 code cache (`vm.Script` `cachedData`), for `webex-auth token` and `serve`: on a
 * cache hit V8 skips parsing and compiling the bundle (~280 KB for `token`, about an eighth of the command's CPU on
 * Node 20; ~2.9 MB for `serve`'s start, about a third of its instructions to `/readyz`, bench/limits.md). Node 22's
 * `module.enableCompileCache` would do this, but Node 20 has only `vm.Script`.
 *
 * The cache lives in the user's cache directory (`$XDG_CACHE_HOME/webex-auth`, else `~/.cache/webex-auth`), mode 0700,
 * named after the Node version and the bundle's size and modification time, so an upgrade of either uses a new file
 * (V8 checks only the source length and its own version and flags; the name makes a same-length different bundle miss
 * too). It is written after the command succeeded (`serve`: once it listens) — so it holds the functions the run
 * compiled — when it was missing or V8 rejected it (`cachedDataRejected`), and the older caches are removed. Anything
 * failing (no home, a read-only cache directory) falls back silently to `require()`.
 * The file is trusted as the user's own: whoever can write it can also write the user's shell start-up files. A cache
 * file or directory another user owns or can write (or a symbolic link) is not loaded, since `cachedData` is code.
 */
import fs = require('node:fs');
import Module = require('node:module');
import path = require('node:path');
import url = require('node:url');
import vm = require('node:vm');

// Bundled as CommonJS from cache-dir.ts by scripts/build.mjs.
const { cacheDir, ownPrivate } = require('./cache-dir.cjs') as typeof import('./cache-dir.js');

/** What {@link requireWithCodeCache} returns: the module's exports, and a function to call once the command succeeded. */
interface CachedModule<T> {
  exports: T;
  /** Writes the cache if this run had none or V8 rejected it; never throws. */
  save(): void;
}

/**
 * The cache file's bytes if it may be trusted: V8 runs `cachedData` as compiled code, so a file (or directory) another
 * user owns or can write, or a symbolic link, is refused (undefined: compiled from source, then written anew).
 */
function readTrusted(dir: string, cacheFile: string): Buffer | undefined {
  if (!ownPrivate(fs.statSync(dir))) return undefined;
  const fd = fs.openSync(cacheFile, fs.constants.O_RDONLY | (fs.constants.O_NOFOLLOW ?? 0));
  try {
    const stat = fs.fstatSync(fd);
    return stat.isFile() && ownPrivate(stat) ? fs.readFileSync(fd) : undefined;
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Requires `file` (a CommonJS bundle) through a V8 code cache, or with plain `require` when that is not possible.
 * `name` names the bundle's cache files (one bundle, one name: writing a cache removes that name's older ones).
 */
function requireWithCodeCache<T>(file: string, name: 'token' | 'serve' = 'token'): CachedModule<T> {
  const dir = cacheDir();
  if (!dir || process.env.WEBEX_AUTH_CODE_CACHE === 'off') {
    return { exports: require(file) as T, save() {} };
  }
  const stat = fs.statSync(file);
  const prefix = `${name}-`;
  const cacheName = `${prefix}${process.version}-${process.arch}-${stat.size}-${Math.floor(stat.mtimeMs)}.v8cache`;
  const cacheFile = path.join(dir, cacheName);
  let cachedData: Buffer | undefined;
  try {
    cachedData = readTrusted(dir, cacheFile);
  } catch {
    cachedData = undefined;
  }
  // The bundle's import() calls go through `__waCodeCacheImport` (scripts/build.mjs): an import() inside a vm.Script
  // compiled from a code cache fails on Node 20, so they run here, relative to the bundle.
  const wrapped = `(function (exports, require, module, __filename, __dirname, __waCodeCacheImport) {${fs.readFileSync(file, 'utf8')}\n})`;
  const script = new vm.Script(wrapped, { filename: file, cachedData });
  // Decided now, so that the cache's bytes (megabytes for `serve`) are not kept alive by `save` for the process's life.
  const stale = cachedData === undefined || script.cachedDataRejected === true;
  cachedData = undefined;
  const base = url.pathToFileURL(file);
  const load = (specifier: string) => import(specifier.startsWith('.') ? new URL(specifier, base).href : specifier);
  const mod = { exports: {} as T, filename: file, id: file, loaded: false };
  const run = script.runInThisContext() as (...args: unknown[]) => void;
  run.call(mod.exports, mod.exports, Module.createRequire(file), mod, file, path.dirname(file), load);
  mod.loaded = true;
  return {
    exports: mod.exports,
    save() {
      if (!stale) return;
      try {
        fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
        // Never into a directory another user could swap files in (they would be refused on load anyway).
        if (!ownPrivate(fs.statSync(dir))) return;
        const tmp = `${cacheFile}.${process.pid}.tmp`;
        fs.rmSync(tmp, { force: true });
        fs.writeFileSync(tmp, script.createCachedData(), { mode: 0o600, flag: 'wx' });
        fs.renameSync(tmp, cacheFile);
        for (const old of fs.readdirSync(dir)) {
          if (old !== cacheName && old.startsWith(prefix) && old.endsWith('.v8cache'))
            fs.unlinkSync(path.join(dir, old));
        }
      } catch {
        // A cache is an optimisation: a read-only or full disk only means the next run compiles again.
      }
    },
  };
}

export = { requireWithCodeCache };
