/**
 * The web app against the real emulator (demo mode, started on port 0) and the real vault (SQLite in a temp dir):
 * the whole flow through app.inject(), with the consent page answered over HTTP as a browser would.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, listen } from '../../src/server/app.js';
import { type Demo, startDemo } from '../../src/server/demo.js';
import { escapeHtml } from '../../src/server/html.js';
import { DEMO_BANNER, DEMO_BANNER_BROUGHT } from '../../src/server/views/layout.js';
import { generateKeyEntry, openVault } from '../../src/vault/index.js';
import { Browser, testConfig } from './support/app.js';

let dir: string;
let demo: Demo;
let app: FastifyInstance;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'webex-auth-flow-'));
  const config = testConfig({
    XDG_DATA_HOME: dir,
    WEBEX_AUTH_DB: join(dir, 'webex-auth.db'),
    WEBEX_AUTH_KEYS: generateKeyEntry('k1'),
    WEBEX_REDIRECT_URI: 'http://localhost:8080/oauth',
  });
  demo = await startDemo(config);
  app = await buildApp(demo.config);
});
afterAll(async () => {
  await app?.close();
  await demo?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Answers the emulator's consent page for `authorizeUrl`; returns the callback path + query it redirects to. */
async function consent(authorizeUrl: string, decision: 'accept' | 'decline', email = 'alice@example.com') {
  const page = await fetch(authorizeUrl);
  const htmlText = await page.text();
  const request = /name="request" value="([^"]+)"/.exec(htmlText)?.[1];
  expect(request, htmlText.slice(0, 500)).toBeTruthy();
  const answer = await fetch(new URL('/v1/authorize', authorizeUrl), {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ request: request ?? '', email, decision }).toString(),
  });
  const location = new URL(String(answer.headers.get('location')));
  expect(location.origin).toBe('http://localhost:8080');
  return location.pathname + location.search;
}

async function stats() {
  return (await (await fetch(`${demo.emulatorUrl}/_emulator/stats`)).json()) as {
    grants: { authorization_code: number };
  };
}

async function start(b: Browser, scopes: string[]) {
  const res = await b.post('/oauth/start', { scope: scopes });
  expect(res.statusCode).toBe(303);
  return String(res.headers.location);
}

