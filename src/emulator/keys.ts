/**
 * The emulator's OIDC signing keys: RSA-2048 generated with jose, published as a JWKS with UUID `kid`s and
 * `use: "sig"`. jose does the JOSE work; nothing is hand-rolled. Generation starts at build time but is only awaited
 * by the JWKS and id_token paths, so start-up never waits for prime search (50–300 ms on a busy machine).
 */
import { randomUUID } from 'node:crypto';
import { type CryptoKey, exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';

/** The key set: the first key signs. */
export interface KeySet {
  /** The public JWKS (`/v1/verification`). */
  jwks(): Promise<{ keys: JWK[] }>;
  /** Signs an RS256 JWT, with or without a `kid` header. */
  sign(claims: Record<string, unknown>, withKid: boolean): Promise<string>;
}

interface Pair {
  kid: string;
  privateKey: CryptoKey;
  jwk: JWK;
}

async function generate(): Promise<Pair> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { modulusLength: 2048 });
  const kid = randomUUID();
  const jwk = await exportJWK(publicKey);
  return { kid, privateKey, jwk: { kty: jwk.kty, e: jwk.e, n: jwk.n, kid, use: 'sig', alg: 'RS256' } };
}

/** Starts generating `count` RS256 keys and returns the key set at once. */
export function createKeySet(count: number): KeySet {
  const pairs = Promise.all(Array.from({ length: count }, generate));
  // Keep an early failure from becoming an unhandled rejection; callers see it when they await.
  pairs.catch(() => {});
  const jwks = pairs.then((p) => ({ keys: p.map((x) => x.jwk) }));
  jwks.catch(() => {});
  return {
    jwks: () => jwks,
    async sign(claims, withKid) {
      const signer = (await pairs)[0] as Pair;
      const header = withKid ? { alg: 'RS256', kid: signer.kid } : { alg: 'RS256' };
      return new SignJWT(claims).setProtectedHeader(header).sign(signer.privateKey);
    },
  };
}
