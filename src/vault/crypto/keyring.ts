/**
 * The key ring `WEBEX_AUTH_KEYS` (`kid:base64,kid:base64`, the first key encrypts) and envelope encryption with it:
 * each secret gets its own random 256-bit data key; the secret is sealed with AES-256-GCM under the data key, and the
 * data key is sealed (wrapped) with AES-256-GCM under the ring's active key. Both seals carry the same additional
 * authenticated data — row id and column — so a ciphertext copied to another row or column fails to open.
 *
 * node:crypto's AES-GCM is used as is (no hand-rolled primitives): a 96-bit random IV per seal, a 128-bit tag.
 * Stored form: `v1:<kid>:<wrap iv>:<wrapped key+tag>:<iv>:<ciphertext+tag>` (base64url parts).
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { VaultKeyError } from '../types.js';
import { secureRandomBytes } from './random.js';

/** One key of the ring. */
export interface RingKey {
  kid: string;
  key: Buffer;
}

/** Where a secret lives; bound into the ciphertext as additional authenticated data. */
export interface SecretSlot {
  table: string;
  rowId: string;
  column: string;
}

const KID = /^[A-Za-z0-9_.-]{1,64}$/;

/**
 * Parses a key ring string; throws {@link VaultKeyError} naming the bad entry's position (never its value).
 * `origin` names where the ring came from in those errors (default `WEBEX_AUTH_KEYS`).
 */
export function parseKeyRing(ring: string, origin = 'WEBEX_AUTH_KEYS'): RingKey[] {
  const keys = ring
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean)
    .map((entry, i) => {
      const sep = entry.indexOf(':');
      const kid = entry.slice(0, sep);
      const key = Buffer.from(entry.slice(sep + 1), 'base64');
      if (sep < 1 || !KID.test(kid) || key.length !== 32) {
        throw new VaultKeyError(
          `${origin} entry ${i + 1} is not "kid:base64" of a 32-byte key (generate one with \`webex-auth keys generate\`)`,
        );
      }
      return { kid, key };
    });
  if (keys.length === 0) throw new VaultKeyError(`${origin} is empty`);
  if (new Set(keys.map((k) => k.kid)).size !== keys.length) throw new VaultKeyError(`${origin} repeats a key id`);
  return keys;
}

/** A new key id: `prefix`, today's date and 6 random hex digits (`k20261123a1b2c3`), so that ids rarely meet. */
export function newKeyId(prefix = 'k'): string {
  return `${prefix}${new Date().toISOString().slice(0, 10).replace(/-/g, '')}${randomBytes(3).toString('hex')}`;
}

/** Generates a new ring entry `kid:base64` with a random 32-byte key. */
export function generateKeyEntry(kid = newKeyId()): string {
  return `${kid}:${randomBytes(32).toString('base64')}`;
}

const b64 = (b: Buffer) => b.toString('base64url');
const unb64 = (s: string) => Buffer.from(s, 'base64url');

function seal(key: Buffer, plaintext: Buffer, aad: Buffer): { iv: Buffer; sealed: Buffer } {
  const iv = secureRandomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(aad);
  const sealed = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  return { iv, sealed };
}

function open(key: Buffer, iv: Buffer, sealed: Buffer, aad: Buffer): Buffer {
  if (sealed.length < 16 || iv.length !== 12) throw new Error('truncated');
  const decipher = createDecipheriv('aes-256-gcm', key, iv);
  decipher.setAAD(aad);
  decipher.setAuthTag(sealed.subarray(sealed.length - 16));
  return Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - 16)), decipher.final()]);
}

const aadOf = (slot: SecretSlot) => Buffer.from(`webex-auth/v1|${slot.table}|${slot.rowId}|${slot.column}`);

/** How long a key met in stored data but missing from the ring is reported ({@link KeyRing.missingKeyId}). */
export const MISSING_KEY_WINDOW_MS = 60_000;

/** The tables of long-lived secrets (rotation.ts): a session sealed under a dropped key is no alarm, it is no session. */
const TRACKED_TABLES = new Set(['integrations', 'connections']);

/**
 * Encrypts and decrypts secrets with a key ring; fails closed with {@link VaultKeyError}. The ring can be swapped in
 * place ({@link KeyRing.replace}): everything holding this object sees the new keys at its next call.
 */
export class KeyRing {
  #keys: RingKey[];
  /** Key ids met in stored long-lived data but missing from the ring → when last met (epoch ms). */
  readonly #missing = new Map<string, number>();

