import * as jose from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { IdTokenError, WebexOAuthError } from '../../src/oauth/errors.js';
import { discover, fetchUserInfo, KNOWN_WEBEX_ISSUERS, verifyIdToken } from '../../src/oauth/oidc.js';
import { fakeFetch, json } from './helpers.js';

const ISSUER = 'https://idbroker-b-us.webex.com/idb';
const JWKS_URI = 'https://webexapis.example/v1/verification';
const CLIENT_ID = 'C0123';
const NOW = 1_700_000_000_000;
const clock = () => NOW;

let key: CryptoKey;
let otherKey: CryptoKey;
let jwk: jose.JWK;
let otherJwk: jose.JWK;

beforeAll(async () => {
  const a = await jose.generateKeyPair('RS256', { extractable: true });
  const b = await jose.generateKeyPair('RS256', { extractable: true });
  key = a.privateKey;
  otherKey = b.privateKey;
  jwk = { ...(await jose.exportJWK(a.publicKey)), kid: 'kid-a', use: 'sig', alg: 'RS256' };
  otherJwk = { ...(await jose.exportJWK(b.publicKey)), kid: 'kid-b', use: 'sig', alg: 'RS256' };
});

async function idToken(
  claims: Record<string, unknown> = {},
  opts: { signer?: CryptoKey; kid?: string | null; alg?: string } = {},
): Promise<string> {
  const header: jose.JWTHeaderParameters = { alg: opts.alg ?? 'RS256' };
  if (opts.kid !== null) header.kid = opts.kid ?? 'kid-a';
  const iat = Math.floor(NOW / 1000) - 10;
  return new jose.SignJWT({ sub: 'person-uuid', nonce: 'n-1', auth_time: iat, ...claims })
    .setProtectedHeader(header)
    .setIssuer((claims.iss as string) ?? ISSUER)
    .setAudience((claims.aud as string) ?? CLIENT_ID)
    .setIssuedAt(iat)
    .setExpirationTime(iat + 7200)
    .sign(opts.signer ?? key);
}

const verify = (token: string, extra: Partial<Parameters<typeof verifyIdToken>[1]> = {}, keys = [jwk, otherJwk]) =>
  verifyIdToken(token, {
    clientId: CLIENT_ID,
    nonce: 'n-1',
    issuer: ISSUER,
    jwksUri: JWKS_URI,
    clock,
    fetch: fakeFetch(json({ keys })).fetch,
    ...extra,
  });

async function idTokenError(p: Promise<unknown>): Promise<IdTokenError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(IdTokenError);
    return e as IdTokenError;
  }
  throw new Error('expected an IdTokenError');
}

describe('verifyIdToken', () => {
  it('accepts a good RS256 id_token and returns its claims; fetches the JWKS from jwksUri', async () => {
    const { fetch, seen } = fakeFetch(json({ keys: [jwk] }));
    const claims = await verify(await idToken({ email: 'alice@example.com' }), { fetch });
    expect(seen[0]?.url).toBe(JWKS_URI);
    expect(claims).toMatchObject({
      sub: 'person-uuid',
      iss: ISSUER,
      aud: CLIENT_ID,
      nonce: 'n-1',
      email: 'alice@example.com',
    });
  });

  it('uses a JWKS passed in instead of fetching, and accepts the known issuer list', async () => {
    const { fetch, seen } = fakeFetch();
    const claims = await verify(await idToken(), { fetch, jwks: { keys: [jwk] }, issuer: [...KNOWN_WEBEX_ISSUERS] });
    expect(claims.sub).toBe('person-uuid');
    expect(seen).toHaveLength(0);
  });

  it('tolerates a missing kid (Cisco samples have none), trying each key', async () => {
    const claims = await verify(await idToken({}, { kid: null }), {}, [otherJwk, jwk]);
    expect(claims.sub).toBe('person-uuid');
  });

  it('rejects a wrong nonce, and a missing nonce when one is expected', async () => {
    expect((await idTokenError(verify(await idToken({ nonce: 'n-2' })))).message).toMatch(/nonce/);
    expect(await idTokenError(verify(await idToken({ nonce: undefined })))).toBeInstanceOf(IdTokenError);
  });

  it('rejects a wrong audience', async () => {
    expect((await idTokenError(verify(await idToken({ aud: 'C-other' })))).message).toMatch(/audience/);
  });

  it('rejects a bad signature (signed by a key not in the JWKS), with and without kid', async () => {
    expect(await idTokenError(verify(await idToken({}, { signer: otherKey }), {}, [jwk]))).toBeInstanceOf(IdTokenError);
    expect(
      (await idTokenError(verify(await idToken({}, { signer: otherKey, kid: 'kid-a' }), {}, [jwk, otherJwk]))).message,
    ).toMatch(/signature/);
    expect(await idTokenError(verify(await idToken({}, { signer: otherKey, kid: null }), {}, [jwk]))).toBeInstanceOf(
      IdTokenError,
    );
    const tampered = (await idToken()).replace(
      /\.[^.]+\./,
      `.${Buffer.from('{"sub":"mallory"}').toString('base64url')}.`,
    );
    expect((await idTokenError(verify(tampered))).message).toMatch(/signature/);
  });

  it('rejects a wrong issuer, but accepts a configured list of issuers (cluster-specific)', async () => {
    const t = await idToken({ iss: 'https://idbroker.webex.com/idb' });
    expect((await idTokenError(verify(t))).message).toMatch(/issuer/);
    const ok = await verify(t, { issuer: [ISSUER, 'https://idbroker.webex.com/idb'] });
    expect(ok.iss).toBe('https://idbroker.webex.com/idb');
  });

  it('rejects an expired id_token (beyond the clock tolerance)', async () => {
    const t = await idToken();
    const later = () => NOW + 7200_000 + 120_000;
    expect((await idTokenError(verify(t, { clock: later }))).message).toMatch(/expired/);
    await expect(verify(t, { clock: () => NOW + 7200_000 })).resolves.toBeTruthy();
  });

  it('rejects HS256 and garbage', async () => {
    const hs = await new jose.SignJWT({ sub: 'x' })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer(ISSUER)
      .setAudience(CLIENT_ID)
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode('k'.repeat(32)));
    await idTokenError(verify(hs));
    await idTokenError(verify('not.a.jwt'));
  });

  it('reports a JWKS it cannot fetch as a WebexOAuthError', async () => {
    await expect(
      verifyIdToken(await idToken(), {
        clientId: CLIENT_ID,
        issuer: ISSUER,
        jwksUri: JWKS_URI,
        fetch: fakeFetch(json({ message: 'down' }, 503)).fetch,
      }),
    ).rejects.toBeInstanceOf(WebexOAuthError);
    await expect(
      verifyIdToken(await idToken(), {
        clientId: CLIENT_ID,
        issuer: ISSUER,
        jwksUri: JWKS_URI,
        fetch: fakeFetch(json({ nope: 1 })).fetch,
      }),
    ).rejects.toMatchObject({ code: 'invalid_response' });
  });
});

