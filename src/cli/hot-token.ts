/**
 * The hot-token file of `webex-auth token` (issue 20): the last answer of a plain `webex-auth token` (no flags),
 * sealed, so that the next identical call prints it with node:crypto alone — no bundle, no SQLite, no configuration
 * parsing (bench/limits.md: those are most of what the command adds to a bare `node` start). Bundled as CommonJS
 * (its reader alone, through hot-token-print.ts: scripts/build.mjs) into the built bin itself; the `token` command
 * imports it to write the file.
 *
 * The file is a cache of one answer, never a second source of truth. It is served only when all of these hold, else
 * the command takes its usual path (which then writes the file anew):
 * - the call is exactly `webex-auth token` with stdout a pipe or file (as in `$(…)`), and `WEBEX_AUTH_KEYS` is set;
 * - the file was written for the same inputs: its name is derived (HMAC) from the active key of `WEBEX_AUTH_KEYS`,
 *   the working directory and the bytes of its `.env`, and the sealed payload holds a keyed digest of every
 *   environment variable the configuration reads (named by the writer: the settings, `HOME`, `WEBEX_AUTH_CONNECTION`),
 *   so another configuration, connection choice or key ring never gets it;
 * - it opens (AES-256-GCM under a key derived from the ring's active key; the payload holds the environment digest,
 *   the database path, its stamp, the expiry and the token);
 * - the SQLite database and its WAL file have the stamp they had when the answer was read (device, inode, size,
 *   modification and change times): any write to the store by any process — a refresh, a deletion, `needs_reauth`, a
 *   new connection — changes it. The answer is written only when the stamp was the same before the store was opened and
 *   after it was closed, and the files were last written over 2 s before it was opened (so a later write cannot share
 *   the file system's timestamp granule, "racy git");
 * - the token stays valid for the default `--min-validity` (60 s).
 * Like the code cache, the file lives in the user's cache directory, mode 0600 in a 0700 directory, and is refused if
 * another user owns or can write it, or it is a symbolic link. SECURITY.md weighs what it changes.
 */
