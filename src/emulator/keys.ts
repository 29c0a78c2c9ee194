/**
 * The emulator's OIDC signing keys: RSA-2048 generated at start with jose (asynchronous, so start-up stays fast),
 * published as a JWKS with UUID `kid`s and `use: "sig"`. jose does the JOSE work; nothing is hand-rolled.
 */
import { randomUUID } from 'node:crypto';
import { type CryptoKey, exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';

/** The key set: the first key signs. */
export interface KeySet {
  jwks: { keys: JWK[] };
  sign(claims: Record<string, unknown>, withKid: boolean): Promise<string>;
}

/** Generates `count` RS256 keys. */
export async function createKeySet(count: number): Promise<KeySet> {
  const pairs = await Promise.all(
    Array.from({ length: count }, async () => {
      const { privateKey, publicKey } = await generateKeyPair('RS256', { modulusLength: 2048 });
      const kid = randomUUID();
      const jwk = await exportJWK(publicKey);
      return {
        kid,
        privateKey: privateKey as CryptoKey,
        jwk: { kty: jwk.kty, e: jwk.e, n: jwk.n, kid, use: 'sig', alg: 'RS256' },
      };
    }),
  );
  const signer = pairs[0];
  if (!signer) throw new Error('no signing key');
  return {
    jwks: { keys: pairs.map((p) => p.jwk) },
    sign(claims, withKid) {
      const header = withKid ? { alg: 'RS256', kid: signer.kid } : { alg: 'RS256' };
      return new SignJWT(claims).setProtectedHeader(header).sign(signer.privateKey);
    },
  };
}
