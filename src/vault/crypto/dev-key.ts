/**
 * Where the vault's key ring comes from: `WEBEX_AUTH_KEYS` when set; in production nothing else (fail closed); in
 * development a generated key, kept in the OS keychain where one can be reached, else in a 0600 key file.
 *
 * Either way a file `keys` sits next to the SQLite database (in the data directory with PostgreSQL): the key itself,
 * or a pointer naming the keychain entry that holds it. The file is only ever published whole and exclusively (written
 * aside, then hard-linked into place), and a pointer only once its entry is stored, so:
 * - processes starting at once on an empty store agree on one key, and none reads a half-written file;
 * - a crash leaves at worst an unused keychain entry or a 0600 copy of the key beside the file, never a pointer to
 *   nothing;
 * - a store that holds secrets never gets a new key: when its key file is gone, opening it stops and says why.
 * `WEBEX_AUTH_KEYCHAIN=off` keeps new keys in the file.
 */
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  existsSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { type Config, ConfigError } from '../../config.js';
import { type KeySource, VaultKeyError } from '../types.js';
import { describeKeychainEntry, errorReason, KEYCHAIN_SERVICE, keychainAccounts, keychainEntry } from './keychain.js';
import { generateKeyEntry, KeyRing, newKeyId } from './keyring.js';
import { keysFileOrigin, readKeysFile } from './keys-file.js';

/** Where a development key is kept: the key file, or the keychain account its pointer file names. */
export interface KeyLocation {
  source: KeySource;
  /** The key file (`file`), or the pointer file naming the keychain entry (`keychain`). */
  path?: string;
  /** The keychain account under service `webex-auth`, when `source` is `keychain`. */
  account?: string;
}

/** The key ring and where it came from. */
export interface ResolvedKeys extends KeyLocation {
  ring: KeyRing;
  /** Why a new key went to the file although the keychain was wanted; said once, in the log. */
  keychainSkipped?: string;
}

/** The settings key resolution reads (`keysFile`: `WEBEX_AUTH_KEYS_FILE`, see keys-file.ts). */
export type KeyConfig = Pick<Config, 'keys' | 'production' | 'databaseUrl' | 'dbPath' | 'dataDir' | 'keychain'> &
  Partial<Pick<Config, 'keysFile'>>;

/** What key resolution needs to know about the store. */
export interface KeyResolutionOptions {
  /** True when the store holds encrypted secrets; asked only when there is no key file, before making a key. */
  storeHasSecrets(): Promise<boolean>;
}

/** The development key file's path for `config`. */
export function keyFilePath(config: Pick<Config, 'databaseUrl' | 'dbPath' | 'dataDir'>): string {
  return join(config.databaseUrl ? config.dataDir : dirname(config.dbPath), 'keys');
}

/** The pointer line of a key file whose key is in the keychain: `keychain <account>`. */
const POINTER = /^keychain (.*)$/m;
/** A keychain account as webex-auth names one: printable, bounded (it reaches messages and the keychain's UI). */
const ACCOUNT = /^[^\p{Cc}]{1,512}$/u;

/**
 * Resolves the key ring for `config`: `WEBEX_AUTH_KEYS`, or the file `WEBEX_AUTH_KEYS_FILE` names (source `env`, with
 * `path`: both are the operator's ring), else a development key.
 * @throws {ConfigError} when both `WEBEX_AUTH_KEYS` and `WEBEX_AUTH_KEYS_FILE` are set, or the keys file cannot be read
 * or is open to other users. {@link VaultKeyError} in production without either; when the ring is malformed; when the
 * key file or the keychain entry it names cannot be read; when a store holding secrets has lost its key file.
 */