describe('demo mode against the real emulator and vault', () => {
  it('every page shows the demo banner; the broker API is mounted', async () => {
    const b = new Browser(app);
    expect((await b.get('/')).body).toContain(escapeHtml(DEMO_BANNER));
    expect((await b.get('/space')).body).toContain(escapeHtml(DEMO_BANNER));
    expect((await b.get('/nope')).body).toContain(escapeHtml(DEMO_BANNER));
    const api = await app.inject('/api/v1/connections');
    expect(api.statusCode).toBe(401);
    expect(api.headers['content-type']).toContain('application/problem+json');
    expect((await app.inject('/readyz')).statusCode).toBe(200);
  });

  it('accept → connection stored → result page with Alice; a replayed callback never exchanges twice', async () => {
    const b = new Browser(app);
    await b.get('/');
    const before = (await stats()).grants.authorization_code;
    const callback = await consent(await start(b, ['spark:people_read', 'spark:rooms_read']), 'accept');
    // The callback answers with the connection page (its own address in Content-Location).
    const done = await b.get(callback);
    expect(done.statusCode).toBe(200);
    expect(String(done.headers['content-location'])).toMatch(/^\/connections\/[A-Za-z0-9_-]+$/);
    expect(done.body).toContain('Alice Example');
    const page = await b.get(String(done.headers['content-location']));
    expect(page.body).toContain('Alice Example');
    expect(page.body).toContain('alice@example.com');
    expect((await stats()).grants.authorization_code).toBe(before + 1);
    const replay = await b.get(callback);
    expect(replay.statusCode).toBe(409);
    // Even from a different browser: no pending authorization there, so no exchange.
    const other = new Browser(app);
    expect((await other.get(callback)).statusCode).toBe(400);
    expect((await stats()).grants.authorization_code).toBe(before + 1);
    // Refresh now goes through the vault to the emulator.
    const refreshed = await b.post(`${done.headers['content-location']}/refresh`, {});
    expect(refreshed.statusCode).toBe(303);
  });

  it('decline → the declined page', async () => {
    const b = new Browser(app);
    await b.get('/');
    const res = await b.get(await consent(await start(b, ['spark:people_read']), 'decline'));
    expect(res.statusCode).toBe(400);
    expect(res.body).toContain('Authorization declined');
  });

  it('a code the emulator rejects (forced invalid_grant) gets its page', async () => {
    const b = new Browser(app);
    await b.get('/');
    const callback = await consent(await start(b, ['spark:people_read']), 'accept');
    await fetch(`${demo.emulatorUrl}/_emulator/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ endpoint: 'token', error: 'invalid_grant', count: 1 }),
    });
    const res = await b.get(callback);
    expect(res.statusCode).toBe(400);
    expect(res.body).toContain('Authorization no longer valid');
    await fetch(`${demo.emulatorUrl}/_emulator/faults`, { method: 'DELETE' });
  });

  it('spark:rooms_read only: people/me is a 403 explained with spark:people_read; rooms works', async () => {
    const b = new Browser(app);
    await b.get('/');
    const done = await b.get(await consent(await start(b, ['spark:rooms_read']), 'accept'));
    const location = String(done.headers['content-location']);
    await b.get(location);
    await b.post(`${location}/try`, { endpoint: 'people-me' });
    const page = await b.get(location);
    expect(page.body).toContain('HTTP 403');
    expect(page.body).toContain('Authorize again with spark:people_read');
    await b.post(`${location}/try`, { endpoint: 'rooms' });
    expect((await b.get(location)).body).toContain('Demo space');
  });

  it('openid: the id_token is verified before storing, and its sub names the person when people/me is refused', async () => {
    const b = new Browser(app);
    await b.get('/');
    const done = await b.get(await consent(await start(b, ['openid', 'email', 'spark:rooms_read']), 'accept'));
    expect(done.statusCode).toBe(200);
    const id = decodeURIComponent(String(done.headers['content-location']).split('/').pop() ?? '');
    const vault = await openVault(demo.config);
    const connection = await vault.connections.get(id).finally(() => vault.close());
    expect(Buffer.from(String(connection?.personId), 'base64').toString()).toMatch(
      /^ciscospark:\/\/us\/PEOPLE\/[0-9a-f-]{36}$/,
    );
  });

  it('an id_token from an unexpected issuer is refused and nothing is stored', async () => {
    const strict = await buildApp({ ...demo.config, issuer: 'https://idbroker-eu.webex.com/idb' });
    const vault = await openVault(demo.config);
    try {
      const b = new Browser(strict);
      await b.get('/');
      const before = (await vault.connections.list()).length;
      const res = await b.get(await consent(await start(b, ['openid', 'spark:people_read']), 'accept'));
      expect(res.statusCode).toBeGreaterThanOrEqual(400);
      expect(res.statusCode).toBeLessThan(500);
      expect(res.body).toMatch(/identity token|id_token/i);
      expect((await vault.connections.list()).length).toBe(before);
    } finally {
      await strict.close();
      await vault.close();
    }
  });

  it('space demo: messages through the person token, and a posted message shows up', async () => {
    const b = new Browser(app);
    await b.get('/');
    await b.get(
      await consent(
        await start(b, ['spark:people_read', 'spark:rooms_read', 'spark:messages_read', 'spark:messages_write']),
        'accept',
      ),
    );
    const space = await b.get('/space');
    expect(space.body).toContain('Hello from the demo bot');
    const sent = await b.post('/space/messages', { text: 'Hi <b>there</b> from the test' });
    expect(sent.statusCode).toBe(303);
    const after = await b.get('/space');
    expect(after.body).toContain('Hi &lt;b&gt;there&lt;/b&gt; from the test');
  });

  it('a session that brought an integration at Webex: the banner and home page do not claim emulator tokens', async () => {
    const b = new Browser(app);
    const home = await b.get('/');
    expect(home.body).toContain(escapeHtml(DEMO_BANNER));
    expect(home.body).toContain('<dd id="tokens-from">the local Webex emulator</dd>');
    const saved = await b.post('/configure', {
      clientId: `C${'a'.repeat(63)}`,
      clientSecret: 's'.repeat(64),
      redirectUri: 'http://localhost:8080/oauth',
      scopes: 'spark:people_read',
    });
    expect(saved.statusCode, saved.body).toBe(303);
    for (const path of ['/', '/space', '/nope']) {
      const page = await b.get(path);
      expect(page.body, path).toContain(escapeHtml(DEMO_BANNER_BROUGHT));
      expect(page.body, path).not.toContain(escapeHtml(DEMO_BANNER));
    }
    const after = (await b.get('/')).body;
    expect(after).toContain('<dd id="tokens-from">Webex (webexapis.com)</dd>');
    expect(after).not.toContain('Tokens work only against the emulator');
    // Another browser still uses the emulator's integration, with the banner as before.
    const other = new Browser(app);
    expect((await other.get('/')).body).toContain(escapeHtml(DEMO_BANNER));
  });

  it("paste form: the emulator's own authorization URL fills the form, the emulator base can be saved, and the flow runs offline", async () => {
    const b = new Browser(app);
    await b.get('/');
    const base = demo.config.apiBase;
    const authorizeUrl = `${base}/authorize?client_id=${demo.config.clientId}&response_type=code&redirect_uri=${encodeURIComponent('http://localhost:8080/oauth')}&scope=spark%3Apeople_read%20spark%3Arooms_read&state=set_state_here`;
    const pasted = await b.post('/configure/paste', { url: authorizeUrl });
    expect(pasted.statusCode, pasted.body).toBe(200);
    expect(pasted.body).toContain(`value="${demo.config.clientId}"`);
    expect(pasted.body).toContain('value="spark:people_read spark:rooms_read"');
    expect(pasted.body).toContain(`value="${base}" checked`);
    // Another loopback port, a non-loopback http host, or another path on the emulator: refused.
    const port = Number(new URL(base).port);
    for (const url of [
      authorizeUrl.replace(`:${port}/`, `:${port === 65535 ? port - 1 : port + 1}/`),
      authorizeUrl.replace(new URL(base).host, 'evil.example'),
      authorizeUrl.replace('/v1/authorize', '/v2/v1/authorize'),
    ]) {
      const bad = await b.post('/configure/paste', { url });
      expect(bad.statusCode, url).toBe(400);
    }
    // /configure takes the emulator base in demo mode, and nothing else on http.
    const wrong = await b.post('/configure', {
      clientId: demo.config.clientId ?? '',
      clientSecret: demo.config.clientSecret ?? '',
      redirectUri: 'http://localhost:8080/oauth',
      scopes: 'spark:people_read spark:rooms_read',
      apiBase: 'http://evil.example/v1',
    });
    expect(wrong.statusCode).toBe(400);
    expect(wrong.body).toContain('the Webex emulator of this demo');
    const saved = await b.post('/configure', {
      clientId: demo.config.clientId ?? '',
      clientSecret: demo.config.clientSecret ?? '',
      redirectUri: 'http://localhost:8080/oauth',
      scopes: 'spark:people_read spark:rooms_read',
      apiBase: base,
    });
    expect(saved.statusCode, saved.body).toBe(303);
    const location = await start(b, ['spark:people_read']);
    expect(location.startsWith(`${base}/authorize?`)).toBe(true);
    const done = await b.get(await consent(location, 'accept'));
    expect(done.statusCode).toBe(200);
    expect(done.body).toContain('Alice Example');
  });
});

describe('demo start-up', () => {
  it('seeds the redirect URI, finds the demo space, and keeps demo connections out of the shared database', async () => {
    const home = mkdtempSync(join(tmpdir(), 'webex-auth-demo-test-'));
    const config = testConfig({ XDG_DATA_HOME: home, WEBEX_REDIRECT_URI: 'http://localhost:4321/custom/callback' });
    const d = await startDemo(config);
    try {
      expect(d.config.mode).toBe('demo');
      expect(d.config.apiBase).toBe(`${d.emulatorUrl}/v1`);
      expect(d.config.spaceId).toBeTruthy();
      expect(d.config.botToken).toBeTruthy();
      expect(d.demoDatabase).toBe(true);
      expect(d.config.dbPath.startsWith(home)).toBe(false);
      // The emulator accepts this server's redirect URI for the demo integration.
      const res = await fetch(
        `${d.config.apiBase}/authorize?response_type=code&client_id=${d.config.clientId}&redirect_uri=${encodeURIComponent(config.redirectUri)}&scope=spark:people_read&state=s`,
      );
      expect(res.status).toBe(200);
      expect(await res.text()).toContain('name="email"');
    } finally {
      await d.close();
      rmSync(home, { recursive: true, force: true });
    }
    expect(existsSync(d.config.dbPath)).toBe(false);
  });

  it('without WEBEX_REDIRECT_URI, the redirect URI follows the port served on (not 8080), and a flow completes', async () => {
    const home = mkdtempSync(join(tmpdir(), 'webex-auth-demo-port-'));
    // PORT=0: the demo resolves a free port before the emulator registers the redirect URI.
    const config = testConfig({ XDG_DATA_HOME: home, WEBEX_AUTH_KEYS: generateKeyEntry('k1'), PORT: '0' });
    expect(config.redirectUriSet).toBe(false);
    const d = await startDemo(config);
    const served = await buildApp(d.config);
    try {
      expect(d.config.port).not.toBe(0);
      expect(d.config.port).not.toBe(8080);
      expect(d.config.redirectUri).toBe(`http://localhost:${d.config.port}/oauth`);
      const url = await listen(served, d.config);
      expect(new URL(url).port).toBe(String(d.config.port));
      const b = new Browser(served);
      expect((await b.get('/')).body).toContain(`http://localhost:${d.config.port}/oauth`);
      const authorizeUrl = (await b.post('/oauth/start', { scope: ['spark:people_read'] })).headers.location;
      expect(new URL(String(authorizeUrl)).searchParams.get('redirect_uri')).toBe(d.config.redirectUri);
      const page = await (await fetch(String(authorizeUrl))).text();
      const request = /name="request" value="([^"]+)"/.exec(page)?.[1];
      expect(request, page.slice(0, 500)).toBeTruthy();
      const answer = await fetch(new URL('/v1/authorize', String(authorizeUrl)), {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          request: request ?? '',
          email: 'alice@example.com',
          decision: 'accept',
        }).toString(),
      });
      const location = new URL(String(answer.headers.get('location')));
      expect(location.origin).toBe(`http://localhost:${d.config.port}`);
      const done = await b.get(location.pathname + location.search);
      expect(done.statusCode).toBe(200);
      expect(done.body).toContain('Alice Example');
    } finally {
      await served.close();
      await d.close();
      rmSync(home, { recursive: true, force: true });
    }
  });

  it('an explicit WEBEX_REDIRECT_URI is kept whatever the port', async () => {
    const home = mkdtempSync(join(tmpdir(), 'webex-auth-demo-port-'));
    const config = testConfig({
      XDG_DATA_HOME: home,
      PORT: '18282',
      WEBEX_REDIRECT_URI: 'http://localhost:8080/oauth',
    });
    const d = await startDemo(config);
    try {
      expect(d.config.port).toBe(18282);
      expect(d.config.redirectUri).toBe('http://localhost:8080/oauth');
    } finally {
      await d.close();
      rmSync(home, { recursive: true, force: true });
    }
  });
});
