/**
 * The session cookie's signer over keys derived from the key ring, read at each use: a key ring reload
 * (`vault.reloadKeys()`) refills the derived key array in place, and the next cookie is signed and checked with the
 * new keys. Same format as @fastify/cookie's own signer with those keys (cookies signed before keep verifying).
 */
import { Signer, type UnsignResult } from '@fastify/cookie';

/** What @fastify/cookie accepts as `secret` to sign and check cookies itself. */
export interface CookieSigner {
  sign(value: string): string;
  unsign(input: string): UnsignResult;
}

/** A signer over `keys` (the first signs, any verifies), rebuilt whenever the array's content changes. */
export function liveCookieSigner(keys: readonly Buffer[]): CookieSigner {
  let seen: Buffer[] = [];
  let signer: CookieSigner | undefined;
  const current = (): CookieSigner => {
    if (!signer || seen.length !== keys.length || seen.some((k, i) => k !== keys[i])) {
      seen = [...keys];
      signer = new Signer(seen.map((k) => k.toString('base64url')));
    }
    return signer;
  };
  return { sign: (value: string) => current().sign(value), unsign: (input: string) => current().unsign(input) };
}
