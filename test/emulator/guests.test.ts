/** Service App guests: POST /v1/guests/token and GET /v1/guests/count. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_SEED, adminLogin, appCreds, fetchAppToken, ORG_A, orgRestId } from './admin-seed.js';
import { type Emu, get, login, start } from './helpers.js';

let emu: Emu;
let appToken: string;
beforeAll(async () => {
  emu = await start({ seed: ADMIN_SEED });
  const dev = await adminLogin(emu, 'carol@a.example', 'spark:applications_token');
  appToken = (await fetchAppToken(emu, dev.access_token, appCreds(ORG_A))).body.access_token;
});
afterAll(async () => emu.close());

const mint = (bearer: string, body: unknown) =>
  get(emu, '/guests/token', bearer, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

describe('guests', () => {
  it('mints guest tokens that work for people/me (type appuser), counted per app', async () => {
    expect((await get(emu, '/guests/count', appToken)).body).toEqual({ count: 0 });
    const g = await mint(appToken, { subject: 'visitor-1', displayName: 'Visitor One' });
    expect(g.status).toBe(200);
    expect(g.body).toMatchObject({ subject: 'visitor-1', displayName: 'Visitor One', expiresIn: 64799 });
    expect(typeof g.body.accessToken).toBe('string');
    expect(g.body.email).toMatch(/@appid\.ciscospark\.com$/);
    const me = await get(emu, '/people/me', g.body.accessToken);
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({
      id: g.body.id,
      type: 'appuser',
      displayName: 'Visitor One',
      orgId: orgRestId(ORG_A),
    });

    // Same subject: a new token, the earlier one still valid; a new displayName renames the guest.
    const again = await mint(appToken, { subject: 'visitor-1', displayName: 'Visitor Renamed' });
    expect(again.body.id).toBe(g.body.id);
    expect(again.body.accessToken).not.toBe(g.body.accessToken);
    expect((await get(emu, '/people/me', g.body.accessToken)).body.displayName).toBe('Visitor Renamed');
    await mint(appToken, { subject: 'visitor-2', displayName: 'Visitor Two' });
    expect((await get(emu, '/guests/count', appToken)).body).toEqual({ count: 2 });
  });

  it('a guest token cannot mint guests; it expires after expiresIn', async () => {
    const g = await mint(appToken, { subject: 'visitor-3', displayName: 'V3' });
    expect((await mint(g.body.accessToken, { subject: 'x', displayName: 'y' })).status).toBe(403);
    await fetch(`${emu.url}/_emulator/clock`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ advanceSeconds: 64800 }),
    });
    expect((await get(emu, '/people/me', g.body.accessToken)).status).toBe(401);
    await fetch(`${emu.url}/_emulator/clock`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ advanceSeconds: -64800 }),
    });
  });

  it('refuses: a person token 403 (even with the scope), bad body 400, no token 401', async () => {
    const person = await login(emu, { scope: 'spark:people_read' }, 'alice@example.com');
    expect((await mint(person.access_token, { subject: 's', displayName: 'd' })).status).toBe(403);
    const scoped = await adminLogin(emu, 'carol@a.example', 'guest-issuer:write');
    expect((await mint(scoped.access_token, { subject: 's', displayName: 'd' })).status).toBe(403);
    expect((await get(emu, '/guests/count', scoped.access_token)).status).toBe(403);
    expect((await get(emu, '/guests/count', person.access_token)).status).toBe(403);
    expect((await mint(appToken, { subject: '', displayName: 'd' })).status).toBe(400);
    expect((await mint(appToken, { displayName: 'd' })).status).toBe(400);
    expect((await mint('nope', { subject: 's', displayName: 'd' })).status).toBe(401);
    expect((await get(emu, '/guests/count')).status).toBe(401);
  });
});
