/**
 * The OAuth client and the REST client against the real emulator on a loopback port: the whole flow, and the
 * failure answers the unit tests fake by hand (PKCE mismatch, revoked refresh token, legacy response, 403, 429).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_SEED, startEmulator } from '../../src/emulator/index.js';
import {
  createAuthorizationRequest,
  discover,
  exchangeCode,
  fetchUserInfo,
  type Integration,
  parseCallback,
  pollDeviceToken,
  refreshAccessToken,
  scopeDiff,
  startDeviceAuthorization,
  verifyIdToken,
  verifyTokenSetIdToken,
  WebexOAuthError,
} from '../../src/oauth/index.js';
import { WebexApiError, WebexClient } from '../../src/webex/index.js';

type Emu = Awaited<ReturnType<typeof startEmulator>>;
const seeded = DEMO_SEED.integrations[0] as (typeof DEMO_SEED.integrations)[0];
const REDIRECT = 'http://localhost:8080/oauth';
const noSleep = async () => {};

function integrationOf(emu: Emu): Integration {
  return { clientId: seeded.clientId, clientSecret: seeded.clientSecret, redirectUri: REDIRECT, apiBase: emu.apiBase };
}

/** Runs authorize with auto-consent and returns the callback URL. */
async function authorize(url: string): Promise<string> {
  const r = await fetch(url, { redirect: 'manual' });
  expect(r.status).toBe(302);
  return r.headers.get('location') as string;
}

/** The claims of `tokens`' id_token, verified with the emulator's discovery (issuer, keys) and `pending`'s nonce. */
async function verifiedClaims(emu: Emu, { integration, pending, tokens }: Awaited<ReturnType<typeof login>>) {
  const discovery = await discover(emu.apiBase);
  return verifyIdToken(tokens.idToken as string, {
    clientId: integration.clientId,
    nonce: pending.nonce as string,
    issuer: discovery.issuer,
    jwksUri: discovery.jwks_uri,
  });
}

async function login(emu: Emu, scopes: string[]) {
  const integration = integrationOf(emu);
  const { url, pending } = createAuthorizationRequest({ integration, scopes });
  const { code } = parseCallback(await authorize(url), pending);
  return { integration, pending, tokens: await exchangeCode(integration, { code, pending }) };
}

