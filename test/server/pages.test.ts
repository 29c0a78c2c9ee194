import { mkdtempSync, statSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { listen } from '../../src/server/app.js';
import { escapeHtml } from '../../src/server/html.js';
import { selfSignedCertificate } from '../../src/server/https.js';
import { LOCAL_OPERATOR } from '../../src/vault/types.js';
import { Browser, testApp, testAppWithVault } from './support/app.js';

const CONFIGURED = { WEBEX_CLIENT_ID: 'C0123456789abcdef', WEBEX_CLIENT_SECRET: 'canary-client-secret-123' };
let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});
async function app(env: Record<string, string> = CONFIGURED) {
  const t = await testAppWithVault(env);
  close = () => t.app.close();
  return t;
}

describe('pages and headers', () => {
  it('home shows the redirect URI, a masked client id, the scope picker and presets, never the secret', async () => {
    const { app: a } = await app();
    const b = new Browser(a);
    const res = await b.get('/');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/html');
    expect(res.body).toContain('http://localhost:8080/oauth');
    expect(res.body).toContain(escapeHtml('C012…cdef'));
    expect(res.body).not.toContain('C0123456789abcdef');
    expect(res.body).not.toContain('canary-client-secret-123');
    expect(res.body).toContain('value="spark:people_read"');
    expect(res.body).toContain('Out-of-office bot');
    expect(res.body).not.toContain('Demo mode');
    expect(res.body).not.toMatch(/<script>(?!<\/script>)/);
  });

  it('sets strict security headers; no cookie for a GET, a HttpOnly SameSite=Lax signed flow cookie once a flow starts', async () => {
    const { app: a } = await app();
    const res = await a.inject('/');
    expect(res.headers['content-security-policy']).toContain("script-src 'self'");
    expect(res.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(res.headers['referrer-policy']).toBe('no-referrer');
    expect(res.headers['x-frame-options']).toBe('DENY');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['cache-control']).toBe('no-store');
    // No session is made for an anonymous GET; a flow's pending authorization (its PKCE verifier) is kept under a flow
    // id, in a cookie of its own that lives as long as the authorization.
    expect(res.headers['set-cookie']).toBeUndefined();
    const b = new Browser(a);
    await b.get('/');
    expect(b.cookies.size).toBe(0);
    const start = await b.post('/oauth/start', { scope: 'spark:people_read' });
    expect(start.statusCode).toBe(303);
    const set = start.headers['set-cookie'];
    const cookies = Array.isArray(set) ? set : [String(set)];
    // The flow id, and the pending authorization sealed to it.
    expect(cookies).toHaveLength(2);
    const [cookie, pending] = cookies as [string, string];
    expect(pending).toMatch(/^webex_auth_pending_[0-9a-f]{16}=v1%3A[^;]+;/);
    for (const c of cookies) {
      expect(c).toMatch(/HttpOnly/);
      expect(c).toMatch(/SameSite=Lax/);
      expect(c).toMatch(/Path=\//);
      expect(c).not.toMatch(/Secure/);
      expect(c).toMatch(/Max-Age=900/);
    }
    expect(cookie).toMatch(/^webex_auth_flow=[^;]+\.[^;]+;/);
  });

  it('serves https with a generated self-signed certificate and marks the flow cookie Secure (__Host-)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'webex-auth-tls-'));
    const tls = selfSignedCertificate(dir);
    expect(tls.cert).toContain('BEGIN CERTIFICATE');
    expect(statSync(join(dir, 'tls', 'localhost.key.pem')).mode & 0o777).toBe(0o600);
    const t = await testApp({ ...CONFIGURED, WEBEX_REDIRECT_URI: 'https://localhost:8443/oauth' }, { tls });
    close = () => t.app.close();
    const res = await t.app.inject('/');
    expect(res.headers['set-cookie']).toBeUndefined();
    expect(res.body).toContain('self-signed certificate');
    const url = await listen(t.app, { port: 0, host: '127.0.0.1' }, 'https');
    expect(url).toMatch(/^https:\/\/localhost:\d+$/);
    const port = new URL(url).port;
    /** One request over the real TLS socket (inject() is not TLS). */
    const request = (path: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}) =>
      new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }>(
        (resolve, reject) => {
          const req = httpsRequest(
            {
              host: '127.0.0.1',
              port,
              path,
              method: init.method ?? 'GET',
              headers: init.headers,
              rejectUnauthorized: false,
            },
            (r) => {
              let data = '';
              r.on('data', (c) => {
                data += c;
              });
              r.on('end', () => resolve({ status: r.statusCode ?? 0, headers: r.headers, body: data }));
            },
          );
          req.on('error', reject);
          req.end(init.body);
        },
      );
    expect(JSON.parse((await request('/healthz')).body)).toEqual({ status: 'ok' });
    const home = await request('/');
    expect(home.headers['set-cookie']).toBeUndefined();
    const csrf = /name="_csrf" value="([^"]+)"/.exec(home.body)?.[1] ?? '';
    const start = await request('/oauth/start', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _csrf: csrf, scope: 'spark:people_read' }).toString(),
    });
    expect(start.status).toBe(303);
    const cookies = start.headers['set-cookie'] as unknown as string[];
    expect(cookies).toHaveLength(2);
    expect(cookies[0]).toMatch(/^__Host-webex_auth_flow=/);
    expect(cookies[1]).toMatch(/^__Host-webex_auth_pending_[0-9a-f]{16}=/);
    for (const cookie of cookies) {
      expect(cookie).toMatch(/; Secure/);
      expect(cookie).toMatch(/; HttpOnly/);
      expect(cookie).toMatch(/; Path=\//);
      expect(cookie).not.toMatch(/Domain=/i);
    }
  });

  it('serves the stylesheet and script, health and readiness, and a 404 page', async () => {
    const { app: a } = await app();
    expect((await a.inject('/static/style.css')).headers['content-type']).toContain('text/css');
    expect((await a.inject('/static/app.js')).headers['content-type']).toContain('javascript');
    expect((await a.inject('/static/../app.ts')).statusCode).toBe(404);
    expect((await a.inject('/healthz')).json()).toEqual({ status: 'ok' });
    expect((await a.inject('/readyz')).statusCode).toBe(200);
    const nf = await a.inject('/nope<script>');
    expect(nf.statusCode).toBe(404);
    expect(nf.body).toContain('Page not found');
    expect(nf.body).not.toContain('<script>');
  });

  it('refuses a state-changing POST without the session CSRF token', async () => {
    const { app: a } = await app();
    const b = new Browser(a);
    await b.get('/');
    const res = await b.post('/oauth/start', { scope: 'spark:people_read', _csrf: 'forged' }, false);
    expect(res.statusCode).toBe(403);
    expect(res.body).toContain('Form expired');
    const noSession = await a.inject({
      method: 'POST',
      url: '/oauth/start',
      payload: 'scope=spark:all',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(noSession.statusCode).toBe(403);
  });

  it('starts a flow: redirect to Webex with state, PKCE and the picked scopes; two tabs keep two states', async () => {
    const { app: a } = await app();
    const b = new Browser(a);
    await b.get('/');
    const one = await b.post('/oauth/start', { scope: ['spark:people_read', 'spark:rooms_read'] });
    expect(one.statusCode).toBe(303);
    const url1 = new URL(String(one.headers.location));
    expect(url1.origin + url1.pathname).toBe('https://webexapis.com/v1/authorize');
    expect(url1.searchParams.get('scope')).toBe('spark:people_read spark:rooms_read');
    expect(url1.searchParams.get('code_challenge_method')).toBe('S256');
    expect(url1.searchParams.get('redirect_uri')).toBe('http://localhost:8080/oauth');
    expect(String(one.headers.location)).not.toContain('canary-client-secret');
    const two = await b.post('/oauth/start', { preset: 'everything' });
    const url2 = new URL(String(two.headers.location));
    expect(url2.searchParams.get('scope')).toBe('spark:all openid');
    expect(url2.searchParams.get('state')).not.toBe(url1.searchParams.get('state'));
  });

  it('explains bad scope input with a 400 page', async () => {
    const { app: a } = await app();
    const b = new Browser(a);
    await b.get('/');
    expect((await b.post('/oauth/start', {})).body).toContain('No scope chosen');
    const unknown = await b.post('/oauth/start', { scope: '<img src=x onerror=alert(1)>' });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.body).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(unknown.body).not.toContain('<img src=x');
    expect((await b.post('/oauth/start', { preset: 'nope' })).statusCode).toBe(400);
    expect((await b.post('/oauth/start', { scope: 'x'.repeat(200_000) })).statusCode).toBe(413);
  });
});

