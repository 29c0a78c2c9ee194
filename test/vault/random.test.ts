/**
 * The pooled random bytes of the hot paths (src/vault/crypto/random.ts): the sizes asked for, never the same bytes
 * twice across pool refills, and sizes beyond the pool's bound served too.
 */
import { describe, expect, it } from 'vitest';
import { secureRandomBytes } from '../../src/vault/crypto/random.js';

describe('secureRandomBytes', () => {
  it('returns the size asked for, with no value handed out twice across several pool refills', () => {
    const seen = new Set<string>();
    // 12 and 32 bytes, as the key ring draws them: about 20 refills of the 4 KiB pool.
    for (let i = 0; i < 4000; i++) {
      const size = i % 2 ? 12 : 32;
      const b = secureRandomBytes(size);
      expect(b.length).toBe(size);
      seen.add(b.toString('hex'));
    }
    expect(seen.size).toBe(4000);
  });

  it('gives each caller its own buffer: changing one leaves the next draws alone', () => {
    const a = secureRandomBytes(32);
    const copy = Buffer.from(a);
    a.fill(0);
    const b = secureRandomBytes(32);
    expect(b.equals(Buffer.alloc(32))).toBe(false);
    expect(copy.equals(Buffer.alloc(32))).toBe(false);
  });

  it('serves sizes beyond the pooled bound and zero', () => {
    expect(secureRandomBytes(0).length).toBe(0);
    const big = secureRandomBytes(1000);
    expect(big.length).toBe(1000);
    expect(big.equals(Buffer.alloc(1000))).toBe(false);
  });
});