export async function resolveKeys(config: KeyConfig, options: KeyResolutionOptions): Promise<ResolvedKeys> {
  if (config.keys && config.keysFile) {
    throw new ConfigError(
      'WEBEX_AUTH_KEYS and WEBEX_AUTH_KEYS_FILE are both set: set one (the file lets a running server reload the ring on SIGHUP).',
      'WEBEX_AUTH_KEYS_FILE',
    );
  }
  if (config.keysFile) {
    const path = config.keysFile;
    return { ring: new KeyRing(readKeysFile(path), keysFileOrigin(path)), source: 'env', path };
  }
  if (config.keys) return { ring: new KeyRing(config.keys), source: 'env' };
  if (config.production) {
    throw new VaultKeyError(
      'WEBEX_AUTH_KEYS (or WEBEX_AUTH_KEYS_FILE) is required when NODE_ENV=production (generate one with `webex-auth keys generate`).',
    );
  }
  const path = keyFilePath(config);
  if (existsSync(path)) return fromKeyFile(path);
  if (await options.storeHasSecrets()) throw await lostKeyError(path);
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  // A key id of its own (not a fixed "dev1"): should two stores' keys ever have to meet in one ring — say two machines
  // that each made a key for one shared PostgreSQL database — they can.
  const entry = generateKeyEntry(newKeyId('devk'));
  let keychainSkipped: string | undefined;
  if (config.keychain) {
    const account = keychainAccount(path);
    const access = keychainEntry(account);
    if ('entry' in access) {
      try {
        await access.entry.set(entry);
      } catch (err) {
        keychainSkipped = `the keychain refused it (${errorReason(err)})`;
      }
      if (!keychainSkipped) {
        let published: boolean;
        try {
          published = publish(path, pointerText(account));
        } catch (err) {
          await access.entry.delete().catch(() => false);
          throw err;
        }
        if (published) {
          const where: KeyLocation = { source: 'keychain', path, account };
          return { ring: keyRingIn(entry, where), ...where };
        }
        // Another process published first: use its key, and drop the entry nobody will point to.
        await access.entry.delete().catch(() => false);
        return fromKeyFile(path);
      }
    } else {
      keychainSkipped = access.unavailable;
    }
  }
  if (!publish(path, `${entry}\n`)) return fromKeyFile(path);
  const where: KeyLocation = { source: 'file', path };
  return { ring: keyRingIn(entry, where), ...where, ...(keychainSkipped ? { keychainSkipped } : {}) };
}

/**
 * The start of every keychain account for the store whose key file is `path`: its absolute directory, made printable
 * and at most 400 characters (the end, which names the store), then `#`.
 */
function accountPrefix(path: string): string {
  const dir = resolve(dirname(path)).replace(/\p{Cc}/gu, '?');
  return `${dir.length > 400 ? `…${dir.slice(-399)}` : dir}#`;
}

/** A new keychain account for the store whose key file is `path`: {@link accountPrefix} and 8 random hex digits. */
function keychainAccount(path: string): string {
  return `${accountPrefix(path)}${randomBytes(4).toString('hex')}`;
}

/**
 * The development key ring entry of the store `config` names (from the key file or the keychain entry it names), to
 * carry the store to a place that sets `WEBEX_AUTH_KEYS`; undefined when the store has no development key yet.
 */
export async function readDevelopmentKey(config: KeyConfig): Promise<(KeyLocation & { entry: string }) | undefined> {
  const path = keyFilePath(config);
  return existsSync(path) ? readKeyEntry(path) : undefined;
}

/** Reads the key file: the key itself, or a pointer to the keychain entry that holds it. */
async function fromKeyFile(path: string): Promise<ResolvedKeys> {
  const { entry, ...where } = await readKeyEntry(path);
  return { ring: keyRingIn(entry, where), ...where };
}

/** The key ring entry the key file holds or names, and where it is. */
async function readKeyEntry(path: string): Promise<KeyLocation & { entry: string }> {
  const content = readFileSync(path, 'utf8');
  const pointer = POINTER.exec(content);
  if (pointer) {
    const account = (pointer[1] ?? '').replace(/\r$/, '');
    if (!ACCOUNT.test(account)) {
      throw new VaultKeyError(`The key file ${path} names no valid keychain entry; restore it from a backup.`);
    }
    return { entry: await fromKeychain(path, account), source: 'keychain', path, account };
  }
  if (statSync(path).mode & 0o077) chmodSync(path, 0o600);
  return { entry: content.trim(), source: 'file', path };
}

