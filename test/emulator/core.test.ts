import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BOT_TOKEN, CREDS, type Emu, get, login, REDIRECT, start, token } from './helpers.js';

describe('emulator core', () => {
  let emu: Emu;
  beforeAll(async () => {
    emu = await start({ autoConsent: 'alice@example.com' });
  });
  afterAll(() => emu.close());

  it('runs code grant, people/me, refresh', async () => {
    const t = await login(emu);
    expect(t.expires_in).toBe(1209599);
    expect(t.refresh_token_expires_in).toBe(7775999);
    expect(t.token_type).toBe('Bearer');
    expect(t.scope).toBe('spark:people_read spark:rooms_read');
    const me = await get(emu, '/people/me', t.access_token);
    expect(me.status).toBe(200);
    expect(me.headers.get('content-type')).toBe('application/json;charset=UTF-8');
    expect(me.body.displayName).toBe('Alice Example');
    const r = await token(emu, { grant_type: 'refresh_token', refresh_token: t.refresh_token, ...CREDS });
    expect(r.status).toBe(200);
    expect(r.body.access_token).not.toBe(t.access_token);
    expect(r.body.refresh_token).toBe(t.refresh_token);
    expect((await get(emu, '/people/me', t.access_token)).status).toBe(200);
  });

  it('bot lists rooms', async () => {
    const rooms = await get(emu, '/rooms', BOT_TOKEN);
    expect(rooms.status).toBe(200);
    expect(rooms.body.items[0].title).toBe('Demo space');
    expect(REDIRECT).toBeTruthy();
  });
});
