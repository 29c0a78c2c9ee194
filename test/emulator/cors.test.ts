/** CORS on the endpoints browser pages call cross-origin: access_token, people/me, userinfo (with preflight). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CREDS, type Emu, login, start } from './helpers.js';

let emu: Emu;
beforeAll(async () => {
  emu = await start({ autoConsent: 'alice@example.com' });
});
afterAll(() => emu.close());
const ORIGIN = 'http://localhost:8080';

describe('CORS', () => {
  it.each(['/access_token', '/people/me', '/userinfo'])('preflight for %s', async (path) => {
    const r = await fetch(`${emu.apiBase}${path}`, {
      method: 'OPTIONS',
      headers: {
        origin: ORIGIN,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization,content-type',
      },
    });
    expect(r.status).toBe(204);
    expect(r.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect(r.headers.get('access-control-allow-methods')).toContain('POST');
    expect(r.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('authorization');
    expect(r.headers.get('trackingid')).toMatch(/^ROUTER_/);
  });

  it('actual responses carry Access-Control-Allow-Origin (success and error)', async () => {
    const t = await login(emu, { scope: 'openid spark:people_read', nonce: 'n' });
    const tok = await fetch(`${emu.apiBase}/access_token`, {
      method: 'POST',
      headers: { origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: t.refresh_token, ...CREDS }),
    });
    expect(tok.status).toBe(200);
    expect(tok.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect(tok.headers.get('access-control-expose-headers')).toContain('TrackingID');
    for (const path of ['/people/me', '/userinfo']) {
      const ok = await fetch(`${emu.apiBase}${path}`, {
        headers: { origin: ORIGIN, authorization: `Bearer ${t.access_token}` },
      });
      expect([ok.status, ok.headers.get('access-control-allow-origin')]).toEqual([200, ORIGIN]);
      const no = await fetch(`${emu.apiBase}${path}`, { headers: { origin: ORIGIN } });
      expect([no.status, no.headers.get('access-control-allow-origin')]).toEqual([401, ORIGIN]);
    }
  });
});