// Named imports, not default ones: esbuild's CommonJS output then calls the built-ins' own functions rather than
// copying each module's ~100 exports into an ESM-style namespace object first (~2 M instructions of the hot path,
// callgrind).
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import {
  closeSync,
  constants,
  fstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { cacheDir, ownPrivate } from './cache-dir.js';
import { writeFully } from './write-fully.js';

/** The `--min-validity` default of `webex-auth token`: the only one the hot path serves. */
const MIN_VALIDITY_MS = 60_000;
/** How long the store must have been left alone before an answer read from it is remembered (see above). */
export const QUIET_MS = 2_000;
/** Older files are removed when one is written: no access token lives this long (Webex's last 14 days). */
const STALE_MS = 15 * 86_400_000;
const INFO = 'webex-auth/hot-token/v1';
const DIR = 'hot-token';

/** Where the SQLite store's files stood: one entry per file (the database, its WAL), null when absent. */
type Stamp = (number[] | null)[];

/**
 * The stamp of the store at `dbPath` (see the module comment). Plain `Stats`, not bigint: the times stay exact to well
 * under a microsecond, and the bigint variant's code would be compiled on every start.
 */
function stampOf(dbPath: string): Stamp {
  return [dbPath, `${dbPath}-wal`].map((file) => {
    const s = statSync(file, { throwIfNoEntry: false });
    return s ? [s.dev, s.ino, s.size, s.mtimeMs, s.ctimeMs] : null;
  });
}

/** Whether every file of `stamp` was last written or changed at least {@link QUIET_MS} before `now`. */
function quiet(stamp: Stamp, now: number): boolean {
  return stamp.every((s) => s === null || Math.max(s[3] as number, s[4] as number) <= now - QUIET_MS);
}

/**
 * Whether the file is off: only unset or `on` uses it. `off`, or a value the configuration refuses (the usual path
 * then says why, as for any setting), does not.
 */
function hotTokenOff(env: NodeJS.ProcessEnv): boolean {
  return env.WEBEX_AUTH_HOT_TOKEN !== undefined && env.WEBEX_AUTH_HOT_TOKEN !== 'on';
}

/** Where the answer for the current inputs lives, and how it is sealed. */
interface Slot {
  file: string;
  dir: string;
  /** The id of the ring's active key, which seals the file. */
  kid: string;
  key: Buffer;
  /** A keyed digest of the values of the environment variables `names` (the configuration's inputs). */
  envDigest(names: readonly string[]): string;
}

/** The file and key of the current inputs; undefined when there is no cache directory or no `WEBEX_AUTH_KEYS`. */
function slotOf(env: NodeJS.ProcessEnv, cwd: string): Slot | undefined {
  const first = env.WEBEX_AUTH_KEYS?.split(',')[0]?.trim();
  const sep = first?.indexOf(':') ?? -1;
  const dir = cacheDir(env);
  if (!first || sep < 1 || !dir) return undefined;
  const ringKey = Buffer.from(first.slice(sep + 1), 'base64');
  if (ringKey.length !== 32) return undefined;
  // Looked up without an exception for the usual absent file (an ENOENT error's stack costs start-up time).
  const envFile = join(cwd, '.env');
  const dotenv = statSync(envFile, { throwIfNoEntry: false }) ? readFileSync(envFile, 'base64') : null;
  // Two keys derived from the ring key, one per use: the file's own key, and the one naming it and its environment.
  const derive = (use: string) => createHmac('sha256', ringKey).update(`${INFO}|${use}`).digest();
  const nameKey = derive('name');
  const name = createHmac('sha256', nameKey)
    .update(JSON.stringify([cwd, dotenv]))
    .digest('base64url');
  const hot = join(dir, DIR);
  return {
    file: join(hot, `${name.slice(0, 32)}.hot`),
    dir: hot,
    kid: first.slice(0, sep),
    key: derive('seal'),
    envDigest: (names) =>
      createHmac('sha256', nameKey)
        .update(JSON.stringify(names.map((n) => [n, env[n] ?? null])))
        .digest('base64url'),
  };
}

/**
 * Whether `token` is 1–4096 printable ASCII characters (no space, no line break): what a shell may be handed. A loop,
 * not a RegExp, whose compilation would show in the hot path's start-up.
 */
function printable(token: string): boolean {
  if (token.length === 0 || token.length > 4096) return false;
  for (let i = 0; i < token.length; i++) {
    const c = token.charCodeAt(i);
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

/** The sealed payload: what the hot path checks before it prints `token`. */
interface Payload {
  /** The environment variables the answer depended on, and the keyed digest of their values then. */
  names: string[];
  env: string;
  db: string;
  stamp: Stamp;
  exp: number;
  token: string;
}

/**
 * Prints `webex-auth token`'s answer from the hot-token file to stdout, when it may be served (module comment): the
 * bin's whole hot path. False when it printed nothing (take the usual path).
 */
export function printHotToken(): boolean {
  const token = readHotToken();
  if (token === undefined) return false;
  writeFully(1, `${token}\n`);
  return true;
}

/** `webex-auth token`'s answer from the hot-token file, when it may be served (module comment); never throws. */
export function readHotToken(
  env: NodeJS.ProcessEnv = process.env,
  cwd = process.cwd(),
  now = Date.now(),
): string | undefined {
  try {
    if (hotTokenOff(env)) return undefined;
    const slot = slotOf(env, cwd);
    if (!slot || !ownPrivate(statSync(slot.dir))) return undefined;
    const fd = openSync(slot.file, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0));
    let text: string;
    try {
      const stat = fstatSync(fd);
      if (!stat.isFile() || !ownPrivate(stat) || (stat.mode & 0o077) !== 0 || stat.size > 16_384) return undefined;
      text = readFileSync(fd, 'utf8');
    } finally {
      closeSync(fd);
    }
    const [version, kid, iv, sealed] = text.split(':');
    if (version !== 'v1' || kid !== slot.kid || !iv || !sealed) return undefined;
    const body = Buffer.from(sealed, 'base64url');
    if (body.length < 17) return undefined;
    const decipher = createDecipheriv('aes-256-gcm', slot.key, Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(`${INFO}|${basename(slot.file)}`));
    decipher.setAuthTag(body.subarray(body.length - 16));
    const p = JSON.parse(
      Buffer.concat([decipher.update(body.subarray(0, body.length - 16)), decipher.final()]).toString('utf8'),
    ) as Payload;
    if (typeof p.token !== 'string' || !printable(p.token)) return undefined;
    if (typeof p.exp !== 'number' || p.exp - now < MIN_VALIDITY_MS || typeof p.db !== 'string') return undefined;
    if (!Array.isArray(p.names) || slot.envDigest(p.names) !== p.env) return undefined;
    return JSON.stringify(stampOf(p.db)) === JSON.stringify(p.stamp) ? p.token : undefined;
  } catch {
    return undefined;
  }
}

/** What {@link watchStore} hands the token path: remember an answer read from the store, or forget the file. */
export interface HotTokenWriter {
  /**
   * Seals `token` into the hot-token file when the store was left alone while it was read (see the module comment);
   * call after the store was closed. Never throws: a failure only means the next call takes the usual path.
   */
  remember(token: string, expiresAt: number): void;
}

/**
 * The hot-token file of the current inputs (the `.env` as it reads now); undefined without one. Taken before the
 * configuration is loaded and handed to {@link watchStore}, it proves the `.env` the file is named after is the one
 * the configuration was read from (an edit in between would otherwise bind an answer of the old `.env` to the new one).
 */
export function hotTokenFile(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): string | undefined {
  try {
    return slotOf(env, cwd)?.file;
  } catch {
    return undefined;
  }
}

/**
 * Takes the store's stamp before it is opened, for a plain `webex-auth token` whose configuration depends on the
 * environment variables `names` only (besides the working directory's `.env`) and whose key ring is `WEBEX_AUTH_KEYS` of
 * the environment (`keys` is the ring the configuration holds: another source — a keys file, a `.env` value, the
 * development key — could change without the inputs the file is bound to changing, so nothing is remembered then).
 * `configuredAs`: {@link hotTokenFile} taken before the configuration was loaded; nothing is remembered if it
 * differs.
 */
export function watchStore(
  dbPath: string,
  keys: string | undefined,
  names: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
  cwd = process.cwd(),
  clock: () => number = Date.now,
  configuredAs?: string,
): HotTokenWriter {
  const off = { remember() {} };
  try {
    if (hotTokenOff(env) || !keys || keys !== env.WEBEX_AUTH_KEYS?.trim()) return off;
    const slot = slotOf(env, cwd);
    if (!slot || (configuredAs !== undefined && slot.file !== configuredAs)) return off;
    const before = JSON.stringify(stampOf(dbPath));
    // Quiet before the store was opened, not merely before `remember`: a commit whose WAL frames were written (moving
    // the stamp) but not yet published in the WAL index when the read began is missed by the read, and a slow read
    // would otherwise let the stamp that includes it count as quiet.
    const openedAt = clock();
    return {
      remember(token, expiresAt) {
        try {
          const stamp = stampOf(dbPath);
          if (JSON.stringify(stamp) !== before || !quiet(stamp, openedAt)) {
            rmSync(slot.file, { force: true });
            return;
          }
          const payload: Payload = {
            names: [...names],
            env: slot.envDigest(names),
            db: resolve(cwd, dbPath),
            stamp,
            exp: expiresAt,
            token,
          };
          const iv = randomBytes(12);
          const cipher = createCipheriv('aes-256-gcm', slot.key, iv);
          cipher.setAAD(Buffer.from(`${INFO}|${basename(slot.file)}`));
          const sealed = Buffer.concat([cipher.update(JSON.stringify(payload)), cipher.final(), cipher.getAuthTag()]);
          mkdirSync(slot.dir, { recursive: true, mode: 0o700 });
          if (!ownPrivate(statSync(slot.dir)) || !ownPrivate(statSync(dirname(slot.dir)))) return;
          const tmp = `${slot.file}.${process.pid}.tmp`;
          rmSync(tmp, { force: true });
          writeFileSync(tmp, `v1:${slot.kid}:${iv.toString('base64url')}:${sealed.toString('base64url')}`, {
            mode: 0o600,
            flag: 'wx',
          });
          renameSync(tmp, slot.file);
          // Files of other inputs (another directory, environment or key) outlive no access token (14 days).
          for (const other of readdirSync(slot.dir)) {
            const file = join(slot.dir, other);
            if (file !== slot.file && statSync(file).mtimeMs < clock() - STALE_MS) rmSync(file, { force: true });
          }
        } catch {
          // A cache: a read-only or full disk only means the next call takes the usual path again.
        }
      },
    };
  } catch {
    return off;
  }
}

/** Removes the hot-token file of the current inputs, if any (a failed or refused `token`); never throws. */
export function forgetHotToken(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): void {
  try {
    const slot = slotOf(env, cwd);
    if (slot) rmSync(slot.file, { force: true });
  } catch {
    // Nothing to forget, or no cache directory.
  }
}
