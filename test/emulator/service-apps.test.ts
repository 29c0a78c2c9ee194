/** Service Apps: the token endpoint, refresh under the app's client, authorize/deauthorize and their webhooks. */
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_SEED, adminLogin, appCreds, fetchAppToken, ORG_A, ORG_B, orgRestId, SA } from './admin-seed.js';
import { control, type Emu, get, start, token } from './helpers.js';

let emu: Emu;
let receiver: Server;
let receiverUrl: string;
const received: Array<Record<string, any>> = [];

beforeAll(async () => {
  emu = await start({ seed: ADMIN_SEED });
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      received.push(JSON.parse(body));
      res.end('ok');
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const addr = receiver.address();
  receiverUrl = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/hook`;
});
afterAll(async () => {
  await emu.close();
  await new Promise((r) => receiver.close(r));
});

/** A refresh of the Service App's `refreshToken` under the app's own client. */
const refreshAsApp = (refreshToken: string) =>
  token(emu, {
    grant_type: 'refresh_token',
    refresh_token: refreshToken,
    client_id: SA.clientId,
    client_secret: SA.clientSecret,
  });

async function waitFor<T>(fn: () => T | undefined): Promise<T> {
  for (let i = 0; i < 500; i++) {
    const v = fn();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('condition never met');
}

describe('POST /v1/applications/{applicationId}/token', () => {
  it('hands out a pair for the machine account in an authorized org, refreshed under the app client', async () => {
    const dev = await adminLogin(emu, 'carol@a.example', 'spark:applications_token');
    const r = await fetchAppToken(emu, dev.access_token, appCreds(ORG_A));
    expect(r.status).toBe(200);
    expect(Object.keys(r.body)).toEqual(
      expect.arrayContaining(['access_token', 'expires_in', 'refresh_token', 'refresh_token_expires_in', 'token_type']),
    );
    expect(r.body.access_token).toMatch(new RegExp(`_PF84_${ORG_A}$`));
    const me = await get(emu, '/people/me', r.body.access_token);
    expect(me.status).toBe(200);
    expect(me.body.type).toBe('appuser');
    expect(me.body.orgId).toBe(orgRestId(ORG_A));
    expect(me.body.displayName).toBe(SA.name);

    const refreshed = await refreshAsApp(r.body.refresh_token);
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.access_token).not.toBe(r.body.access_token);
    expect((await get(emu, '/people/me', refreshed.body.access_token)).body.id).toBe(me.body.id);
    // The integration that fetched it cannot refresh the app's grant.
    const wrong = await token(emu, {
      grant_type: 'refresh_token',
      refresh_token: r.body.refresh_token,
      client_id: 'C0de0e5a1f1e2d3c4b5a69788796a5b4c3d2e1f00112233445566778899aabbcc',
      client_secret: 'd3m0e5a1f1e2d3c4b5a69788796a5b4c3d2e1f00112233445566778899aabbcc',
    });
    expect(wrong.status).toBe(400);
  });

  it('refuses: no token 401, no spark:applications_token 403, bad body 400, wrong secret 401, unknown app 404', async () => {
    const plain = await adminLogin(emu, 'carol@a.example', 'spark:people_read');
    const dev = await adminLogin(emu, 'carol@a.example', 'spark:applications_token');
    expect((await fetchAppToken(emu, 'nope', appCreds(ORG_A))).status).toBe(401);
    const noScope = await fetchAppToken(emu, plain.access_token, appCreds(ORG_A));
    expect(noScope.status).toBe(403);
    expect(noScope.body.trackingId).toMatch(/^ROUTER_/);
    expect((await fetchAppToken(emu, dev.access_token, { clientId: SA.clientId })).status).toBe(400);
    expect((await fetchAppToken(emu, dev.access_token, { ...appCreds(ORG_A), targetOrgId: 'x' })).status).toBe(400);
    expect((await fetchAppToken(emu, dev.access_token, { ...appCreds(ORG_A), clientSecret: 'no' })).status).toBe(401);
    expect((await fetchAppToken(emu, dev.access_token, appCreds(ORG_A), 'unknownApp')).status).toBe(404);
  });

  it('answers 403 in the REST envelope when the app is not authorized in the org', async () => {
    const dev = await adminLogin(emu, 'carol@a.example', 'spark:applications_token');
    const r = await fetchAppToken(emu, dev.access_token, appCreds(ORG_B));
    expect(r.status).toBe(403);
    expect(r.body.message).toMatch(/not authorized/);
    expect(r.body.errors[0].description).toBe(r.body.message);
  });
});

describe('authorize / deauthorize (control API) and serviceApp webhooks', () => {
  it('fires authorized/deauthorized to the developer webhook; deauthorizing kills the tokens in that org', async () => {
    const dev = await adminLogin(emu, 'carol@a.example', 'spark:applications_token spark:people_read');
    const plain = await adminLogin(emu, 'carol@a.example', 'spark:people_read');
    const mk = async (bearer: string, extra: Record<string, string> = {}) =>
      get(emu, '/webhooks', bearer, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'sa', targetUrl: receiverUrl, resource: 'serviceApp', event: 'all', ...extra }),
      });
    const hook = await mk(dev.access_token);
    expect(hook.status).toBe(200);
    expect((await mk(dev.access_token, { filter: 'id=someOtherApp' })).status).toBe(200);
    expect((await mk(plain.access_token)).status).toBe(200); // registered, but not the app's developer
    const badEvent = await mk(dev.access_token, { event: 'created' });
    expect(badEvent.status).toBe(400);

    expect((await fetchAppToken(emu, dev.access_token, appCreds(ORG_B))).status).toBe(403);
    const auth = await control(emu, `service-apps/${SA.id}/authorize`, { orgId: ORG_B });
    expect(auth.status).toBe(200);
    const ev = await waitFor(() => received.find((b) => b.event === 'authorized'));
    expect(ev).toMatchObject({
      id: hook.body.id,
      resource: 'serviceApp',
      event: 'authorized',
      data: { id: SA.id, applicationId: SA.id, orgId: orgRestId(ORG_B) },
    });
    const pair = await fetchAppToken(emu, dev.access_token, appCreds(ORG_B));
    expect(pair.status).toBe(200);
    expect((await get(emu, '/people/me', pair.body.access_token)).status).toBe(200);

    const de = await control(emu, `service-apps/${SA.id}/deauthorize`, { orgId: ORG_B });
    expect(de.body).toMatchObject({ changed: true, revoked: 1 });
    await waitFor(() => received.find((b) => b.event === 'deauthorized'));
    expect((await get(emu, '/people/me', pair.body.access_token)).status).toBe(401);
    const refused = await refreshAsApp(pair.body.refresh_token);
    expect(refused.status).toBe(400);
    expect(refused.body.error).toBe('invalid_request');
    expect((await fetchAppToken(emu, dev.access_token, appCreds(ORG_B))).status).toBe(403);
    // Only the developer's unfiltered webhook heard the two events.
    await new Promise((r) => setTimeout(r, 100));
    expect(received.map((b) => b.id)).toEqual([hook.body.id, hook.body.id]);
    // Org A was untouched.
    expect((await fetchAppToken(emu, dev.access_token, appCreds(ORG_A))).status).toBe(200);
  });

  it('control API: 404 for an unknown app, 400 for a bad org', async () => {
    expect((await control(emu, 'service-apps/nope/authorize', { orgId: ORG_B })).status).toBe(404);
    expect((await control(emu, `service-apps/${SA.id}/authorize`, { orgId: 'x' })).status).toBe(400);
    expect((await control(emu, `service-apps/${SA.id}/authorize`, {})).status).toBe(400);
  });
});

describe('seed serviceApps', () => {
  it('validates ids, clients and orgs, one line naming the field', async () => {
    const { validateSeed } = await import('../../src/emulator/index.js');
    const bad = (apps: unknown[]) => {
      try {
        validateSeed({ ...ADMIN_SEED, serviceApps: apps });
        return 'ok';
      } catch (e) {
        return (e as Error).message;
      }
    };
    expect(bad([{ ...SA, authorizedOrgs: ['not-an-org'] }])).toMatch(/^seed: serviceApps\[0\]\.authorizedOrgs\[0\]: /);
    expect(bad([{ ...SA, id: 'a/b' }])).toMatch(/^seed: serviceApps\[0\]\.id: /);
    expect(bad([{ ...SA, clientId: ADMIN_SEED.integrations[0]?.clientId }])).toBe(
      'seed: serviceApps[0].clientId: duplicate clientId',
    );
    expect(bad([SA, { ...SA, clientId: 'other' }])).toBe('seed: serviceApps[1].id: duplicate id');
    expect(bad([{ ...SA, authorizedOrgs: [orgRestId(ORG_B)] }])).toBe('ok');
  });
});