/** Reads the key from the keychain entry the key file names. */
async function fromKeychain(path: string, account: string): Promise<string> {
  const where = `${describeKeychainEntry(account)}, named in ${path}`;
  const access = keychainEntry(account);
  if ('unavailable' in access) {
    throw new VaultKeyError(
      `This store's encryption key is in ${where}, which cannot be reached: ${access.unavailable}. Run where that keychain is reachable and unlocked (on Linux, a session with a Secret Service on its D-Bus session bus); for a service without one, run \`webex-auth keys local\` where it is reachable and set WEBEX_AUTH_KEYS to what it prints.`,
    );
  }
  let entry: string | undefined;
  try {
    entry = await access.entry.get();
  } catch (err) {
    throw new VaultKeyError(
      `This store's encryption key is in ${where}, which refused to give it: ${errorReason(err)}. Unlock the keychain (or allow this node binary to read the entry) and try again.`,
    );
  }
  if (!entry) {
    throw new VaultKeyError(
      `This store's encryption key should be in ${where}, but the entry is missing. Restore it; or, if the store holds nothing you need, delete ${path} together with the database to start afresh.`,
    );
  }
  return entry;
}

/** The key ring of a key-file or keychain entry, named by where it is in every error (never as `WEBEX_AUTH_KEYS`). */
function keyRingIn(entry: string, where: KeyLocation): KeyRing {
  const place = where.account ? describeKeychainEntry(where.account) : `the key file ${where.path}`;
  try {
    return new KeyRing(entry, place);
  } catch {
    throw new VaultKeyError(`${place} does not hold a key ring entry ("kid:base64" of a 32-byte key).`);
  }
}

/** The store holds secrets but its key file is gone: making a new key would orphan them all. */
async function lostKeyError(path: string): Promise<VaultKeyError> {
  const prefix = accountPrefix(path);
  const accounts = (await keychainAccounts()).filter((a) => a.startsWith(prefix));
  const copies = readdirSync(dirname(path)).filter((f) => f.startsWith(`${basename(path)}.`) && f.endsWith('.tmp'));
  const hints = [
    accounts.length > 0
      ? ` The OS keychain holds webex-auth keys for this directory under account ${accounts.map((a) => JSON.stringify(a)).join(', ')}: a key file with the line "keychain <account>" points to one.`
      : '',
    copies.length > 0
      ? ` Left-over copies that may hold it: ${copies.map((f) => join(dirname(path), f)).join(', ')}.`
      : '',
  ];
  return new VaultKeyError(
    `This store holds encrypted secrets but its key file ${path} is missing, so no new key is made. Put the file back; or, if another machine made this store (a shared PostgreSQL database), run \`webex-auth keys local\` there and set WEBEX_AUTH_KEYS here to what it prints.${hints.join('')}`,
  );
}

/**
 * Publishes `content` (mode 0600) at `path` whole and only if nothing is there yet: written and synced aside, then
 * hard-linked into place, so no reader ever sees it half-written. False when `path` already exists.
 */
function publish(path: string, content: string): boolean {
  const aside = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    const fd = openSync(aside, 'wx', 0o600);
    try {
      writeSync(fd, content);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    try {
      linkSync(aside, path);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') return false;
      // A file system without hard links: exclusive create, which a concurrent reader might see before it is written.
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'ENOSYS') throw err;
      try {
        writeFileSync(path, content, { mode: 0o600, flag: 'wx' });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
        throw e;
      }
    }
    syncDirectory(dirname(path));
    return true;
  } finally {
    // Whatever happened, no copy of the key is left beside the file (a crash before this line can leave one: the
    // error for a lost key file lists such copies).
    rmSync(aside, { force: true });
  }
}

/** Makes a new directory entry durable (a power cut must not lose the key file of secrets already stored). */
function syncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Not every platform can open or sync a directory (Windows): the file's own fsync is what there is.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** The key file of a store whose key is in the keychain: a comment for people, then the {@link POINTER} line. */
function pointerText(account: string): string {
  return [
    '# webex-auth keeps the encryption key of this store in the OS keychain, under the account below',
    `# (service "${KEYCHAIN_SERVICE}"). Without this file the store cannot be opened; keep it with the database.`,
    `keychain ${account}`,
    '',
  ].join('\n');
}
