/**
 * The emulator's OIDC signing keys: RSA-2048 generated with jose, published as a JWKS with UUID `kid`s and
 * `use: "sig"`. jose does the JOSE work; nothing is hand-rolled.
 */
import { randomUUID } from 'node:crypto';
import type { CryptoKey, JWK } from 'jose';

// jose is imported when the keys are generated (in the background), keeping ~50–100 ms of module loading off start-up.
const jose = () => import('jose');

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
  const { exportJWK, generateKeyPair } = await jose();
  const { privateKey, publicKey } = await generateKeyPair('RS256', { modulusLength: 2048 });
  const kid = randomUUID();
  const jwk = await exportJWK(publicKey);
  return { kid, privateKey, jwk: { kty: jwk.kty, e: jwk.e, n: jwk.n, kid, use: 'sig', alg: 'RS256' } };
}

/**
 * Returns the key set at once; the `count` RS256 keys are generated on first use (the first JWKS or id_token waits
 * ~50–300 ms once), so start-up never waits for jose or prime search and emulators that never sign cost nothing.
 */
export function createKeySet(count: number): KeySet {
  let pairs: Promise<Pair[]> | undefined;
  const ensure = () => {
    pairs ??= Promise.all(Array.from({ length: count }, generate));
    return pairs;
  };
  return {
    async jwks() {
      return { keys: (await ensure()).map((x) => x.jwk) };
    },
    async sign(claims, withKid) {
      const signer = (await ensure())[0] as Pair;
      const { SignJWT } = await jose();
      const header = withKid ? { alg: 'RS256', kid: signer.kid } : { alg: 'RS256' };
      return new SignJWT(claims).setProtectedHeader(header).sign(signer.privateKey);
    },
  };
}
