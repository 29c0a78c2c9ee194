/** The control API: faults (count, rate, delayMs, error, endpoint), stats of every request, clock, revoke, reset. */
import { afterEach, describe, expect, it } from 'vitest';
import { authorizeUrl, BOT_TOKEN, CREDS, control, type Emu, get, login, start } from './helpers.js';

let emu: Emu;
afterEach(async () => {
  await emu?.close();
});

describe('control API', () => {
  it('faults: count N then normal; rate 1 always, rate 0 never; DELETE clears', async () => {
    emu = await start();
    await control(emu, 'faults', { endpoint: 'rest', status: 503, count: 2 });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await get(emu, '/people/me', BOT_TOKEN)).status);
    expect(statuses).toEqual([503, 503, 200]);
    await control(emu, 'faults', { endpoint: 'rest', status: 502, rate: 1 });
    for (let i = 0; i < 3; i++) expect((await get(emu, '/people/me', BOT_TOKEN)).status).toBe(502);
    expect((await control(emu, 'faults', undefined, 'GET')).body.faults).toHaveLength(1);
    expect((await control(emu, 'faults', undefined, 'DELETE')).status).toBe(204);
    await control(emu, 'faults', { endpoint: 'rest', status: 502, rate: 0 });
    for (let i = 0; i < 3; i++) expect((await get(emu, '/people/me', BOT_TOKEN)).status).toBe(200);
  });

  it('faults: endpoint "*" and "authorize"; an authorize error goes back to the redirect URI', async () => {
    emu = await start({ autoConsent: 'alice@example.com' });
    await control(emu, 'faults', { endpoint: '*', status: 500, count: 1 });
    expect((await fetch(authorizeUrl(emu), { redirect: 'manual' })).status).toBe(500);
    await control(emu, 'faults', { endpoint: 'authorize', error: 'server_error' });
    const r = await fetch(authorizeUrl(emu), { redirect: 'manual' });
    const loc = new URL(r.headers.get('location') as string);
    expect([loc.searchParams.get('error'), loc.searchParams.get('state')]).toEqual(['server_error', 'st-123']);
    await control(emu, 'faults', { endpoint: 'token', status: 429, retryAfter: 3 });
    expect((await get(emu, '/people/me', BOT_TOKEN)).status).toBe(200);
    const t = await fetch(`${emu.apiBase}/access_token`, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: 'x', ...CREDS }),
    });
    expect([t.status, t.headers.get('retry-after'), t.headers.get('content-type')]).toEqual([429, '3', 'text/html']);
    expect(await t.text()).toContain('Too Many Requests');
  });

  it('stats count every request by METHOD /route STATUS, including 404s and preflights', async () => {
    emu = await start();
    await get(emu, '/teams');
    await get(emu, '/rooms/abc', BOT_TOKEN);
    await get(emu, '/rooms/abc', 'bad');
    await fetch(`${emu.apiBase}/people/me`, { method: 'OPTIONS', headers: { origin: 'http://x' } });
    const s = (await control(emu, 'stats', undefined, 'GET')).body;
    expect(s.requests).toEqual({
      'GET /v1/teams 404': 1,
      'GET /v1/rooms/:roomId 404': 1,
      'GET /v1/rooms/:roomId 401': 1,
      'OPTIONS /v1/* 204': 1,
    });
  });

  it('reset forgets tokens, stats, faults and time travel, and keeps the seed', async () => {
    emu = await start({ autoConsent: 'alice@example.com' });
    const t = await login(emu);
    await control(emu, 'clock', { advanceSeconds: 100 });
    await control(emu, 'faults', { endpoint: 'token', status: 503, count: 5 });
    expect((await control(emu, 'reset')).status).toBe(200);
    expect((await get(emu, '/people/me', t.access_token)).status).toBe(401);
    expect((await control(emu, 'clock', undefined, 'GET')).body.offsetSeconds).toBe(0);
    expect((await control(emu, 'stats', undefined, 'GET')).body.grants.authorization_code).toBe(0);
    expect((await get(emu, '/people/me', BOT_TOKEN)).status).toBe(200);
    await login(emu);
  });

  it('revoke by email and by refresh token; unknown → 404', async () => {
    emu = await start({ autoConsent: 'alice@example.com' });
    const a = await login(emu);
    const b = await login(emu);
    expect((await control(emu, 'revoke', { email: 'alice@example.com' })).body.revoked).toBe(2);
    for (const t of [a, b]) expect((await get(emu, '/people/me', t.access_token)).status).toBe(401);
    expect((await control(emu, 'revoke', { refreshToken: 'zz' })).status).toBe(404);
  });
});

describe('control API body handling', () => {
  it('accepts POST reset and DELETE faults with a JSON content type and no body', async () => {
    emu = await start();
    const reset = await fetch(`${emu.url}/_emulator/reset`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
    });
    expect(reset.status).toBe(200);
    const del = await fetch(`${emu.url}/_emulator/faults`, {
      method: 'DELETE',
      headers: { 'content-type': 'application/json' },
    });
    expect(del.status).toBe(204);
    const bad = await fetch(`${emu.url}/_emulator/clock`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{x',
    });
    expect(bad.status).toBe(400);
    expect((await bad.json()).message).toBe(
      'The request could not be understood by the server due to malformed syntax.',
    );
  });
});
