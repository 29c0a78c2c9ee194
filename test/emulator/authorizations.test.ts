/** The admin Authorizations API: list, delete one, delete by client, tokenExpiry; scopes, admin roles, revocation lag. */
import { afterEach, describe, expect, it } from 'vitest';
import { ADMIN_IT, ADMIN_SEED, adminLogin, ORG_A, orgRestId } from './admin-seed.js';
import { CREDS, control, type Emu, get, IT, login, start, token } from './helpers.js';

let emu: Emu;
afterEach(async () => emu?.close());

const del = (path: string, bearer: string) => get(emu, path, bearer, { method: 'DELETE' });

describe('GET /v1/authorizations', () => {
  it('lists a person’s refresh and access authorizations for an admin of their org', async () => {
    emu = await start({ seed: ADMIN_SEED });
    const admin = await adminLogin(emu, 'admin-a@a.example');
    const carol = await login(emu, { scope: 'spark:people_read' }, 'carol@a.example');
    const carolMe = (await get(emu, '/people/me', carol.access_token)).body;
    const r = await get(emu, '/authorizations?personEmail=carol@a.example', admin.access_token);
    expect(r.status).toBe(200);
    expect(r.headers.get('link')).toBeNull();
    expect(r.body.items).toHaveLength(2);
    const types = r.body.items.map((i: any) => i.type).sort();
    expect(types).toEqual(['access', 'refresh']);
    for (const i of r.body.items) {
      expect(i).toMatchObject({
        personId: carolMe.id,
        clientId: IT.clientId,
        applicationName: 'webex-auth demo integration',
      });
      expect(Object.keys(i).sort()).toEqual(
        ['applicationId', 'applicationName', 'clientId', 'created', 'id', 'personId', 'type'].sort(),
      );
      expect(i.created).toMatch(/^\d{4}-\d\d-\d\dT/);
    }
    const byId = await get(emu, `/authorizations?personId=${encodeURIComponent(carolMe.id)}`, admin.access_token);
    expect(byId.body.items.map((i: any) => i.id).sort()).toEqual(r.body.items.map((i: any) => i.id).sort());
  });

  it('400 without exactly one of personId/personEmail; 403 without scope, without a role, or for another org', async () => {
    emu = await start({ seed: ADMIN_SEED });
    const admin = await adminLogin(emu, 'admin-a@a.example');
    expect((await get(emu, '/authorizations', admin.access_token)).status).toBe(400);
    const both = await get(emu, '/authorizations?personEmail=carol@a.example&personId=x', admin.access_token);
    expect(both.status).toBe(400);
    expect(both.body.message).toMatch(/Exactly one/);
    const noScope = await adminLogin(emu, 'admin-a@a.example', 'spark:people_read');
    expect((await get(emu, '/authorizations?personEmail=carol@a.example', noScope.access_token)).status).toBe(403);
    const notAdmin = await adminLogin(emu, 'carol@a.example');
    expect((await get(emu, '/authorizations?personEmail=carol@a.example', notAdmin.access_token)).status).toBe(403);
    expect((await get(emu, '/authorizations?personEmail=dave@b.example', admin.access_token)).status).toBe(403);
    const devAdmin = await adminLogin(emu, 'dev-a@a.example');
    expect((await get(emu, '/authorizations?personEmail=carol@a.example', devAdmin.access_token)).status).toBe(200);
    expect((await get(emu, '/authorizations?personEmail=nobody@a.example', admin.access_token)).status).toBe(404);
  });
});

