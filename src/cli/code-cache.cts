/**
 * Loads a CommonJS bundle with a V8 code cache (`vm.Script` `cachedData`), for `webex-auth token` and `serve`: on a
 * cache hit V8 skips parsing and compiling the bundle (~280 KB for `token`, about an eighth of the command's CPU on
 * Node 20; ~2.9 MB for `serve`'s start, about a third of its instructions to `/readyz`, bench/limits.md). Node 22's
 * `module.enableCompileCache` would do this, but Node 20 has only `vm.Script`.
 *
 * The cache lives in the user's cache directory (`$XDG_CACHE_HOME/webex-auth`, else `~/.cache/webex-auth`), mode 0700,
 * named after the Node version, the architecture and a SHA-256 of the bundle's text, so an upgrade of either uses a new
 * file: V8 checks only the source's length and its own version and flags, and would run the old bundle's compiled code
 * for a new bundle of the same length (a packager that pins modification times makes that likely). The build writes
 * that SHA-256 at the end of the bundle ({@link SOURCE_DIGEST}): hashing `serve`'s 2.9 MB at every start was ~80 M
 * instructions (callgrind, ~8 % of the start to `/readyz`). The file starts with a SHA-256 of the bundle file's
 * identity and change time (`fstat`: device, inode, size, modification and change times) and of the cache that
 * follows, checked before V8 sees it: a bundle changed in place after the cache was written (an edit that kept the
 * digest line) has a new change time, which no file call can set back, so it is compiled anew; and V8 does not check
 * a cache's body, and a damaged one (a write cut short by a power loss) crashed `serve` at every start. It is written
 * after the command succeeded (`serve`: once it listens) — so it holds the functions the run compiled — when it was missing, damaged or rejected by
 * V8 (`cachedDataRejected`), flushed to disk before it is renamed into place, and the older caches are removed.
 * Anything failing (no home, a read-only cache directory) falls back silently to `require()`.
 * The file is trusted as the user's own: whoever can write it can also write the user's shell start-up files. A cache
 * file or directory another user owns or can write (or a symbolic link) is not loaded, since `cachedData` is code.
 */
import crypto = require('node:crypto');
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
  /** True when this run had no cache or V8 rejected it: {@link CachedModule.save} writes one. */
  stale: boolean;
  /** Writes the cache if this run had none or V8 rejected it; never throws. */
  save(): void;
}

/** Bytes of the SHA-256 that heads a cache file. */
const DIGEST_BYTES = 32;

const sha256 = (...data: (string | Uint8Array)[]) => {
  const hash = crypto.createHash('sha256');
  for (const d of data) hash.update(d);
  return hash.digest();
};

/**
 * The last line of a bundle the build wrote (scripts/build.mjs): the hex SHA-256 of the text before that line. A
 * bundle without it (or another file) is hashed whole at load.
 */
const SOURCE_DIGEST = /\n\/\/ SHA-256 of the text above: ([0-9a-f]{64})\n$/;

/** The bundle's SHA-256 in hex: the one the build wrote at its end, else computed from the whole text. */
function sourceDigest(source: string): string {
  const written = SOURCE_DIGEST.exec(source.slice(-100));
  return written?.[1] ?? sha256(source).toString('hex');
}

/** Which file, as it is now: a change in place moves its change time (`ctime`), which no call can set back. */
function fileIdentity(stat: fs.BigIntStats): string {
  return [stat.dev, stat.ino, stat.size, stat.mtimeNs, stat.ctimeNs].join(':');
}

/** Reads `file` as UTF-8 with its identity, taken before the read (a change during it shows at the next load). */
function readSource(file: string): { source: string; identity: string } {
  const fd = fs.openSync(file, 'r');
  try {
    const identity = fileIdentity(fs.fstatSync(fd, { bigint: true }));
    return { source: fs.readFileSync(fd, 'utf8'), identity };
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * The cache in the file, if it may be trusted, is whole and was made from the bundle as it is now (`identity`): V8 runs
 * `cachedData` as compiled code, so a file (or directory) another user owns or can write, or a symbolic link, is
 * refused, and so is one whose heading SHA-256 does not match the bundle's identity and what follows (undefined:
 * compiled from source, then written anew).
 */
function readTrusted(dir: string, cacheFile: string, identity: string): Buffer | undefined {
  if (!ownPrivate(fs.statSync(dir))) return undefined;
  const fd = fs.openSync(cacheFile, fs.constants.O_RDONLY | (fs.constants.O_NOFOLLOW ?? 0));
  let bytes: Buffer;
  try {
    const stat = fs.fstatSync(fd);
    if (!stat.isFile() || !ownPrivate(stat)) return undefined;
    bytes = fs.readFileSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  const cache = bytes.subarray(DIGEST_BYTES);
  return bytes.length > DIGEST_BYTES && sha256(identity, cache).equals(bytes.subarray(0, DIGEST_BYTES))
    ? cache
    : undefined;
}

/**
 * Writes `cache` to `file` headed by the SHA-256 of the bundle's `identity` and the cache, whole or not at all: a
 * flushed temporary file renamed into place.
 */
function writeWhole(file: string, identity: string, cache: Buffer): void {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.rmSync(tmp, { force: true });
  const fd = fs.openSync(tmp, 'wx', 0o600);
  try {
    fs.writeSync(fd, sha256(identity, cache));
    fs.writeSync(fd, cache);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
}

/**
 * Requires `file` (a CommonJS bundle) through a V8 code cache, or with plain `require` when that is not possible.
 * `name` names the bundle's cache files (one bundle, one name: writing a cache removes that name's older ones).
 */
function requireWithCodeCache<T>(file: string, name: 'token' | 'serve' = 'token'): CachedModule<T> {
  const dir = cacheDir();
  if (!dir || process.env.WEBEX_AUTH_CODE_CACHE === 'off') {
    return { exports: require(file) as T, stale: false, save() {} };
  }
  const { source, identity } = readSource(file);
  const prefix = `${name}-`;
  const cacheName = `${prefix}${process.version}-${process.arch}-${sourceDigest(source).slice(0, 32)}.v8cache`;
  const cacheFile = path.join(dir, cacheName);
  let cachedData: Buffer | undefined;
  try {
    cachedData = readTrusted(dir, cacheFile, identity);
  } catch {
    cachedData = undefined;
  }
  // The bundle's import() calls go through `__waCodeCacheImport` (scripts/build.mjs): an import() inside a vm.Script
  // compiled from a code cache fails on Node 20, so they run here, relative to the bundle.
  const wrapped = `(function (exports, require, module, __filename, __dirname, __waCodeCacheImport) {${source}\n})`;
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
    stale,
    save() {
      if (!stale) return;
      try {
        fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
        // Never into a directory another user could swap files in (they would be refused on load anyway).
        if (!ownPrivate(fs.statSync(dir))) return;
        writeWhole(cacheFile, identity, script.createCachedData());
        // Older caches of this bundle, and temporary files a run left behind when it was killed while writing.
        for (const old of fs.readdirSync(dir)) {
          if (old !== cacheName && old.startsWith(prefix) && (old.endsWith('.v8cache') || old.endsWith('.tmp')))
            fs.rmSync(path.join(dir, old), { force: true });
        }
      } catch {
        // A cache is an optimisation: a read-only or full disk only means the next run compiles again.
      }
    },
  };
}

export = { requireWithCodeCache };