  /** `origin` names where the ring came from in error messages (a development key is not in `WEBEX_AUTH_KEYS`). */
  constructor(
    ring: string | RingKey[],
    public origin = 'WEBEX_AUTH_KEYS',
  ) {
    this.#keys = typeof ring === 'string' ? parseKeyRing(ring, origin) : ring;
    if (this.#keys.length === 0) throw new VaultKeyError('the key ring is empty');
  }

  /** The keys, the active (encrypting) one first. */
  get keys(): readonly RingKey[] {
    return this.#keys;
  }

  /**
   * Swaps the keys in place (a reloaded ring) and names where they now come from; the caller checked that they open
   * what the store holds. Keys met missing before and present now stop being reported.
   */
  replace(keys: RingKey[], origin = this.origin): void {
    if (keys.length === 0) throw new VaultKeyError('the key ring is empty');
    this.#keys = keys;
    this.origin = origin;
    for (const kid of [...this.#missing.keys()]) if (keys.some((k) => k.kid === kid)) this.#missing.delete(kid);
  }

  /**
   * A key id that stored integrations or connections were met encrypted under in the last
   * {@link MISSING_KEY_WINDOW_MS} and that the ring still lacks (the most recently met); undefined when none.
   */
  missingKeyId(now = Date.now()): string | undefined {
    let found: { kid: string; at: number } | undefined;
    for (const [kid, at] of this.#missing) {
      if (now - at > MISSING_KEY_WINDOW_MS || this.#keys.some((k) => k.kid === kid)) continue;
      if (!found || at > found.at) found = { kid, at };
    }
    return found?.kid;
  }

  /** The id of the key that encrypts. */
  get activeKeyId(): string {
    return (this.#keys[0] as RingKey).kid;
  }

  /** Seals `plaintext` for `slot` under a fresh data key wrapped by the active key. */
  encrypt(plaintext: string, slot: SecretSlot): string {
    const active = this.#keys[0] as RingKey;
    const aad = aadOf(slot);
    const dataKey = secureRandomBytes(32);
    const data = seal(dataKey, Buffer.from(plaintext, 'utf8'), aad);
    const wrap = seal(active.key, dataKey, Buffer.concat([Buffer.from(`${active.kid}|`), aad]));
    dataKey.fill(0);
    return ['v1', active.kid, b64(wrap.iv), b64(wrap.sealed), b64(data.iv), b64(data.sealed)].join(':');
  }

  /**
   * 32-byte keys derived from every key of the ring for `purpose` (HKDF-SHA256, empty salt, info
   * `webex-auth <purpose>`), the active key's first. Distinct purposes give unrelated keys, and none reveals a ring
   * key. A signer signs with the first and accepts any: processes sharing the ring share signatures, and a rotation
   * (a new active key, the old one kept) keeps what the old key signed valid.
   */
  deriveKeys(purpose: string): Buffer[] {
    if (typeof purpose !== 'string' || purpose.length === 0) throw new TypeError('deriveKeys needs a purpose');
    const info = `webex-auth ${purpose}`;
    return this.#keys.map((k) => Buffer.from(hkdfSync('sha256', k.key, Buffer.alloc(0), info, 32)));
  }

  /** The key id a stored value was sealed under. */
  keyIdOf(stored: string): string | undefined {
    return stored.startsWith('v1:') ? stored.split(':')[1] : undefined;
  }

  /**
   * Opens a stored value for `slot`.
   * @throws {VaultKeyError} when the value's key is not in the ring (then with that `keyId`), the key is wrong, or the
   * value was tampered with or moved — never returns garbage or the stored text.
   */
  decrypt(stored: string, slot: SecretSlot): string {
    const parts = stored.split(':');
    const where = `${slot.table}.${slot.column} of ${slot.rowId}`;
    if (parts.length !== 6 || parts[0] !== 'v1') {
      throw new VaultKeyError(`The vault cannot read ${where}: it is not an encrypted value this version understands.`);
    }
    const [, kid, wrapIv, wrapped, iv, sealed] = parts as [string, string, string, string, string, string];
    const ringKey = this.#keys.find((k) => k.kid === kid);
    if (!ringKey) {
      if (TRACKED_TABLES.has(slot.table) && KID.test(kid)) this.#noteMissing(kid);
      throw new VaultKeyError(
        `The vault cannot decrypt ${where}: it is encrypted under key "${kid}", which is not in ${this.origin}. Add that key to the ring.`,
        KID.test(kid) ? kid : undefined,
      );
    }
    const aad = aadOf(slot);
    let dataKey: Buffer;
    try {
      dataKey = open(ringKey.key, unb64(wrapIv), unb64(wrapped), Buffer.concat([Buffer.from(`${kid}|`), aad]));
    } catch {
      throw new VaultKeyError(
        `The vault cannot decrypt ${where}: key "${kid}" in ${this.origin} is not the key it was encrypted with (or the value was altered).`,
      );
    }
    try {
      return open(dataKey, unb64(iv), unb64(sealed), aad).toString('utf8');
    } catch {
      throw new VaultKeyError(`The vault cannot decrypt ${where}: the value was altered or belongs to another row.`);
    } finally {
      dataKey.fill(0);
    }
  }

  #noteMissing(kid: string): void {
    this.#missing.delete(kid);
    this.#missing.set(kid, Date.now());
    // Bounded (ids come from the store, which another process writes): the oldest goes first.
    if (this.#missing.size > 16) this.#missing.delete(this.#missing.keys().next().value as string);
  }
}
