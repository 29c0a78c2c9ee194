/** --refresh-unchanged-within: a second refresh inside the window answers the same access token and expiry. */
import { afterEach, describe, expect, it } from 'vitest';
import { CREDS, control, type Emu, get, login, start, token } from './helpers.js';

let emu: Emu;
afterEach(async () => emu?.close());

const refresh = (rt: string) => token(emu, { grant_type: 'refresh_token', refresh_token: rt, ...CREDS });

describe('--refresh-unchanged-within', () => {
  it('off by default: every refresh mints a new access token', async () => {
    emu = await start();
    const t = await login(emu, { scope: 'spark:people_read' });
    const a = await refresh(t.refresh_token);
    const b = await refresh(t.refresh_token);
    expect(a.body.access_token).not.toBe(b.body.access_token);
  });

  it('inside the window: the same token and expiry; after it: a new one', async () => {
    emu = await start({ refreshUnchangedWithin: 60, accessTtl: 3600 });
    const t = await login(emu, { scope: 'spark:people_read' });
    const a = await refresh(t.refresh_token);
    expect(a.body.expires_in).toBe(3600);
    await control(emu, 'clock', { advanceSeconds: 30 });
    const b = await refresh(t.refresh_token);
    expect(b.status).toBe(200);
    expect(b.body.access_token).toBe(a.body.access_token);
    expect(b.body.refresh_token).toBe(a.body.refresh_token);
    // Same absolute expiry: 30 s later, 30 s less to live.
    expect(b.body.expires_in).toBe(3570);
    expect((await get(emu, '/people/me', b.body.access_token)).status).toBe(200);
    const stats = (await control(emu, 'stats', undefined, 'GET')).body;
    expect(JSON.stringify(stats)).toMatch(/refresh_token/);

    await control(emu, 'clock', { advanceSeconds: 31 });
    const c = await refresh(t.refresh_token);
    expect(c.body.access_token).not.toBe(a.body.access_token);
    expect(c.body.expires_in).toBe(3600);
  });

  it('a revoked access token is not handed out again', async () => {
    emu = await start({ refreshUnchangedWithin: 600 });
    const t = await login(emu, { scope: 'spark:people_read' });
    const a = await refresh(t.refresh_token);
    await control(emu, 'revoke', { accessToken: a.body.access_token });
    const b = await refresh(t.refresh_token);
    expect(b.status).toBe(200);
    expect(b.body.access_token).not.toBe(a.body.access_token);
    expect((await get(emu, '/people/me', b.body.access_token)).status).toBe(200);
  });

  it('does not count toward the live-token cap', async () => {
    emu = await start({ refreshUnchangedWithin: 600, tokenCap: 3 });
    const t = await login(emu, { scope: 'spark:people_read' }); // 1 live
    await refresh(t.refresh_token); // 2 live
    for (let i = 0; i < 5; i++) expect((await refresh(t.refresh_token)).status).toBe(200);
  });
});
