/**
 * Bots and Service Apps in the web app, on the real emulator and a real SQLite vault (local mode, listening on
 * loopback): the forms of `/identities` (CSRF-checked; a person's token refused with a clear message, never echoed),
 * and a reachable server onboarding a newly authorized org by itself from Webex's signed `serviceApp` webhook, and
 * turning a deauthorized org's connection `needs_reauth` (`deauthorized`).
 */
import { createHmac } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type RunningEmulator, startEmulator } from '../../src/emulator/index.js';
import { ensureServiceAppWebhook, SERVICE_APP_WEBHOOK_NAME } from '../../src/server/service-apps/webhook.js';
import type { VaultInternals } from '../../src/vault/vault.js';
import { WebexClient } from '../../src/webex/client.js';
import { Browser, testAppWithVault } from '../server/support/app.js';
import { control, grantFromEmulator, TEST_INTEGRATION } from '../vault/emulator-grant.js';
import {
  BOT_TOKEN,
  FETCHER_SCOPES,
  fetcherConnection,
  identitySeed,
  ORG_A,
  ORG_B,
  restOrg,
  SERVICE_APP,
  until,
} from './fixture.js';

describe('bots and Service Apps in the web app (emulator)', () => {
  let emulator: RunningEmulator;
  const apps: FastifyInstance[] = [];

  beforeAll(async () => {
    emulator = await startEmulator({ seed: identitySeed, autoConsent: 'alice@example.com' });
  });
  afterEach(async () => {
    for (const a of apps.splice(0)) await a.close();
    await control(emulator.url, 'reset', {});
  });
  afterAll(async () => {
    await emulator?.close();
  });

  /** The web app with the test integration on `on` (default: the suite's emulator) and its vault, closed after. */
  async function server(on: { apiBase: string } = emulator): Promise<{ app: FastifyInstance; vault: VaultInternals }> {
    const t = await testAppWithVault({
      WEBEX_CLIENT_ID: TEST_INTEGRATION.clientId,
      WEBEX_CLIENT_SECRET: TEST_INTEGRATION.clientSecret,
      WEBEX_REDIRECT_URI: TEST_INTEGRATION.redirectUri,
      WEBEX_API_BASE: on.apiBase,
    });
    apps.push(t.app);
    return t;
  }

  it('adds a bot from the form; refuses a person token with a clear message; needs the CSRF token', async () => {
    const { app, vault } = await server();
    const browser = new Browser(app);
    const page = await browser.get('/identities');
    expect(page.statusCode, page.body.slice(0, 300)).toBe(200);
    expect(page.body).toContain('action="/identities/bots"');

    const person = await grantFromEmulator(emulator.apiBase);
    const refused = await browser.post('/identities/bots', { token: person.tokens.accessToken });
    expect(refused.statusCode).toBe(400);
    expect(refused.body).toMatch(/belongs to a person, not a bot/);
    expect(refused.body).not.toContain(person.tokens.accessToken);

    const forged = await browser.post('/identities/bots', { token: BOT_TOKEN }, false);
    expect(forged.statusCode).toBe(403);
    expect(await vault.connections.list()).toEqual([]);

    await browser.get('/identities');
    const added = await browser.post('/identities/bots', { token: BOT_TOKEN });
    expect(added.statusCode, added.body.slice(0, 300)).toBe(303);
    const id = /^\/connections\/([A-Za-z0-9_-]+)$/.exec(String(added.headers.location))?.[1] as string;
    expect(await vault.connections.get(id)).toMatchObject({ kind: 'bot', personEmail: 'ooo-bot@webex.bot' });
    const shown = await browser.get(`/connections/${id}`);
    expect(shown.statusCode, shown.body.slice(0, 300)).toBe(200);
    // "Refresh now" on a bot: a page saying there is nothing to refresh, never a 500.
    const refresh = await browser.post(`/connections/${id}/refresh`, {});
    expect(refresh.statusCode).toBeLessThan(500);
    const home = await browser.get('/');
    expect(home.body).toContain('href="/identities"');
    const list = await browser.get('/identities');
    expect(list.body).toContain(`data-connection-id="${id}"`);
    expect(list.body).not.toContain(BOT_TOKEN);
  });

  it('adds a Service App from the form through a fetching connection; a bad org is a 400 with a message', async () => {
    const { app, vault } = await server();
    const fetcher = await fetcherConnection(vault, emulator, Date.now);
    const browser = new Browser(app);
    const page = await browser.get('/identities');
    expect(page.body).toContain(`value="${fetcher.id}"`);
    const form = {
      appId: SERVICE_APP.id,
      clientId: SERVICE_APP.clientId,
      clientSecret: SERVICE_APP.clientSecret,
      orgId: ORG_A,
      fetcherConnectionId: fetcher.id,
    };
    const bad = await browser.post('/identities/service-apps', { ...form, orgId: 'not-an-org' });
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toMatch(/org id/);
    expect(bad.body).not.toContain(SERVICE_APP.clientSecret);
    await browser.get('/identities');
    const notAuthorized = await browser.post('/identities/service-apps', { ...form, orgId: ORG_B });
    expect(notAuthorized.statusCode).toBe(403);
    expect(notAuthorized.body).toMatch(/not authorized in this org/);
    await browser.get('/identities');
    const added = await browser.post('/identities/service-apps', form);
    expect(added.statusCode, added.body.slice(0, 400)).toBe(303);
    const id = /^\/connections\/([A-Za-z0-9_-]+)$/.exec(String(added.headers.location))?.[1] as string;
    expect(await vault.connections.get(id)).toMatchObject({ kind: 'service_app', orgId: restOrg(ORG_A) });
  });

  it('a reachable server onboards a newly authorized org by itself, and marks a deauthorized one', async () => {
    const { app, vault } = await server();
    const fetcher = await fetcherConnection(vault, emulator, Date.now);
    const first = await vault.identities.addServiceApp({
      appId: SERVICE_APP.id,
      clientId: SERVICE_APP.clientId,
      clientSecret: SERVICE_APP.clientSecret,
      orgId: ORG_A,
      fetcherConnectionId: fetcher.id,
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    // The server registers its serviceApp webhook with the fetcher's token once listening.
    const fetcherToken = (await vault.connections.getFreshToken(fetcher.id)).accessToken;
    const hook = await until(async () => {
      const res = await fetch(`${emulator.apiBase}/webhooks`, { headers: { authorization: `Bearer ${fetcherToken}` } });
      const items = ((await res.json()) as { items: Array<{ resource: string; targetUrl: string }> }).items;
      return items.find((w) => w.resource === 'serviceApp');
    }, 'the serviceApp webhook');
    expect(hook.targetUrl).toBe(`${new URL(hook.targetUrl).origin}/service-apps/webhook/${fetcher.id}`);

    // A forged delivery is refused.
    const forged = await fetch(hook.targetUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-spark-signature': createHmac('sha1', 'x').update('{}').digest('hex'),
      },
      body: '{}',
    });
    expect(forged.status).toBe(401);

    await control(emulator.url, `service-apps/${SERVICE_APP.id}/authorize`, { orgId: ORG_B });
    const onboarded = await until(
      async () => (await vault.connections.list()).find((c) => c.kind === 'service_app' && c.orgId === restOrg(ORG_B)),
      'the new org onboarded',
    );
    expect(onboarded).toMatchObject({ status: 'active', appId: SERVICE_APP.id, fetcherConnectionId: fetcher.id });
    const token = (await vault.connections.getFreshToken(onboarded.id)).accessToken;
    const me = await fetch(`${emulator.apiBase}/people/me`, { headers: { authorization: `Bearer ${token}` } });
    expect(me.status).toBe(200);

    await control(emulator.url, `service-apps/${SERVICE_APP.id}/deauthorize`, { orgId: ORG_A });
    const marked = await until(async () => {
      const c = await vault.connections.get(first.id);
      return c?.status === 'needs_reauth' ? c : undefined;
    }, 'the deauthorized connection');
    expect(marked.needsReauthReason).toBe('deauthorized');
    expect((await vault.connections.get(onboarded.id))?.status).toBe('active');

    // The pages offer to fetch it again through the Service App form (no person's "Authorize again").
    for (const url of [`/connections/${first.id}`, '/connections']) {
      const page = await app.inject({ method: 'GET', url });
      expect(page.statusCode, url).toBe(200);
      const html = url === '/connections' ? (page.body.split(`id="connection-${first.id}"`)[1] ?? '') : page.body;
      const href = /<a class="button reauth" href="([^"]+)">Fetch again<\/a>/.exec(html)?.[1];
      expect(href, url).toBeDefined();
      expect(html.split('</section>')[0]).not.toContain('Authorize again');
      const form = await app.inject({ method: 'GET', url: (href ?? '').replaceAll('&amp;', '&') });
      expect(form.statusCode).toBe(200);
      expect(form.body).toContain(`id="app-id" name="appId" required maxlength="300" value="${SERVICE_APP.id}"`);
      expect(form.body).toContain(`value="${restOrg(ORG_A)}"`);
      expect(form.body).toContain(`<option value="${fetcher.id}" selected>`);
    }
  });

  it('a replayed `deauthorized` delivery leaves an org that authorized the app again active', async () => {
    const { app, vault } = await server();
    const fetcher = await fetcherConnection(vault, emulator, Date.now);
    const input = {
      appId: SERVICE_APP.id,
      clientId: SERVICE_APP.clientId,
      clientSecret: SERVICE_APP.clientSecret,
      orgId: ORG_A,
      fetcherConnectionId: fetcher.id,
    };
    const first = await vault.identities.addServiceApp(input);
    await app.listen({ port: 0, host: '127.0.0.1' });
    const fetcherToken = (await vault.connections.getFreshToken(fetcher.id)).accessToken;
    const hook = await until(async () => {
      const res = await fetch(`${emulator.apiBase}/webhooks`, { headers: { authorization: `Bearer ${fetcherToken}` } });
      const items = ((await res.json()) as { items: Array<{ resource: string; targetUrl: string; secret?: string }> })
        .items;
      return items.find((w) => w.resource === 'serviceApp' && w.secret);
    }, 'the serviceApp webhook');
    // The delivery Webex sends for the deauthorization, as an eavesdropper would record it (Webex's signature has no
    // timestamp, so it stays valid).
    const recorded = JSON.stringify({
      id: 'recorded-delivery',
      name: SERVICE_APP_WEBHOOK_NAME,
      resource: 'serviceApp',
      event: 'deauthorized',
      data: { applicationId: SERVICE_APP.id, orgId: restOrg(ORG_A) },
    });
    const replay = () =>
      fetch(hook.targetUrl, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-spark-signature': createHmac('sha1', hook.secret as string)
            .update(recorded)
            .digest('hex'),
        },
        body: recorded,
      });

    // Deauthorized: Webex confirms (the app's token can no longer be fetched) and the connection is marked.
    await control(emulator.url, `service-apps/${SERVICE_APP.id}/deauthorize`, { orgId: ORG_A });
    expect((await replay()).status).toBe(204);
    expect(await vault.connections.get(first.id)).toMatchObject({
      status: 'needs_reauth',
      needsReauthReason: 'deauthorized',
    });

    // Authorized again and fetched again: active.
    await control(emulator.url, `service-apps/${SERVICE_APP.id}/authorize`, { orgId: ORG_A });
    const again = await vault.identities.addServiceApp(input);
    expect(again.id).toBe(first.id);
    expect((await vault.connections.get(first.id))?.status).toBe('active');

    // The recorded delivery replayed: the app still fetches in that org, so it stays active (with the pair fetched to
    // check, stored rather than left unused).
    const before = (await vault.connections.revealTokens(first.id))?.accessToken;
    expect((await replay()).status).toBe(204);
    expect((await vault.connections.get(first.id))?.status).toBe('active');
    const token = (await vault.connections.getFreshToken(first.id)).accessToken;
    expect(token).not.toBe(before);
    const me = await fetch(`${emulator.apiBase}/people/me`, { headers: { authorization: `Bearer ${token}` } });
    expect(me.status).toBe(200);
  });

  it('replaces the one shared webhook of earlier versions by the fetcher’s own', async () => {
    const { vault } = await server();
    const fetcher = await fetcherConnection(vault, emulator, Date.now);
    const token = (await vault.connections.getFreshToken(fetcher.id)).accessToken;
    const hooks = async () => {
      const res = await fetch(`${emulator.apiBase}/webhooks`, { headers: { authorization: `Bearer ${token}` } });
      return ((await res.json()) as { items: Array<{ targetUrl: string; secret?: string }> }).items;
    };
    const legacy = 'http://127.0.0.1:9/service-apps/webhook';
    const made = await fetch(`${emulator.apiBase}/webhooks`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        name: SERVICE_APP_WEBHOOK_NAME,
        targetUrl: legacy,
        resource: 'serviceApp',
        event: 'all',
        secret: 'shared-by-every-fetcher',
      }),
    });
    expect(made.status).toBe(200);
    const client = new WebexClient({ apiBase: emulator.apiBase, accessToken: token });
    const targetUrl = `${legacy}/${fetcher.id}`;
    await ensureServiceAppWebhook(client, { targetUrl, secret: 'fetcher-own-secret' });
    expect((await hooks()).map((w) => [w.targetUrl, w.secret])).toEqual([[targetUrl, 'fetcher-own-secret']]);
  });

  it("a fetcher's webhook secret signs nothing for another owner's Service Apps", async () => {
    // A second app, so that Mallory has a fetcher with a webhook of its own.
    const other = {
      ...SERVICE_APP,
      id: `${SERVICE_APP.id}Mm`,
      clientId: `C${'6c'.repeat(32)}`,
      clientSecret: '7d'.repeat(32),
    };
    const own = await startEmulator({
      seed: { ...identitySeed, serviceApps: [...identitySeed.serviceApps, { ...other, authorizedOrgs: [ORG_A] }] },
      autoConsent: 'alice@example.com',
    });
    try {
      const { app, vault } = await server(own);
      // The victim: the Service App in org A, fetched by the local operator's connection.
      const fetcher = await fetcherConnection(vault, own, Date.now);
      const victim = await vault.identities.addServiceApp({
        appId: SERVICE_APP.id,
        clientId: SERVICE_APP.clientId,
        clientSecret: SERVICE_APP.clientSecret,
        orgId: ORG_A,
        fetcherConnectionId: fetcher.id,
      });
      // Mallory, another owner, fetches her own app through a connection of her own.
      const grant = await grantFromEmulator(own.apiBase, Date.now, FETCHER_SCOPES);
      const integration = await vault.integrations.upsert({
        ...grant.integration,
        scopes: FETCHER_SCOPES,
        ownerId: 'acct_mallory',
      });
      const mallory = await vault.connections.saveFromGrant({
        ownerId: 'acct_mallory',
        integrationId: integration.id,
        tokens: grant.tokens,
        person: grant.person,
        requestedScopes: FETCHER_SCOPES,
      });
      await vault.identities.addServiceApp({
        ownerId: 'acct_mallory',
        appId: other.id,
        clientId: other.clientId,
        clientSecret: other.clientSecret,
        orgId: ORG_A,
        fetcherConnectionId: mallory.id,
      });
      await app.listen({ port: 0, host: '127.0.0.1' });
      // Webex shows a webhook's secret to its creator: Mallory reads hers back and signs a forged `deauthorized` for
      // the victim's app.
      const hers = await until(async () => {
        const res = await fetch(`${own.apiBase}/webhooks`, {
          headers: { authorization: `Bearer ${grant.tokens.accessToken}` },
        });
        const items = ((await res.json()) as { items: Array<{ targetUrl: string; secret?: string }> }).items;
        return (
          items.find((w) => w.targetUrl.endsWith(`/${mallory.id}`)) ??
          items.find((w) => w.targetUrl.endsWith('/service-apps/webhook'))
        );
      }, "Mallory's webhook");
      const secret = hers.secret as string;
      expect(secret).toBeTruthy();
      const body = JSON.stringify({
        resource: 'serviceApp',
        event: 'deauthorized',
        data: { applicationId: SERVICE_APP.id, orgId: restOrg(ORG_A) },
      });
      const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/service-apps/webhook`;
      const signed = {
        'content-type': 'application/json',
        'x-spark-signature': createHmac('sha1', secret).update(body).digest('hex'),
      };
      // At her own fetcher's address: accepted (it is signed) but about an app that fetcher does not fetch.
      const atHers = await fetch(hers.targetUrl, { method: 'POST', headers: signed, body });
      expect(atHers.status).toBe(204);
      expect((await vault.connections.get(victim.id))?.status).toBe('active');
      // At the victim's fetcher's address: her secret is not its secret.
      const atVictim = await fetch(`${base}/${fetcher.id}`, { method: 'POST', headers: signed, body });
      expect(atVictim.status).toBe(401);
      expect((await vault.connections.get(victim.id))?.status).toBe('active');
    } finally {
      await own.close();
    }
  });
});
