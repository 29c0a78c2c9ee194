/**
 * Plaintexts held beside their ciphertext (crypto/opened.ts): an unchanged value is not decrypted again, and anything
 * else — another ciphertext, another slot, a reloaded ring without the key — is opened (and refused) as the ring would.
 */
import { describe, expect, it, vi } from 'vitest';
import { KeyRing, parseKeyRing } from '../../src/vault/crypto/keyring.js';
import { OpenedSecrets } from '../../src/vault/crypto/opened.js';
import { VaultKeyError } from '../../src/vault/index.js';
import { TEST_KEY, TEST_KEY_2 } from './helpers.js';

const slot = { table: 'web_sessions', rowId: 'hash_1', column: 'data' };

function setUp() {
  const ring = new KeyRing(TEST_KEY);
  const opens = vi.spyOn(ring, 'decrypt');
  return { ring, opens, secrets: new OpenedSecrets(ring, 10) };
}

describe('OpenedSecrets', () => {
  it('opens a value it sealed, or opened once, without decrypting it again', () => {
    const { ring, opens, secrets } = setUp();
    const enc = secrets.encrypt('{"a":1}', slot);
    expect(secrets.decrypt(enc, slot)).toBe('{"a":1}');
    expect(opens).not.toHaveBeenCalled();
    const other = ring.encrypt('{"b":2}', slot);
    expect(secrets.decrypt(other, slot)).toBe('{"b":2}');
    expect(secrets.decrypt(other, slot)).toBe('{"b":2}');
    expect(opens).toHaveBeenCalledTimes(1);
  });

  it('decrypts a changed or altered value, and refuses one moved to another slot', () => {
    const { opens, secrets } = setUp();
    const enc = secrets.encrypt('secret', slot);
    // The second-to-last character changed (the last one of base64 may carry unused bits); never to itself.
    const altered = `${enc.slice(0, -2)}${enc.at(-2) === 'A' ? 'B' : 'A'}${enc.slice(-1)}`;
    expect(altered).not.toBe(enc);
    expect(() => secrets.decrypt(altered, slot)).toThrow(VaultKeyError);
    // The value held is the one of the ciphertext it came from, never another's.
    expect(() => secrets.decrypt(enc, { ...slot, rowId: 'hash_2' })).toThrow(VaultKeyError);
    expect(opens).toHaveBeenCalledTimes(2);
  });

  it('opens again after the ring is reloaded, and fails once its key is gone', () => {
    const { ring, secrets } = setUp();
    const enc = secrets.encrypt('secret', slot);
    ring.replace(parseKeyRing(TEST_KEY_2));
    expect(() => secrets.decrypt(enc, slot)).toThrow(VaultKeyError);
  });

  it('decrypts again what was forgotten', () => {
    const { opens, secrets } = setUp();
    const enc = secrets.encrypt('secret', slot);
    secrets.forget(slot);
    expect(secrets.decrypt(enc, slot)).toBe('secret');
    expect(opens).toHaveBeenCalledTimes(1);
  });
});

describe('OpenedSecrets memory', () => {
  it('does not hold a long value', () => {
    const { opens, secrets } = setUp();
    const enc = secrets.encrypt('x'.repeat(10_000), slot);
    expect(secrets.decrypt(enc, slot)).toHaveLength(10_000);
    expect(opens).toHaveBeenCalledTimes(1);
  });
});
