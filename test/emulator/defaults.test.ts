/** Every emulator default (docs/webex-api.md: Webex's behaviour, and the emulator's choices), over real HTTP. */
import http from 'node:http';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { OTHER, TEST_SEED } from './fixtures.js';
import {
  authorize,
  BOT_TOKEN,
  CREDS,
  control,
  type Emu,
  get,
  IT,
  login,
  pkce,
  REDIRECT,
  start,
  token,
} from './helpers.js';

const OPAQUE = /^[A-Za-z0-9]{64}_PF84_[0-9a-f-]{36}$/;
const TRACKING = /^ROUTER_[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/;
let emu: Emu;
afterEach(async () => {
  await emu?.close();
});
const auto = (o: Parameters<typeof start>[0] = {}) =>
  start({ autoConsent: 'alice@example.com', seed: TEST_SEED, ...o });
const refresh = (rt: string, extra: Record<string, string> = {}) =>
  token(emu, { grant_type: 'refresh_token', refresh_token: rt, ...CREDS, ...extra });

describe('Emulator defaults', () => {
  it('#1 #2 lifetimes 1209599 / 7775999 and their knobs', async () => {
    emu = await auto();
    const t = await login(emu);
    expect([t.expires_in, t.refresh_token_expires_in]).toEqual([1209599, 7775999]);
    await emu.close();
    emu = await auto({ accessTtl: 60, refreshTtl: 3600 });
    const k = await login(emu);
    expect([k.expires_in, k.refresh_token_expires_in]).toEqual([60, 3600]);
  });

  it('#3 refresh-token lifetime renewed on each refresh; --refresh-renew off keeps the remaining life', async () => {
    emu = await auto();
    const t = await login(emu);
    await control(emu, 'clock', { advanceSeconds: 1000 });
    expect((await refresh(t.refresh_token)).body.refresh_token_expires_in).toBe(7775999);
    await emu.close();
    emu = await auto({ refreshRenew: false });
    const u = await login(emu);
    await control(emu, 'clock', { advanceSeconds: 1000 });
    expect((await refresh(u.refresh_token)).body.refresh_token_expires_in).toBe(7774999);
  });

  it('#4 no rotation by default; --rotate-refresh-tokens issues a new one and the old stops working', async () => {
    emu = await auto();
    const t = await login(emu);
    const r1 = await refresh(t.refresh_token);
    const r2 = await refresh(t.refresh_token);
    expect([r1.body.refresh_token, r2.body.refresh_token]).toEqual([t.refresh_token, t.refresh_token]);
    await emu.close();
    emu = await auto({ rotateRefreshTokens: true });
    const u = await login(emu);
    const rot = await refresh(u.refresh_token);
    expect(rot.status).toBe(200);
    expect(rot.body.refresh_token).not.toBe(u.refresh_token);
    expect((await refresh(u.refresh_token)).status).toBe(400);
    expect((await refresh(rot.body.refresh_token)).status).toBe(200);
    expect((await get(emu, '/people/me', u.access_token)).status).toBe(200);
  });

  it('#5 old access tokens stay valid after a refresh, and every refresh mints a new one', async () => {
    emu = await auto();
    const t = await login(emu);
    const r = await refresh(t.refresh_token);
    expect(r.body.access_token).not.toBe(t.access_token);
    expect((await get(emu, '/people/me', t.access_token)).status).toBe(200);
    expect((await get(emu, '/people/me', r.body.access_token)).status).toBe(200);
  });

  it('#6 full response shape; --legacy-token-response drops token_type and scope', async () => {
    emu = await auto();
    const t = await login(emu);
    expect(Object.keys(t)).toEqual([
      'access_token',
      'expires_in',
      'refresh_token',
      'refresh_token_expires_in',
      'token_type',
      'scope',
    ]);
    await emu.close();
    emu = await auto({ legacyTokenResponse: true });
    const l = await login(emu);
    expect(Object.keys(l)).toEqual(['access_token', 'expires_in', 'refresh_token', 'refresh_token_expires_in']);
    expect(Object.keys((await refresh(l.refresh_token)).body)).not.toContain('token_type');
  });

  it('#7 codes: single use, 300 s, bound to client, redirect_uri and PKCE; --code-ttl', async () => {
    emu = await auto();
    const exchange = (code: string, extra: Record<string, string> = {}) =>
      token(emu, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, ...CREDS, ...extra });
    const code = async (params = {}) => (await authorize(emu, params)).searchParams.get('code') as string;
    const c1 = await code();
    expect((await exchange(c1)).status).toBe(200);
    const reuse = await exchange(c1);
    expect([reuse.status, reuse.body.error]).toEqual([400, 'invalid_grant']);
    const c2 = await code();
    await control(emu, 'clock', { advanceSeconds: 299 });
    expect((await exchange(c2)).status).toBe(200);
    const c3 = await code();
    await control(emu, 'clock', { advanceSeconds: 300 });
    expect((await exchange(c3)).body.error).toBe('invalid_grant');
    const c4 = await code();
    const other = await exchange(c4, { client_id: OTHER.clientId, client_secret: OTHER.clientSecret });
    expect([other.status, other.body.error]).toEqual([400, 'invalid_grant']);
    const c5 = await code();
    expect((await exchange(c5, { redirect_uri: 'http://127.0.0.1:8080/oauth' })).body.error).toBe('invalid_grant');
    const { verifier, challenge } = pkce();
    const c6 = await code({ code_challenge: challenge, code_challenge_method: 'S256' });
    expect((await exchange(c6, { code_verifier: pkce().verifier })).body.error).toBe('invalid_grant');
    const c7 = await code({ code_challenge: challenge, code_challenge_method: 'S256' });
    expect((await exchange(c7)).body.error).toBe('invalid_grant');
    const c8 = await code({ code_challenge: challenge, code_challenge_method: 'S256' });
    expect((await exchange(c8, { code_verifier: verifier })).status).toBe(200);
    const c9 = await code({ scope: 'openid', nonce: 'nonce-42' });
    const idt = (await exchange(c9)).body.id_token as string;
    expect(JSON.parse(Buffer.from(idt.split('.')[1] as string, 'base64url').toString()).nonce).toBe('nonce-42');
    await emu.close();
    emu = await auto({ codeTtl: 10 });
    const c10 = await code();
    await control(emu, 'clock', { advanceSeconds: 10 });
    expect((await exchange(c10)).body.error).toBe('invalid_grant');
  });

  it('#8 live access-token cap per person across all clients → 400 tokenlimit_reached; --token-cap', async () => {
    emu = await auto({ tokenCap: 3 });
    const t = await login(emu);
    const cb = await authorize(emu, {
      client_id: OTHER.clientId,
      redirect_uri: OTHER.redirectUris[0],
      scope: 'spark:people_read',
    });
    const o = await token(emu, {
      grant_type: 'authorization_code',
      code: cb.searchParams.get('code') as string,
      redirect_uri: OTHER.redirectUris[0] as string,
      client_id: OTHER.clientId,
      client_secret: OTHER.clientSecret,
    });
    expect(o.status).toBe(200);
    expect((await refresh(t.refresh_token)).status).toBe(200);
    const over = await refresh(t.refresh_token);
    expect([over.status, over.body.error]).toEqual([400, 'tokenlimit_reached']);
    expect(over.body.trackingID).toMatch(TRACKING);
    // Slots free up when tokens expire.
    await control(emu, 'clock', { advanceSeconds: 1209600 });
    expect((await refresh(t.refresh_token)).status).toBe(200);
    // Bob is not affected by Alice's cap.
    await emu.close();
    emu = await auto({ tokenCap: 750 });
    for (let i = 0; i < 3; i++) await login(emu);
  });

  it('#9 client auth by body, Basic, or all in the query string', async () => {
    emu = await auto();
    const t = await login(emu);
    const basic = `Basic ${Buffer.from(`${IT.clientId}:${IT.clientSecret}`).toString('base64')}`;
    const b = await token(
      emu,
      { grant_type: 'refresh_token', refresh_token: t.refresh_token },
      { headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' } },
    );
    expect(b.status).toBe(200);
    const q = new URLSearchParams({
      grant_type: 'refresh_token',
      refresh_token: t.refresh_token,
      ...CREDS,
      redirect_uri: REDIRECT,
    });
    const r = await fetch(`${emu.apiBase}/access_token?${q}`, { method: 'POST' });
    expect(r.status).toBe(200);
    const cb = await authorize(emu);
    const viaQuery = new URLSearchParams({
      grant_type: 'authorization_code',
      code: cb.searchParams.get('code') as string,
      redirect_uri: REDIRECT,
      ...CREDS,
    });
    expect(
      (
        await fetch(`${emu.apiBase}/access_token?${viaQuery}`, {
          method: 'POST',
          body: '',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
        })
      ).status,
    ).toBe(200);
  });

  it('#10 bad/expired/revoked refresh token → 400 invalid_request with Webex text; --refresh-error invalid_grant', async () => {
    emu = await auto({ refreshTtl: 100 });
    const t = await login(emu);
    const bad = await refresh('garbage');
    expect(bad.status).toBe(400);
    expect(bad.body).toEqual({
      error: 'invalid_request',
      error_description: 'The refresh token provided is expired, revoked, malformed, or invalid.',
      trackingID: bad.headers.get('trackingid'),
    });
    await control(emu, 'clock', { advanceSeconds: 100 });
    expect((await refresh(t.refresh_token)).body.error).toBe('invalid_request');
    await emu.close();
    emu = await auto({ refreshError: 'invalid_grant' });
    const u = await login(emu);
    await control(emu, 'revoke', { refreshToken: u.refresh_token });
    expect((await refresh(u.refresh_token)).body.error).toBe('invalid_grant');
  });

  it('#11 bad code → 400 invalid_grant (RFC shape); a fault can force another error', async () => {
    emu = await auto();
    const r = await token(emu, { grant_type: 'authorization_code', code: 'nope', redirect_uri: REDIRECT, ...CREDS });
    expect([r.status, r.body.error, typeof r.body.error_description]).toEqual([400, 'invalid_grant', 'string']);
    await control(emu, 'faults', { endpoint: 'token', error: 'invalid_request', count: 1 });
    const cb = await authorize(emu);
    const f = await token(emu, {
      grant_type: 'authorization_code',
      code: cb.searchParams.get('code') as string,
      redirect_uri: REDIRECT,
      ...CREDS,
    });
    expect(f.body.error).toBe('invalid_request');
  });

  it('#12 wrong secret or unknown client → 401 invalid_client', async () => {
    emu = await auto();
    const t = await login(emu);
    const wrong = await refresh(t.refresh_token, { client_secret: 'nope' });
    expect([wrong.status, wrong.body.error]).toEqual([401, 'invalid_client']);
    const unknown = await token(emu, {
      grant_type: 'refresh_token',
      refresh_token: t.refresh_token,
      client_id: 'Cnope',
      client_secret: 'x',
    });
    expect([unknown.status, unknown.body.error]).toEqual([401, 'invalid_client']);
    expect(unknown.body.trackingID).toBe(unknown.headers.get('trackingid'));
  });

  it('#13 unknown client or unregistered redirect at authorize → HTML 400, no redirect', async () => {
    emu = await auto();
    for (const params of [
      { client_id: 'Cunknown' },
      { redirect_uri: 'http://evil.example/cb' },
      { redirect_uri: 'http://localhost:8080/oauth/' },
    ]) {
      const u = new URL(`${emu.apiBase}/authorize`);
      for (const [k, v] of Object.entries({
        client_id: IT.clientId,
        response_type: 'code',
        redirect_uri: REDIRECT,
        scope: 'spark:all',
        state: 's',
        ...params,
      }))
        u.searchParams.set(k, v);
      const r = await fetch(u, { redirect: 'manual' });
      expect(r.status).toBe(400);
      expect(r.headers.get('location')).toBeNull();
      expect(r.headers.get('content-type')).toMatch(/^text\/html/);
    }
  });

  it('#14 decline / unregistered scope / prompt=none → redirect errors with state', async () => {
    emu = await start({ seed: TEST_SEED });
    const page = await fetch(
      `${emu.apiBase}/authorize?client_id=${IT.clientId}&response_type=code&redirect_uri=${encodeURIComponent(REDIRECT)}&scope=spark%3Aall&state=fixed`,
      { redirect: 'manual' },
    );
    const html = await page.text();
    expect(html).toContain('name="email"');
    expect(html).toMatch(/name="decision" value="accept"/);
    expect(html).toMatch(/name="decision" value="decline"/);
    const requestId = /name="request" value="([^"]+)"/.exec(html)?.[1] as string;
    const d = await fetch(`${emu.apiBase}/authorize`, {
      method: 'POST',
      redirect: 'manual',
      body: new URLSearchParams({ request: requestId, email: '', decision: 'decline' }),
    });
    const dl = new URL(d.headers.get('location') as string);
    expect([d.status, dl.searchParams.get('error'), dl.searchParams.get('state')]).toEqual([
      302,
      'access_denied',
      'fixed',
    ]);
    const s = await fetch(
      `${emu.apiBase}/authorize?client_id=${IT.clientId}&response_type=code&redirect_uri=${encodeURIComponent(REDIRECT)}&scope=spark%3Aall%20spark-admin%3Apeople_read&state=x1`,
      { redirect: 'manual' },
    );
    const sl = new URL(s.headers.get('location') as string);
    expect([
      sl.searchParams.get('error'),
      sl.searchParams.get('error_description'),
      sl.searchParams.get('state'),
    ]).toEqual(['invalid_scope', 'The requested scope is invalid.', 'x1']);
    const n = await fetch(
      `${emu.apiBase}/authorize?client_id=${IT.clientId}&response_type=code&redirect_uri=${encodeURIComponent(REDIRECT)}&scope=spark%3Aall&state=x2&prompt=none`,
      { redirect: 'manual' },
    );
    const nl = new URL(n.headers.get('location') as string);
    expect([nl.searchParams.get('error'), nl.searchParams.get('state')]).toEqual(['login_required', 'x2']);
  });

  it('#15 issuer in discovery and id_token; --issuer; --id-token-iss mismatch', async () => {
    emu = await auto();
    const disc = (await get(emu, '/.well-known/openid-configuration')).body;
    expect(disc.issuer).toBe('https://idbroker-b-us.webex.com/idb');
    const t = await login(emu, { scope: 'openid', nonce: 'n' });
    const claims = JSON.parse(Buffer.from((t.id_token as string).split('.')[1] as string, 'base64url').toString());
    expect(claims.iss).toBe(disc.issuer);
    await emu.close();
    emu = await auto({ issuer: 'https://idbroker-eu.webex.com/idb', idTokenIss: 'https://idbroker.webex.com/idb' });
    expect((await get(emu, '/.well-known/openid-configuration')).body.issuer).toBe('https://idbroker-eu.webex.com/idb');
    const m = await login(emu, { scope: 'openid', nonce: 'n' });
    expect(JSON.parse(Buffer.from((m.id_token as string).split('.')[1] as string, 'base64url').toString()).iss).toBe(
      'https://idbroker.webex.com/idb',
    );
  });

  it('#16 id_token: RS256, 7200 s, kid, openid claims only; --id-token-claims requested; --no-kid', async () => {
    emu = await auto();
    const t = await login(emu, { scope: 'openid email profile', nonce: 'n16' });
    const jwks = createRemoteJWKSet(new URL(`${emu.apiBase}/verification`));
    const { payload, protectedHeader } = await jwtVerify(t.id_token, jwks, {
      audience: IT.clientId,
      issuer: 'https://idbroker-b-us.webex.com/idb',
    });
    expect(protectedHeader.alg).toBe('RS256');
    expect(protectedHeader.kid).toMatch(/^[0-9a-f-]{36}$/);
    expect((payload.exp as number) - (payload.iat as number)).toBe(7200);
    expect(Object.keys(payload).sort()).toEqual(['aud', 'auth_time', 'exp', 'iat', 'iss', 'nonce', 'sub']);
    expect(payload.aud).toBe(IT.clientId);
    expect(t.scope).toBe('openid email profile');
    await emu.close();
    emu = await auto({ idTokenClaims: 'requested', noKid: true });
    const r = await login(emu, { scope: 'openid email profile', nonce: 'n' });
    expect(decodeProtectedHeader(r.id_token).kid).toBeUndefined();
    const p2 = JSON.parse(Buffer.from((r.id_token as string).split('.')[1] as string, 'base64url').toString());
    expect([p2.email, p2.email_verified, p2.name, p2.given_name, p2.family_name]).toEqual([
      'alice@example.com',
      true,
      'Alice Example',
      'Alice',
      'Example',
    ]);
  });

  it('#17 JWKS: one RSA key with UUID kid and use sig; --jwks-keys', async () => {
    emu = await auto();
    const keys = (await get(emu, '/verification')).body.keys;
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatchObject({ kty: 'RSA', e: 'AQAB', use: 'sig' });
    expect(keys[0].kid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(Buffer.from(keys[0].n, 'base64url').length).toBe(256);
    await emu.close();
    emu = await auto({ jwksKeys: 2 });
    expect((await get(emu, '/verification')).body.keys).toHaveLength(2);
  });

  it('#18 discovery document: §4 values with emulator URLs; --discovery-auth-methods', async () => {
    emu = await auto();
    const d = (await get(emu, '/.well-known/openid-configuration')).body;
    expect(d).toMatchObject({
      authorization_endpoint: `${emu.apiBase}/authorize`,
      token_endpoint: `${emu.apiBase}/access_token`,
      userinfo_endpoint: `${emu.apiBase}/userinfo`,
      jwks_uri: `${emu.apiBase}/verification`,
      response_types_supported: ['code', 'id_token'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['RS256'],
      scopes_supported: ['openid', 'email', 'profile', 'phone', 'address'],
      grant_types_supported: ['authorization_code', 'implicit', 'refresh_token'],
      request_parameter_supported: false,
      request_uri_parameter_supported: false,
      token_endpoint_auth_methods_supported: ['client_secret_basic'],
      code_challenge_methods_supported: ['plain', 'S256'],
    });
    expect(d.claims_supported).toContain('nonce');
    await emu.close();
    emu = await auto({ discoveryAuthMethods: ['client_secret_basic', 'client_secret_post'] });
    expect((await get(emu, '/.well-known/openid-configuration')).body.token_endpoint_auth_methods_supported).toEqual([
      'client_secret_basic',
      'client_secret_post',
    ]);
  });

  it('#19 userinfo: claims per granted OIDC scope, email_verified "true"', async () => {
    emu = await auto();
    const full = await login(emu, { scope: 'openid email profile', nonce: 'n' });
    const u = await get(emu, '/userinfo', full.access_token);
    expect(u.body).toMatchObject({
      email: 'alice@example.com',
      email_verified: 'true',
      name: 'Alice Example',
      given_name: 'Alice',
      family_name: 'Example',
    });
    const only = await login(emu, { scope: 'openid', nonce: 'n' });
    expect(Object.keys((await get(emu, '/userinfo', only.access_token)).body)).toEqual(['sub']);
  });

  it('#20 REST auth failure → 401 envelope with Webex message', async () => {
    emu = await auto();
    for (const auth of [undefined, 'nope']) {
      const r = await get(emu, '/people/me', auth);
      expect(r.status).toBe(401);
      const msg = 'The request requires a valid access token set in the Authorization request header.';
      expect(r.body).toEqual({ message: msg, errors: [{ description: msg }], trackingId: r.headers.get('trackingid') });
    }
  });

  it('#21 missing scope → 403 envelope; spark:all satisfies user scopes', async () => {
    emu = await auto();
    const t = await login(emu, { scope: 'spark:people_read' });
    const r = await get(emu, '/rooms', t.access_token);
    expect(r.status).toBe(403);
    expect(r.body.message).toBe(
      'The server understood the request, but refused to fulfill it because the access token is missing required scopes or the user is missing required roles or licenses.',
    );
    const all = await login(emu, { scope: 'spark:all' });
    expect((await get(emu, '/rooms', all.access_token)).status).toBe(200);
    expect((await get(emu, '/people/me', all.access_token)).status).toBe(200);
  });

  it('#22 revoking a refresh token kills its access tokens at once; --revocation-lag-ms', async () => {
    emu = await auto();
    const t = await login(emu);
    const r = await refresh(t.refresh_token);
    expect((await control(emu, 'revoke', { refreshToken: t.refresh_token })).status).toBe(200);
    expect((await get(emu, '/people/me', t.access_token)).status).toBe(401);
    expect((await get(emu, '/people/me', r.body.access_token)).status).toBe(401);
    expect((await refresh(t.refresh_token)).status).toBe(400);
    const u = await login(emu);
    await control(emu, 'revoke', { email: 'alice@example.com' });
    expect((await get(emu, '/people/me', u.access_token)).status).toBe(401);
    await emu.close();
    emu = await auto({ revocationLagMs: 5000 });
    const l = await login(emu);
    await control(emu, 'revoke', { refreshToken: l.refresh_token });
    expect((await get(emu, '/people/me', l.access_token)).status).toBe(200);
    await control(emu, 'clock', { advanceSeconds: 5 });
    expect((await get(emu, '/people/me', l.access_token)).status).toBe(401);
  });

  it('#23 TrackingID ROUTER_<UUID> on every response, same in bodies; JSON content type', async () => {
    emu = await auto();
    const ok = await get(emu, '/people/me', BOT_TOKEN);
    expect(ok.headers.get('trackingid')).toMatch(TRACKING);
    expect(ok.headers.get('content-type')).toBe('application/json;charset=UTF-8');
    const nf = await get(emu, '/no/such/thing');
    expect(nf.status).toBe(404);
    expect(nf.body.trackingId).toBe(nf.headers.get('trackingid'));
    expect(nf.headers.get('content-type')).toBe('application/json;charset=UTF-8');
    const page = await fetch(`${emu.apiBase}/authorize?client_id=bad`);
    expect(page.headers.get('trackingid')).toMatch(TRACKING);
    const ctl = await fetch(`${emu.url}/_emulator/stats`);
    expect(ctl.headers.get('trackingid')).toMatch(TRACKING);
    // The header name is spelled as Webex spells it.
    const raw = await new Promise<string[]>((resolve, reject) =>
      http
        .get(`${emu.apiBase}/people/me`, (res) => {
          res.resume();
          resolve(res.rawHeaders);
        })
        .on('error', reject),
    );
    expect(raw.filter((h) => /^trackingid$/i.test(h))).toEqual(['TrackingID']);
  });

  it('#24 pagination: one Link rel="next" with an absolute URL; max clamped high, rejected < 1; --max-mode reject', async () => {
    emu = await auto();
    const alice = await login(emu, { scope: 'spark:all' });
    const seen: string[] = [];
    let url: string | undefined = `${emu.apiBase}/rooms?max=2`;
    let pages = 0;
    while (url) {
      const r = await get(emu, url, alice.access_token);
      expect(r.status).toBe(200);
      seen.push(...r.body.items.map((x: { title: string }) => x.title));
      const link = r.headers.get('link');
      url = link ? /^<([^>]+)>; rel="next"$/.exec(link)?.[1] : undefined;
      if (url) expect(url.startsWith(`${emu.apiBase}/rooms?`)).toBe(true);
      pages++;
    }
    expect(pages).toBe(3);
    expect(seen.sort()).toEqual(['Demo space', 'Room 1', 'Room 2', 'Room 3', 'Room 4', 'Room 5']);
    expect((await get(emu, '/rooms?max=5000', alice.access_token)).body.items).toHaveLength(6);
    for (const bad of ['0', '-1', 'abc']) {
      const r = await get(emu, `/rooms?max=${bad}`, alice.access_token);
      expect([r.status, typeof r.body.message]).toEqual([400, 'string']);
    }
    await emu.close();
    emu = await auto({ maxMode: 'reject' });
    const a2 = await login(emu, { scope: 'spark:all' });
    expect((await get(emu, '/rooms?max=5000', a2.access_token)).status).toBe(400);
  });

  it('#25 429 with Retry-After and a text/html body', async () => {
    emu = await auto();
    await control(emu, 'faults', { endpoint: 'rest', status: 429, retryAfter: 7, count: 1 });
    const r = await get(emu, '/people/me', BOT_TOKEN);
    expect([r.status, r.headers.get('retry-after')]).toEqual([429, '7']);
    expect(r.headers.get('content-type')).toMatch(/^text\/html/);
    expect((await get(emu, '/people/me', BOT_TOKEN)).status).toBe(200);
  });

  it('#26 500/502/503 as Webex envelope JSON, on the chosen endpoint only', async () => {
    emu = await auto();
    for (const status of [500, 502, 503]) {
      await control(emu, 'faults', { endpoint: 'token', status, count: 1 });
      expect((await get(emu, '/people/me', BOT_TOKEN)).status).toBe(200);
      const r = await refresh('whatever');
      expect(r.status).toBe(status);
      expect(typeof r.body.message).toBe('string');
      expect(r.body.trackingId).toBe(r.headers.get('trackingid'));
    }
  });

  it('#27 delayMs slows responses without failing them', async () => {
    emu = await auto();
    await control(emu, 'faults', { endpoint: 'rest', delayMs: 150, count: 1 });
    const t0 = performance.now();
    const r = await get(emu, '/people/me', BOT_TOKEN);
    expect(r.status).toBe(200);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(140);
  });

  it('#28 forced invalid_grant on the next N refreshes', async () => {
    emu = await auto();
    const t = await login(emu);
    await control(emu, 'faults', { endpoint: 'token', error: 'invalid_grant', count: 2 });
    expect((await refresh(t.refresh_token)).body.error).toBe('invalid_grant');
    expect((await refresh(t.refresh_token)).body.error).toBe('invalid_grant');
    expect((await refresh(t.refresh_token)).status).toBe(200);
  });

  it('#29 clock: real time; time travel expires access tokens; --clock-offset', async () => {
    emu = await auto();
    const before = Date.now();
    const c = (await control(emu, 'clock', undefined, 'GET')).body;
    expect(Math.abs(Date.parse(c.now) - before)).toBeLessThan(60_000);
    const t = await login(emu);
    await control(emu, 'clock', { advanceSeconds: 1209598 });
    expect((await get(emu, '/people/me', t.access_token)).status).toBe(200);
    await control(emu, 'clock', { advanceSeconds: 2 });
    expect((await get(emu, '/people/me', t.access_token)).status).toBe(401);
    await emu.close();
    emu = await auto({ clockOffset: 86400 });
    expect((await control(emu, 'clock', undefined, 'GET')).body.offsetSeconds).toBe(86400);
  });

  it('#30 creates return 200, deletes 204', async () => {
    emu = await auto();
    const rooms = await get(emu, '/rooms', BOT_TOKEN);
    const roomId = rooms.body.items[0].id;
    const post = (path: string, body: unknown) =>
      get(emu, path, BOT_TOKEN, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const m = await post('/memberships', { roomId, personEmail: 'bob@example.com' });
    expect(m.status).toBe(200);
    expect((await post('/memberships', { roomId, personEmail: 'bob@example.com' })).status).toBe(409);
    const msg = await post('/messages', { roomId, text: 'hi' });
    expect(msg.status).toBe(200);
    expect((await post('/rooms', { title: 'New' })).status).toBe(200);
    expect((await get(emu, `/messages/${msg.body.id}`, BOT_TOKEN, { method: 'DELETE' })).status).toBe(204);
    expect((await get(emu, `/memberships/${m.body.id}`, BOT_TOKEN, { method: 'DELETE' })).status).toBe(204);
  });

  it('#31 opaque code/token format <64 base64>_PF84_<orgUuid>', async () => {
    emu = await auto();
    const cb = await authorize(emu);
    expect(cb.searchParams.get('code')).toMatch(OPAQUE);
    const t = await login(emu);
    expect(t.access_token).toMatch(OPAQUE);
    expect(t.refresh_token).toMatch(OPAQUE);
  });

  it('#32 stats: grants by type, requests by route and status', async () => {
    emu = await auto();
    const t = await login(emu);
    await refresh(t.refresh_token);
    await refresh('bad');
    await get(emu, '/people/me', t.access_token);
    const s = (await control(emu, 'stats', undefined, 'GET')).body;
    expect(s.grants).toEqual({ authorization_code: 1, refresh_token: 1, device_code: 0 });
    expect(s.requests['POST /v1/access_token 200']).toBe(2);
    expect(s.requests['POST /v1/access_token 400']).toBe(1);
    expect(s.requests['GET /v1/authorize 302']).toBe(1);
    expect(s.requests['GET /v1/people/me 200']).toBe(1);
  });
});
