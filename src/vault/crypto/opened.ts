/**
 * Envelope decryption is two AES-GCM opens (the wrapped data key, then the value), tens of microseconds each time.
 * Short-lived values that this process seals and soon opens again (a web session's data, read back on every request of
 * its browser; a pending authorization, taken back by its callback) are kept here in clear beside the very ciphertext
 * they came from, so the next read of that row skips the decryption.
 *
 * A held plaintext is answered only when all of these hold, so the answer is always the one decrypting would give:
 * - the stored value is the exact ciphertext it was sealed into or opened from (a row rewritten by any process, or
 *   altered, carries another ciphertext and is decrypted — and refused — as usual);
 * - the slot (table, row, column: the additional authenticated data) is the same: a ciphertext copied to another row
 *   is opened for that row, and fails;
 * - the key ring holds the same keys as then (a reloaded ring, maybe without the key, opens everything again).
 * The store is still read every time: only the decryption of an unchanged value is saved.
 */
import { BoundedCache } from '../bounded-cache.js';
import type { KeyRing, RingKey, SecretSlot } from './keyring.js';

interface Held {
  enc: string;
  text: string;
  /** The ring's keys when it was held (the ring swaps this array when it is reloaded). */
  keys: readonly RingKey[];
}

const slotKey = (slot: SecretSlot) => `${slot.table}|${slot.rowId}|${slot.column}`;

/** Longer plaintexts are not held (a session carrying a Try-it answer): the bound on entries then bounds memory. */
const MAX_HELD_CHARS = 8192;

/** {@link KeyRing.encrypt} and {@link KeyRing.decrypt} that remember the last plaintext of each slot. */
export class OpenedSecrets {
  readonly #held: BoundedCache<string, Held>;

  /** At most `max` plaintexts are held (the least recently set go first). */
  constructor(
    private readonly ring: KeyRing,
    max = 1000,
  ) {
    this.#held = new BoundedCache(max);
  }

  /** Seals `plaintext` for `slot` (as {@link KeyRing.encrypt}), holding it for the next {@link decrypt} of the value. */
  encrypt(plaintext: string, slot: SecretSlot): string {
    const enc = this.ring.encrypt(plaintext, slot);
    this.#hold(slotKey(slot), enc, plaintext);
    return enc;
  }

  /** Opens `stored` for `slot` (as {@link KeyRing.decrypt}, and throws as it does), without AES when it is held. */
  decrypt(stored: string, slot: SecretSlot): string {
    const key = slotKey(slot);
    const hit = this.#held.get(key);
    if (hit && hit.enc === stored && hit.keys === this.ring.keys) return hit.text;
    const text = this.ring.decrypt(stored, slot);
    this.#hold(key, stored, text);
    return text;
  }

  #hold(key: string, enc: string, text: string): void {
    if (text.length <= MAX_HELD_CHARS) this.#held.set(key, { enc, text, keys: this.ring.keys });
    // A longer value replaces an older one of the slot: nothing stale is left behind.
    else this.#held.delete(key);
  }

  /** Drops what is held for `slot` (its row is gone or used up). */
  forget(slot: SecretSlot): void {
    this.#held.delete(slotKey(slot));
  }
}