describe('against the emulator', () => {
  let emu: Emu;
  beforeAll(async () => {
    emu = await startEmulator({ autoConsent: 'alice@example.com' });
  });
  afterAll(async () => {
    await emu?.close();
  });

  it('runs authorize → callback → code exchange → id_token → userinfo → people/me → refresh', async () => {
    const scopes = ['spark:people_read', 'spark:rooms_read', 'openid', 'email'];
    const { integration, pending, tokens } = await login(emu, scopes);
    expect(pending.nonce).toBeTruthy();
    expect(scopeDiff(scopes, tokens.scopes).missing).toEqual([]);
    expect(tokens.expiresAt - tokens.receivedAt).toBe(1209599_000);
    expect(tokens.idToken).toBeTruthy();

    const claims = await verifiedClaims(emu, { integration, pending, tokens });
    const info = await fetchUserInfo(emu.apiBase, tokens.accessToken);
    expect(info.sub).toBe(claims.sub);
    expect(info.email).toBe('alice@example.com');

    const me = await new WebexClient({ apiBase: emu.apiBase, accessToken: tokens.accessToken }).peopleMe();
    expect(me.emails).toContain('alice@example.com');

    const refreshed = await refreshAccessToken(integration, tokens.refreshToken, { requestedScopes: scopes });
    expect(refreshed.accessToken).not.toBe(tokens.accessToken);
    expect(refreshed.refreshToken).toBeTruthy();
    // the old access token still works after a refresh (Webex behaviour)
    expect((await new WebexClient({ apiBase: emu.apiBase, accessToken: tokens.accessToken }).peopleMe()).id).toBe(
      me.id,
    );
  });

  it('answers a wrong PKCE verifier with 400 invalid_grant (needsReauth), and a reused code too', async () => {
    const integration = integrationOf(emu);
    const { url, pending } = createAuthorizationRequest({ integration, scopes: ['spark:people_read'] });
    const { code } = parseCallback(await authorize(url), pending);
    const wrong = { ...pending, codeVerifier: 'x'.repeat(43) };
    const e = await exchangeCode(integration, { code, pending: wrong }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(WebexOAuthError);
    expect(e).toMatchObject({ status: 400, code: 'invalid_grant' });
    expect((e as WebexOAuthError).needsReauth).toBe(true);
    expect(String((e as Error).message)).not.toContain(integration.clientSecret);
  });

  it('answers a wrong client secret with 401 invalid_client, both with body and Basic credentials', async () => {
    const bad = { ...integrationOf(emu), clientSecret: 'wrong' };
    for (const clientAuth of ['client_secret_post', 'client_secret_basic'] as const) {
      const e = await refreshAccessToken(bad, 'whatever', { clientAuth }).catch((x: unknown) => x);
      expect(e).toMatchObject({ status: 401, code: 'invalid_client' });
    }
  });

  it('reports a revoked refresh token as needsReauth', async () => {
    const { integration, tokens } = await login(emu, ['spark:people_read']);
    const r = await fetch(`${emu.url}/_emulator/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ refreshToken: tokens.refreshToken }),
    });
    expect(r.ok).toBe(true);
    const e = await refreshAccessToken(integration, tokens.refreshToken).catch((x: unknown) => x);
    expect(e).toMatchObject({ status: 400, code: 'invalid_request' });
    expect((e as WebexOAuthError).needsReauth).toBe(true);
    expect((e as WebexOAuthError).trackingId).toBeTruthy();
  });

  it('maps a 403 to the scopes the endpoint needs, and follows pagination', async () => {
    const { tokens } = await login(emu, ['spark:people_read']);
    const client = new WebexClient({ apiBase: emu.apiBase, accessToken: tokens.accessToken });
    const e = await (async () => {
      for await (const _ of client.listRooms()) void _;
    })().catch((x: unknown) => x);
    expect(e).toBeInstanceOf(WebexApiError);
    expect(e).toMatchObject({ status: 403, requiredScopes: ['spark:rooms_read', 'spark:all'] });
    expect((e as WebexApiError).trackingId).toBeTruthy();

    const all = await login(emu, ['spark:all']);
    const rooms: string[] = [];
    for await (const room of new WebexClient({ apiBase: emu.apiBase, accessToken: all.tokens.accessToken }).listRooms({
      max: 1,
    }))
      rooms.push(room.title);
    expect(rooms).toContain('Demo space');
  });

  it('retries a 429 after Retry-After', async () => {
    const { tokens } = await login(emu, ['spark:people_read']);
    await fetch(`${emu.url}/_emulator/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ endpoint: 'rest', status: 429, count: 1, retryAfter: 2 }),
    });
    const waits: number[] = [];
    const client = new WebexClient({
      apiBase: emu.apiBase,
      accessToken: tokens.accessToken,
      sleep: async (ms) => {
        waits.push(ms);
      },
    });
    expect((await client.peopleMe()).displayName).toBe('Alice Example');
    expect(waits).toEqual([2000]);
    await fetch(`${emu.url}/_emulator/faults`, { method: 'DELETE' });
  });

  it('runs the device grant (approved on first poll with auto-consent)', async () => {
    const integration = integrationOf(emu);
    const d = await startDeviceAuthorization(integration, ['spark:people_read']);
    expect(d.userCode).toBeTruthy();
    const t = await pollDeviceToken(integration, d.deviceCode, {
      interval: d.interval,
      sleep: noSleep,
      requestedScopes: d.scopes,
    });
    expect(t.expiresAt - t.receivedAt).toBe(64799_000);
  });
});

describe('against an emulator with legacy responses and kid-less id_tokens', () => {
  let emu: Emu;
  beforeAll(async () => {
    emu = await startEmulator({
      autoConsent: 'alice@example.com',
      legacyTokenResponse: true,
      noKid: true,
      jwksKeys: 2,
    });
  });
  afterAll(async () => {
    await emu?.close();
  });

  it('accepts a response without token_type/scope and verifies an id_token without kid', async () => {
    const scopes = ['spark:people_read', 'openid'];
    const { integration, pending, tokens } = await login(emu, scopes);
    expect(tokens.scopeReported).toBe(false);
    expect(tokens.scopes).toEqual(scopes);
    const claims = await verifiedClaims(emu, { integration, pending, tokens });
    expect(claims.sub).toBeTruthy();
    expect((await verifyTokenSetIdToken(tokens, integration, pending)).sub).toBe(claims.sub);
    await expect(verifyTokenSetIdToken(tokens, integration, { nonce: 'other' })).rejects.toThrow(/nonce/);
    await expect(verifyTokenSetIdToken({}, integration, pending)).rejects.toThrow(/no id_token/);
  });
});
