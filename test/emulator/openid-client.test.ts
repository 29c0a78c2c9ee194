/**
 * A full authorization-code + PKCE + OIDC flow driven by openid-client v6 (a library nobody here wrote), which also
 * validates the id_token against the emulator's JWKS. Per docs/webex-api.md "OpenID Connect": the full discovery URL, and
 * allowInsecureRequests because the emulator speaks plain http on loopback.
 */
import * as oidc from 'openid-client';
import { afterEach, describe, expect, it } from 'vitest';
import { type Emu, IT, REDIRECT, start } from './helpers.js';

let emu: Emu;
afterEach(async () => {
  await emu?.close();
});

async function discover(auth?: oidc.ClientAuth) {
  return oidc.discovery(
    new URL(`${emu.apiBase}/.well-known/openid-configuration`),
    IT.clientId,
    IT.clientSecret,
    auth,
    {
      execute: [oidc.allowInsecureRequests],
    },
  );
}

async function flow(config: oidc.Configuration) {
  const verifier = oidc.randomPKCECodeVerifier();
  const nonce = oidc.randomNonce();
  const state = oidc.randomState();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT,
    scope: 'openid email profile spark:people_read',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    nonce,
    state,
  });
  const r = await fetch(url, { redirect: 'manual' });
  expect(r.status).toBe(302);
  const callback = new URL(r.headers.get('location') as string);
  return oidc.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: verifier,
    expectedNonce: nonce,
    expectedState: state,
  });
}

describe('openid-client against the emulator', () => {
  it('discovers, runs code + PKCE, validates the id_token, reads userinfo and refreshes', async () => {
    emu = await start({ autoConsent: 'alice@example.com' });
    const config = await discover();
    expect(config.serverMetadata().issuer).toBe('https://idbroker-b-us.webex.com/idb');
    const tokens = await flow(config);
    const claims = tokens.claims();
    expect(claims?.aud).toBe(IT.clientId);
    expect(claims?.iss).toBe('https://idbroker-b-us.webex.com/idb');
    expect(tokens.token_type).toBe('bearer');
    expect(tokens.expires_in).toBe(1209599);
    const info = await oidc.fetchUserInfo(config, tokens.access_token, claims?.sub as string);
    expect(info).toMatchObject({ email: 'alice@example.com', name: 'Alice Example' });
    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token as string);
    expect(refreshed.access_token).not.toBe(tokens.access_token);
    expect(refreshed.refresh_token).toBe(tokens.refresh_token);
  });

  it('works with client_secret_basic too', async () => {
    emu = await start({ autoConsent: 'bob@example.com' });
    const tokens = await flow(await discover(oidc.ClientSecretBasic(IT.clientSecret)));
    expect(tokens.claims()?.sub).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('rejects the id_token when the mismatch knob makes iss differ from the discovered issuer', async () => {
    emu = await start({ autoConsent: 'alice@example.com', idTokenIss: 'https://idbroker.webex.com/idb' });
    await expect(flow(await discover())).rejects.toMatchObject({
      cause: { message: expect.stringContaining('"iss"') },
    });
  });
});
