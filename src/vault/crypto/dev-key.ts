/**
 * Where the vault's key ring comes from: `WEBEX_AUTH_KEYS` when set; in production nothing else (fail closed); in
 * development a generated key, kept in the OS keychain where one can be reached, else in a 0600 key file. Either way
 * a file `keys` sits next to the SQLite database (in the data directory with PostgreSQL): the key itself, or a pointer
 * naming the keychain entry. The file is created exclusively, so two processes starting on an empty store agree on
 * one key; a key already in use is never replaced. `WEBEX_AUTH_KEYCHAIN=off` keeps new keys in the file.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Config } from '../../config.js';
import { type KeySource, VaultKeyError } from '../types.js';
import { KEYCHAIN_SERVICE, type Keychain, keychainErrorReason, openKeychain } from './keychain.js';
import { generateKeyEntry, KeyRing } from './keyring.js';

/** The key ring and where it came from. */
export interface ResolvedKeys {
  ring: KeyRing;
  source: KeySource;
  /** The key file (`file`), or the pointer file naming the keychain entry (`keychain`). */
  path?: string;
  /** The keychain account under service `webex-auth`, when `source` is `keychain`. */
  account?: string;
  /** Why a new key went to the file although the keychain was wanted; said once, in the log. */
  keychainSkipped?: string;
}

/** The settings key resolution reads. */
export type KeyConfig = Pick<Config, 'keys' | 'production' | 'databaseUrl' | 'dbPath' | 'dataDir' | 'keychain'>;

/** The development key file's path for `config`. */
export function keyFilePath(config: Pick<Config, 'databaseUrl' | 'dbPath' | 'dataDir'>): string {
  return join(config.databaseUrl ? config.dataDir : dirname(config.dbPath), 'keys');
}

const POINTER = /^keychain (.+)$/m;
/** How long a reader waits for the process that claimed a new keychain key to store it. */
const CLAIM_WAIT_MS = 5_000;

/** Resolves the key ring for `config`; throws {@link VaultKeyError} in production without `WEBEX_AUTH_KEYS`. */
export function resolveKeys(config: KeyConfig): ResolvedKeys {
  if (config.keys) return { ring: new KeyRing(config.keys), source: 'env' };
  if (config.production) {
    throw new VaultKeyError(
      'WEBEX_AUTH_KEYS is required when NODE_ENV=production (generate one with `webex-auth keys generate`).',
    );
  }
  const path = keyFilePath(config);
  if (existsSync(path)) return fromKeyFile(path);
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  if (config.keychain) {
    const access = openKeychain();
    if ('keychain' in access) return createInKeychain(path, access.keychain);
    return { ...createKeyFile(path), keychainSkipped: access.unavailable };
  }
  return createKeyFile(path);
}

/** Reads the key file: the key itself, or a pointer to the keychain entry that holds it. */
function fromKeyFile(path: string): ResolvedKeys {
  const { entry, ...where } = readKeyEntry(path);
  return { ring: new KeyRing(entry), ...where };
}

/** The key ring entry the key file holds or names, and where it is. */
function readKeyEntry(path: string): { entry: string; source: KeySource; path: string; account?: string } {
  const content = readFileSync(path, 'utf8');
  const account = POINTER.exec(content)?.[1]?.trim();
  if (account) return fromKeychain(path, account);
  if (statSync(path).mode & 0o077) chmodSync(path, 0o600);
  return { entry: content.trim(), source: 'file', path };
}

/**
 * The development key ring entry of the store `config` names (from the key file or the keychain entry it names),
 * to carry the store to a place that sets `WEBEX_AUTH_KEYS`; undefined when the store has no development key yet.
 */
export function readDevelopmentKey(config: KeyConfig): { entry: string; source: KeySource; path: string } | undefined {
  const path = keyFilePath(config);
  return existsSync(path) ? readKeyEntry(path) : undefined;
}

/** Creates the key file with a new key; if another process just created it, uses theirs. */
function createKeyFile(path: string): ResolvedKeys {
  // `wx`: never overwrite a key file another process just created (that would orphan its ciphertexts).
  if (!claim(path, `${generateKeyEntry('dev1')}\n`)) return fromKeyFile(path);
  return { ring: new KeyRing(readFileSync(path, 'utf8').trim()), source: 'file', path };
}

/**
 * Claims the store by creating the pointer file, then stores a new key in the keychain. If the keychain refuses
 * (locked, its unlock prompt dismissed), the claimant writes the key into the file instead; readers waiting on the
 * claim see either.
 */
function createInKeychain(path: string, keychain: Keychain): ResolvedKeys {
  const account = `${dirname(path)}#${randomBytes(4).toString('hex')}`;
  if (!claim(path, pointerText(account))) return fromKeyFile(path);
  const entry = generateKeyEntry('dev1');
  try {
    keychain.set(account, entry);
  } catch (err) {
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, `${entry}\n`, { mode: 0o600 });
    renameSync(tmp, path);
    return {
      ring: new KeyRing(entry),
      source: 'file',
      path,
      keychainSkipped: `the keychain refused it (${keychainErrorReason(err)})`,
    };
  }
  return { ring: new KeyRing(entry), source: 'keychain', path, account };
}

/** Reads the key from the keychain entry the pointer file names, waiting briefly on a claim in progress. */
function fromKeychain(
  path: string,
  account: string,
): { entry: string; source: KeySource; path: string; account?: string } {
  const where = `the OS keychain (service "${KEYCHAIN_SERVICE}", account "${account}", named in ${path})`;
  const access = openKeychain();
  if ('unavailable' in access) {
    throw new VaultKeyError(
      `This store's encryption key is in ${where}, which cannot be reached: ${access.unavailable}. Run where the keychain is unlocked (on Linux, a desktop session with a Secret Service).`,
    );
  }
  const claimedAt = statSync(path).mtimeMs;
  for (;;) {
    let entry: string | undefined;
    try {
      entry = access.keychain.get(account);
    } catch (err) {
      throw new VaultKeyError(
        `This store's encryption key is in ${where}, which refused to give it: ${keychainErrorReason(err)}. Unlock the keychain and try again.`,
      );
    }
    if (entry) return { entry, source: 'keychain', path, account };
    // The claimant may still be storing it, or may have fallen back to the file.
    const content = readFileSync(path, 'utf8');
    if (!POINTER.test(content)) return readKeyEntry(path);
    if (Date.now() - claimedAt > CLAIM_WAIT_MS) {
      throw new VaultKeyError(
        `This store's encryption key should be in ${where}, but the entry is missing. Restore it; or, if the store holds nothing you need, delete ${path} together with the database to start afresh.`,
      );
    }
    sleepSync(50);
  }
}

/** Creates `path` exclusively with `content` (mode 0600); false when it already exists. */
function claim(path: string, content: string): boolean {
  try {
    writeFileSync(path, content, { mode: 0o600, flag: 'wx' });
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

function pointerText(account: string): string {
  return [
    '# webex-auth keeps the encryption key of this store in the OS keychain, not in this file:',
    `# service "${KEYCHAIN_SERVICE}", account as below. Deleting this file does not delete the key.`,
    `keychain ${account}`,
    '',
  ].join('\n');
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
