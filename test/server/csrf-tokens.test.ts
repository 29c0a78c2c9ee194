/**
 * The stateless CSRF tokens (src/server/access/csrf.ts): bound to a session (or to none), to the ring's keys and to
 * their second of issue — and its one-entry memo of the last MAC never answers for another key, binding or second.
 */
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CSRF_TTL_MS, CsrfTokens } from '../../src/server/access/csrf.js';

const key = () => randomBytes(32);

describe('CsrfTokens', () => {
  it('accepts a token for the session it was issued to, and no other', () => {
    let now = 1_700_000_000_000;
    const csrf = new CsrfTokens([key()], () => now);
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 40 }), fc.string({ minLength: 1, maxLength: 40 }), (a, b) => {
        now += 1;
        const token = csrf.issue(a);
        expect(csrf.verify(token, a, false)).toBe(true);
        if (a !== b) expect(csrf.verify(token, b, false)).toBe(false);
        // A session's token is not an anonymous one, whichever was computed last.
        expect(csrf.verify(token, undefined, false)).toBe(false);
        expect(csrf.verify(csrf.issue(undefined), a, false)).toBe(false);
        expect(csrf.verify(csrf.issue(undefined), a, true)).toBe(true);
      }),
    );
  });

  it('gives every browser without a session the same token within a second, and a new one the next second', () => {
    let now = 1_700_000_000_000;
    const csrf = new CsrfTokens([key()], () => now);
    const first = csrf.issue(undefined);
    now += 999;
    expect(csrf.issue(undefined)).toBe(first);
    now += 1;
    const next = csrf.issue(undefined);
    expect(next).not.toBe(first);
    expect(csrf.verify(first, undefined, false)).toBe(true);
    expect(csrf.verify(next, undefined, false)).toBe(true);
  });

  it('never answers from the memo for another key: a ring without the signing key refuses its tokens', () => {
    const now = () => 1_700_000_000_000;
    const [k1, k2] = [key(), key()];
    const signer = new CsrfTokens([k1], now);
    const other = new CsrfTokens([k2], now);
    const token = signer.issue('s');
    // The same message under another key, computed right after: a different MAC.
    expect(other.issue('s')).not.toBe(token);
    expect(other.verify(token, 's', false)).toBe(false);
    // After a rotation the new key signs and the old one still verifies.
    const rotated = new CsrfTokens([k2, k1], now);
    expect(rotated.verify(token, 's', false)).toBe(true);
    expect(rotated.issue('s')).toBe(other.issue('s'));
  });

  it('after a key ring reload (the same key array refilled in place) refuses the dropped key and signs with the new one', () => {
    const now = () => 1_700_000_000_000;
    const [k1, k2] = [key(), key()];
    const keys = [k1];
    const csrf = new CsrfTokens(keys, now);
    const before = csrf.issue('s');
    expect(csrf.verify(before, 's', false)).toBe(true);
    keys.splice(0, keys.length, k2);
    expect(csrf.verify(before, 's', false)).toBe(false);
    const after = csrf.issue('s');
    expect(after).not.toBe(before);
    expect(csrf.verify(after, 's', false)).toBe(true);
  });

  it('refuses a tampered, expired, future or malformed token', () => {
    let now = 1_700_000_000_000;
    const csrf = new CsrfTokens([key()], () => now);
    const token = csrf.issue('s');
    const mac = token.slice(token.indexOf('.') + 1);
    const flipped = `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`;
    expect(csrf.verify(flipped, 's', false)).toBe(false);
    expect(csrf.verify(`${(Math.floor(now / 1000) + 1).toString(36)}.${mac}`, 's', false)).toBe(false);
    for (const bad of [undefined, 42, '', '.', 'abc', `x.${mac}`, 'a'.repeat(101)]) {
      expect(csrf.verify(bad, 's', false)).toBe(false);
    }
    now += CSRF_TTL_MS + 1000;
    expect(csrf.verify(token, 's', false)).toBe(false);
    now -= CSRF_TTL_MS + 1000 + 120_000;
    expect(csrf.verify(token, 's', false)).toBe(false);
  });
});
