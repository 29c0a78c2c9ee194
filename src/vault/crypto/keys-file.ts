/**
 * `WEBEX_AUTH_KEYS_FILE`: a file holding the key ring (`kid:base64,kid:base64`; commas, spaces and newlines separate
 * entries, lines starting with `#` are comments), read at start and again when the server gets SIGHUP.
 *
 * Like ssh with a private key, a file that other users could read or write is refused: mode must allow nothing to
 * group and others (`chmod 600`). Errors name the file and an entry's position, never a key.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { ConfigError } from '../../config.js';
import { VaultKeyError } from '../types.js';
import { parseKeyRing, type RingKey } from './keyring.js';

/** The largest keys file read (a ring of a few keys is well under 1 KiB). */
const MAX_BYTES = 64 * 1024;

/** How the ring read from `path` is named in messages. */
export function keysFileOrigin(path: string): string {
  return `WEBEX_AUTH_KEYS_FILE ${path}`;
}

/**
 * Reads and parses the keys file at `path`.
 * @throws {ConfigError} (setting `WEBEX_AUTH_KEYS_FILE`) when it cannot be read, is not a regular file, or group or
 * others have any access to it; {@link VaultKeyError} when its content is not a key ring.
 */
export function readKeysFile(path: string): RingKey[] {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new ConfigError(`WEBEX_AUTH_KEYS_FILE ${path} cannot be read (${code}).`, 'WEBEX_AUTH_KEYS_FILE');
  }
  let text: string;
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) {
      throw new ConfigError(`WEBEX_AUTH_KEYS_FILE ${path} is not a regular file.`, 'WEBEX_AUTH_KEYS_FILE');
    }
    // Windows has no such mode bits (its ACLs decide).
    if (process.platform !== 'win32' && stat.mode & 0o077) {
      const mode = (stat.mode & 0o777).toString(8).padStart(4, '0');
      throw new ConfigError(
        `WEBEX_AUTH_KEYS_FILE ${path} is accessible by other users (mode ${mode}); it holds the encryption keys, so it is refused: run \`chmod 600 ${path}\`.`,
        'WEBEX_AUTH_KEYS_FILE',
      );
    }
    const buf = Buffer.alloc(MAX_BYTES + 1);
    let length = 0;
    for (let n = 1; n > 0 && length < buf.length; length += n) n = readSync(fd, buf, length, buf.length - length, null);
    text = buf.subarray(0, length).toString('utf8');
    buf.fill(0);
    if (length > MAX_BYTES) {
      throw new VaultKeyError(`${keysFileOrigin(path)} is larger than ${MAX_BYTES} bytes: it is not a key ring.`);
    }
  } finally {
    closeSync(fd);
  }
  return parseKeysText(text, path);
}

/** Parses the content of a keys file (see the module comment). */
export function parseKeysText(text: string, path: string): RingKey[] {
  const entries = text
    .split(/\r?\n/)
    .filter((line) => !line.trimStart().startsWith('#'))
    .join('\n')
    .split(/[\s,]+/)
    .filter(Boolean);
  return parseKeyRing(entries.join(','), keysFileOrigin(path));
}
