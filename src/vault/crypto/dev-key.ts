/**
 * Where the vault's key ring comes from: `WEBEX_AUTH_KEYS` when set; in production nothing else (fail closed);
 * in development a generated key kept in a 0600 key file `keys` next to the SQLite database (or in the data
 * directory with PostgreSQL). The OS keychain would come first, but no keychain binding (`@napi-rs/keyring`) is a
 * dependency of this package, so the file is what development uses; `keySource` says which, once, in the log.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Config } from '../../config.js';
import { type KeySource, VaultKeyError } from '../types.js';
import { generateKeyEntry, KeyRing } from './keyring.js';

/** The key ring and where it came from. */
export interface ResolvedKeys {
  ring: KeyRing;
  source: KeySource;
  /** The key file, when `source` is `file`. */
  path?: string;
}

/** The development key file's path for `config`. */
export function keyFilePath(config: Pick<Config, 'databaseUrl' | 'dbPath' | 'dataDir'>): string {
  return join(config.databaseUrl ? config.dataDir : dirname(config.dbPath), 'keys');
}

/** Resolves the key ring for `config`; throws {@link VaultKeyError} in production without `WEBEX_AUTH_KEYS`. */
export function resolveKeys(
  config: Pick<Config, 'keys' | 'production' | 'databaseUrl' | 'dbPath' | 'dataDir'>,
): ResolvedKeys {
  if (config.keys) return { ring: new KeyRing(config.keys), source: 'env' };
  if (config.production) {
    throw new VaultKeyError(
      'WEBEX_AUTH_KEYS is required when NODE_ENV=production (generate one with `webex-auth keys generate`).',
    );
  }
  const path = keyFilePath(config);
  if (existsSync(path)) {
    const mode = statSync(path).mode & 0o777;
    if (mode & 0o077) chmodSync(path, 0o600);
    return { ring: new KeyRing(readFileSync(path, 'utf8').trim()), source: 'file', path };
  }
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const entry = generateKeyEntry('dev1');
  // `wx`: never overwrite a key file another process just created (that would orphan its ciphertexts).
  try {
    writeFileSync(path, `${entry}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  return { ring: new KeyRing(readFileSync(path, 'utf8').trim()), source: 'file', path };
}
