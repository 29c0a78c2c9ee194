/** The device grant: authorize, 428 authorization_pending, slow_down, the verification page, access_denied, expiry. */
import { afterEach, describe, expect, it } from 'vitest';
import { control, type Emu, get, IT, start } from './helpers.js';

const GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
const BASIC = `Basic ${Buffer.from(`${IT.clientId}:${IT.clientSecret}`).toString('base64')}`;
let emu: Emu;
afterEach(async () => {
  await emu?.close();
});

async function deviceAuthorize(scope = 'spark:people_read') {
  const r = await fetch(`${emu.apiBase}/device/authorize`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ client_id: IT.clientId, scope }),
  });
  expect(r.status).toBe(200);
  return (await r.json()) as Record<string, any>;
}

async function poll(deviceCode: string) {
  const r = await fetch(`${emu.apiBase}/device/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: BASIC },
    body: new URLSearchParams({ grant_type: GRANT, device_code: deviceCode, client_id: IT.clientId }),
  });
  return { status: r.status, body: (await r.json()) as Record<string, any> };
}

function verify(fields: Record<string, string>) {
  return fetch(`${emu.apiBase}/device/verify`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields),
  });
}

describe('device grant', () => {
  it('pending (428) → slow_down → approved on the verification page → tokens (64799 s)', async () => {
    emu = await start();
    const d = await deviceAuthorize();
    expect(d).toMatchObject({ expires_in: 300, interval: 2, verification_uri: `${emu.apiBase}/device/verify` });
    expect(d.verification_uri_complete).toBe(`${emu.apiBase}/device/verify?user_code=${d.user_code}`);
    expect((await poll(d.device_code)).status).toBe(428);
    expect((await poll(d.device_code)).body.error).toBe('slow_down');
    const page = await fetch(d.verification_uri_complete);
    const html = await page.text();
    expect(html).toContain('name="user_code"');
    expect(html).toContain(`value="${d.user_code}"`);
    expect(html).toMatch(/name="decision" value="accept"/);
    expect((await verify({ user_code: d.user_code, email: 'alice@example.com', decision: 'accept' })).status).toBe(200);
    await control(emu, 'clock', { advanceSeconds: 2 });
    const t = await poll(d.device_code);
    expect(t.status).toBe(200);
    expect(t.body.expires_in).toBe(64799);
    expect((await get(emu, '/people/me', t.body.access_token)).body.emails).toEqual(['alice@example.com']);
    expect((await poll(d.device_code)).body.error).toBe('invalid_grant');
    expect((await control(emu, 'stats', undefined, 'GET')).body.grants.device_code).toBe(1);
  });

  it('decline → access_denied; expiry → expired_token', async () => {
    emu = await start();
    const d = await deviceAuthorize();
    await verify({ user_code: d.user_code, email: '', decision: 'decline' });
    expect((await poll(d.device_code)).body.error).toBe('access_denied');
    const e = await deviceAuthorize();
    await control(emu, 'clock', { advanceSeconds: 301 });
    expect((await poll(e.device_code)).body.error).toBe('expired_token');
  });

  it('auto-consent approves on the first poll', async () => {
    emu = await start({ autoConsent: 'bob@example.com' });
    const d = await deviceAuthorize();
    const t = await poll(d.device_code);
    expect(t.status).toBe(200);
  });

  it('refuses OIDC scopes and unknown user codes', async () => {
    emu = await start();
    const r = await fetch(`${emu.apiBase}/device/authorize`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ client_id: IT.clientId, scope: 'openid' }),
    });
    expect((await r.json()).error).toBe('invalid_scope');
    const v = await verify({ user_code: '<b>NOPE</b>', email: 'alice@example.com', decision: 'accept' });
    const html = await v.text();
    expect(v.status).toBe(400);
    expect(html).not.toContain('<b>NOPE');
  });
});
