/**
 * Random bytes for the hot paths (sealing a secret, a session id, a row id), drawn from a pooled buffer that
 * node:crypto's CSPRNG refills 4 KiB at a time. `randomBytes` costs about 5 µs a call whatever the size (a crypto
 * job each); sealing one value takes three (a data key and two IVs), and an OAuth flow seals several. The bytes are
 * the same CSPRNG's; each is handed out once and zeroed in the pool as it leaves, so the pool never holds a value in
 * use.
 */
import { randomBytes, randomFillSync } from 'node:crypto';

const POOL_SIZE = 4096;
/** Sizes above this go straight to `randomBytes` (rare, and they would drain the pool). */
const MAX_POOLED = 64;
const pool = Buffer.alloc(POOL_SIZE);
/** The first byte not yet handed out; POOL_SIZE: empty. */
let offset = POOL_SIZE;

/** `size` cryptographically secure random bytes (a drop-in for `randomBytes(size)`). */
export function secureRandomBytes(size: number): Buffer {
  if (!Number.isInteger(size) || size < 0 || size > MAX_POOLED) return randomBytes(size);
  if (offset + size > POOL_SIZE) {
    randomFillSync(pool);
    offset = 0;
  }
  // Its own memory (not a slice of Node's shared 8 KiB pool, as `Buffer.from` gives small copies): a caller that
  // reaches `.buffer` sees these bytes only.
  const out = Buffer.allocUnsafeSlow(size);
  pool.copy(out, 0, offset, offset + size);
  pool.fill(0, offset, offset + size);
  offset += size;
  return out;
}