describe('discover', () => {
  const doc = {
    issuer: ISSUER,
    authorization_endpoint: 'https://webexapis.example/v1/authorize',
    token_endpoint: 'https://webexapis.example/v1/access_token',
    userinfo_endpoint: 'https://webexapis.example/v1/userinfo',
    jwks_uri: JWKS_URI,
    response_types_supported: ['code', 'id_token'],
    scopes_supported: ['openid', 'email', 'profile', 'phone', 'address'],
  };

  it('fetches the full well-known URL and keeps unknown fields', async () => {
    const { fetch, seen } = fakeFetch(json(doc));
    const d = await discover('https://webexapis.example/v1/', { fetch });
    expect(seen[0]?.url).toBe('https://webexapis.example/v1/.well-known/openid-configuration');
    expect(d.issuer).toBe(ISSUER);
    expect(d.response_types_supported).toEqual(['code', 'id_token']);
  });

  it('rejects a document without jwks_uri, naming it, and maps HTTP errors', async () => {
    const { jwks_uri: _omit, ...rest } = doc;
    await expect(discover('https://x/v1', { fetch: fakeFetch(json(rest)).fetch })).rejects.toMatchObject({
      code: 'invalid_response',
      description: expect.stringContaining('jwks_uri'),
    });
    await expect(
      discover('https://x/v1', { fetch: fakeFetch(new Response('nope', { status: 404 })).fetch }),
    ).rejects.toMatchObject({
      status: 404,
    });
  });
});

describe('fetchUserInfo', () => {
  it('sends the bearer token and normalises email_verified "true"', async () => {
    const { fetch, seen } = fakeFetch(
      json({ sub: 'person-uuid', email: 'alice@example.com', email_verified: 'true', name: 'Alice' }),
    );
    const u = await fetchUserInfo('https://webexapis.example/v1', 'AT-canary', { fetch });
    expect(seen[0]?.url).toBe('https://webexapis.example/v1/userinfo');
    expect(seen[0]?.headers.get('authorization')).toBe('Bearer AT-canary');
    expect(u).toMatchObject({ sub: 'person-uuid', email_verified: true, name: 'Alice' });
  });

  it('maps 401 to invalid_token without echoing the token', async () => {
    const { fetch } = fakeFetch(
      json(
        {
          message: 'The request requires a valid access token set in the Authorization request header.',
          trackingId: 'ROUTER_9',
        },
        401,
      ),
    );
    const e = await fetchUserInfo('https://webexapis.example/v1', 'AT-canary', { fetch }).catch((x: unknown) => x);
    expect(e).toMatchObject({ code: 'invalid_token', status: 401, trackingId: 'ROUTER_9' });
    expect(String((e as Error).message)).not.toContain('AT-canary');
  });
});