describe('DELETE /v1/authorizations', () => {
  it('deleting a refresh authorization ends its access tokens and the refresh', async () => {
    emu = await start({ seed: ADMIN_SEED });
    const admin = await adminLogin(emu, 'admin-a@a.example');
    const carol = await login(emu, { scope: 'spark:people_read' }, 'carol@a.example');
    const list = await get(emu, '/authorizations?personEmail=carol@a.example', admin.access_token);
    const refresh = list.body.items.find((i: any) => i.type === 'refresh');
    expect((await del(`/authorizations/${encodeURIComponent(refresh.id)}`, admin.access_token)).status).toBe(204);
    expect((await get(emu, '/people/me', carol.access_token)).status).toBe(401);
    const r = await token(emu, { grant_type: 'refresh_token', refresh_token: carol.refresh_token, ...CREDS });
    expect(r.status).toBe(400);
    expect((await get(emu, '/authorizations?personEmail=carol@a.example', admin.access_token)).body.items).toEqual([]);
    expect((await del(`/authorizations/${encodeURIComponent(refresh.id)}`, admin.access_token)).status).toBe(404);
  });

  it('deleting an access authorization kills that token only; the grant refreshes', async () => {
    emu = await start({ seed: ADMIN_SEED });
    const admin = await adminLogin(emu, 'admin-a@a.example');
    const carol = await login(emu, { scope: 'spark:people_read' }, 'carol@a.example');
    const list = await get(emu, '/authorizations?personEmail=carol@a.example', admin.access_token);
    const access = list.body.items.find((i: any) => i.type === 'access');
    expect((await del(`/authorizations/${encodeURIComponent(access.id)}`, admin.access_token)).status).toBe(204);
    expect((await get(emu, '/people/me', carol.access_token)).status).toBe(401);
    const r = await token(emu, { grant_type: 'refresh_token', refresh_token: carol.refresh_token, ...CREDS });
    expect(r.status).toBe(200);
  });

  it('needs identity:tokens_write and an admin of the person’s org', async () => {
    emu = await start({ seed: ADMIN_SEED });
    const admin = await adminLogin(emu, 'admin-a@a.example');
    const readOnly = await adminLogin(emu, 'admin-a@a.example', 'identity:tokens_read');
    const otherOrg = await adminLogin(emu, 'admin-b@b.example');
    await login(emu, { scope: 'spark:people_read' }, 'carol@a.example');
    const list = await get(emu, '/authorizations?personEmail=carol@a.example', admin.access_token);
    const id = encodeURIComponent(list.body.items[0].id);
    expect((await del(`/authorizations/${id}`, readOnly.access_token)).status).toBe(403);
    expect((await del(`/authorizations/${id}`, otherOrg.access_token)).status).toBe(403);
    expect((await del(`/authorizations?clientId=${IT.clientId}`, otherOrg.access_token)).status).toBe(204);
    expect((await get(emu, '/authorizations?personEmail=carol@a.example', admin.access_token)).body.items).toHaveLength(
      2,
    );
  });

  it('?clientId= deletes every grant of that client in the org (default: the caller’s); 400 without clientId', async () => {
    emu = await start({ seed: ADMIN_SEED });
    const admin = await adminLogin(emu, 'admin-a@a.example');
    const carol = await login(emu, { scope: 'spark:people_read' }, 'carol@a.example');
    const alice = await login(emu, { scope: 'spark:people_read' }, 'alice@example.com'); // default org
    expect((await del('/authorizations', admin.access_token)).status).toBe(400);
    expect((await del(`/authorizations?clientId=${IT.clientId}&orgId=bad`, admin.access_token)).status).toBe(400);
    expect((await del(`/authorizations?clientId=${IT.clientId}`, admin.access_token)).status).toBe(204);
    expect((await get(emu, '/people/me', carol.access_token)).status).toBe(401);
    expect((await get(emu, '/people/me', alice.access_token)).status).toBe(200);
    // The admin's own grant (another client) survives.
    expect((await get(emu, '/authorizations?personEmail=admin-a@a.example', admin.access_token)).status).toBe(200);
    const second = await login(emu, { scope: 'spark:people_read' }, 'carol@a.example');
    const q = `/authorizations?clientId=${IT.clientId}&orgId=${orgRestId(ORG_A)}`;
    expect((await del(q, admin.access_token)).status).toBe(204);
    expect((await get(emu, '/people/me', second.access_token)).status).toBe(401);
    expect((await del(`/authorizations?clientId=${ADMIN_IT.clientId}&orgId=${ORG_A}`, admin.access_token)).status).toBe(
      204,
    );
    expect((await get(emu, '/people/me', admin.access_token)).status).toBe(401);
  });

  it('--revocation-lag-ms: a deleted grant leaves the list at once but its token works until the lag is over', async () => {
    emu = await start({ seed: ADMIN_SEED, revocationLagMs: 60_000 });
    const admin = await adminLogin(emu, 'admin-a@a.example');
    const carol = await login(emu, { scope: 'spark:people_read' }, 'carol@a.example');
    const list = await get(emu, '/authorizations?personEmail=carol@a.example', admin.access_token);
    const refresh = list.body.items.find((i: any) => i.type === 'refresh');
    expect((await del(`/authorizations/${encodeURIComponent(refresh.id)}`, admin.access_token)).status).toBe(204);
    expect((await get(emu, '/authorizations?personEmail=carol@a.example', admin.access_token)).body.items).toEqual([]);
    expect((await get(emu, '/people/me', carol.access_token)).status).toBe(200);
    await control(emu, 'clock', { advanceSeconds: 61 });
    expect((await get(emu, '/people/me', carol.access_token)).status).toBe(401);
  });
});

describe('GET /v1/authorizations/tokenExpiry', () => {
  it('answers the caller’s own token expiry in epoch ms', async () => {
    emu = await start({ seed: ADMIN_SEED, accessTtl: 3600 });
    const carol = await login(emu, { scope: 'spark:people_read' }, 'carol@a.example');
    const clock = (await control(emu, 'clock', undefined, 'GET')).body;
    const r = await get(emu, '/authorizations/tokenExpiry', carol.access_token);
    expect(r.status).toBe(200);
    expect(Object.keys(r.body)).toEqual(['exp']);
    const expected = Date.parse(clock.now) + 3600_000;
    expect(Math.abs(r.body.exp - expected)).toBeLessThan(5_000);
    expect((await get(emu, '/authorizations/tokenExpiry')).status).toBe(401);
  });
});