describe('bring your own integration', () => {
  it('paste fills the form, a bad URL gets a clear message, the secret is stored but never rendered back', async () => {
    const { app: a, vault } = await app({});
    const b = new Browser(a);
    const home = await b.get('/');
    expect(home.body).toContain('Use your Webex integration');
    expect(home.body).not.toContain('id="start"');

    const bad = await b.post('/configure/paste', { url: 'https://evil.example/v1/authorize?client_id=C1' });
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toContain('not a Webex authorization URL');
    // Outside demo mode a loopback emulator URL is not accepted, nor an emulator base on the form.
    const loopback = await b.post('/configure/paste', {
      url: 'http://127.0.0.1:9999/v1/authorize?client_id=C1&response_type=code&redirect_uri=http%3A%2F%2Flocalhost%3A8080%2Foauth',
    });
    expect(loopback.statusCode).toBe(400);
    expect(loopback.body).toContain('not a Webex authorization URL');
    expect(loopback.body).not.toContain('emulator of this demo');
    const loopbackBase = await b.post('/configure', {
      clientId: 'Cabc123',
      clientSecret: 'byo-canary-secret',
      redirectUri: 'http://localhost:8080/webex-auth.html',
      apiBase: 'http://127.0.0.1:9999/v1',
    });
    expect(loopbackBase.statusCode).toBe(400);
    expect(loopbackBase.body).toContain('Choose Webex or Webex for Government.');

    const pasted = await b.post('/configure/paste', {
      url: 'https://webexapis.com/v1/authorize?client_id=Cabc123&response_type=code&redirect_uri=http%3A%2F%2Flocalhost%3A8080%2Fwebex-auth.html&scope=spark%3Apeople_read%20spark%3Arooms_read&state=set_state_here',
    });
    expect(pasted.statusCode).toBe(200);
    expect(pasted.body).toContain('value="Cabc123"');
    expect(pasted.body).toContain('value="http://localhost:8080/webex-auth.html"');
    expect(pasted.body).toContain('value="spark:people_read spark:rooms_read"');

    const invalid = await b.post('/configure', {
      clientId: 'Cabc123',
      clientSecret: 'has space',
      redirectUri: 'http://localhost:8080/oauth',
    });
    expect(invalid.statusCode).toBe(400);
    expect(invalid.body).toContain('client secret');

    const saved = await b.post('/configure', {
      clientId: 'Cabc123',
      clientSecret: 'byo-canary-secret',
      redirectUri: 'http://localhost:8080/webex-auth.html',
      scopes: 'spark:people_read spark:rooms_read',
    });
    expect(saved.statusCode).toBe(303);
    const after = await b.get('/');
    expect(after.body).toContain('id="start"');
    expect(after.body).toContain('http://localhost:8080/webex-auth.html');
    expect(after.body).not.toContain('byo-canary-secret');
    const [stored] = await vault.integrations.list();
    expect(stored?.apiBase).toBe('https://webexapis.com/v1');
    // Local mode: what a browser brings belongs to the local operator.
    expect(stored?.ownerId).toBe(LOCAL_OPERATOR);
    const start = await b.post('/oauth/start', { scope: 'spark:people_read' });
    const url = new URL(String(start.headers.location));
    expect(url.origin).toBe('https://webexapis.com');
    expect(url.searchParams.get('client_id')).toBe('Cabc123');
    expect(String(start.headers.location)).not.toContain('byo-canary-secret');
    // Another browser does not get this browser's integration.
    const other = new Browser(a);
    expect((await other.get('/')).body).not.toContain('id="start"');
  });
});

describe('loopback names', () => {
  it('moves 127.0.0.1 to the redirect URI’s localhost so the callback finds the session cookie', async () => {
    const { app: a } = await app({ ...CONFIGURED, WEBEX_REDIRECT_URI: 'http://localhost:8080/oauth' });
    const res = await a.inject({ url: '/', headers: { host: '127.0.0.1:8080' } });
    expect(res.statusCode).toBe(302);
    expect(res.headers.location).toBe('http://localhost:8080/');
    expect((await a.inject({ url: '/', headers: { host: 'localhost:8080' } })).statusCode).toBe(200);
    // Another port is another server: no redirect.
    expect((await a.inject({ url: '/', headers: { host: '127.0.0.1:9999' } })).statusCode).toBe(200);
  });
});
