/**
 * Findings of the adversarial review of the accounts change, each a test: the mode cannot be local behind a proxy,
 * sign-in starts are bounded per session, TRUST_PROXY counts hops, production says who may sign in, only verified
 * ASCII emails sign in, the allow-lists are checked on every request, a connect flow belongs to the account that
 * started it, and PUBLIC_URL's origin passes the CSRF Origin check.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config.js';
import { SIGN_IN_LIFETIME_MS, stillAllowed } from '../../src/server/access/principal.js';
import { signInRefusal } from '../../src/server/routes/signin.js';
import { openVault } from '../../src/vault/vault.js';
import { Browser, testApp, testConfig } from '../server/support/app.js';
import { consent, type RunningEmulator, signIn, startTeamEmulator, teamEnv } from './support.js';

let emulator: RunningEmulator;
beforeAll(async () => {
  emulator = await startTeamEmulator();
});
afterAll(async () => {
  await emulator?.close();
});

describe('the mode is team as soon as others can reach the server', () => {
  it('infers team from a non-loopback redirect URI, ALLOWED_HOSTS or TRUST_PROXY, and refuses local in production', () => {
    expect(testConfig({}).accessMode).toBe('local');
    expect(testConfig({ WEBEX_REDIRECT_URI: 'https://auth.example.com/oauth' }).accessMode).toBe('team');
    expect(testConfig({ ALLOWED_HOSTS: 'auth.internal' }).accessMode).toBe('team');
    expect(testConfig({ TRUST_PROXY: '1' }).accessMode).toBe('team');
    expect(testConfig({ TRUST_PROXY: '1' }).trustProxy).toBe(1);
    expect(testConfig({ TRUST_PROXY: 'false' }).accessMode).toBe('local');
    expect(testConfig({}).sessionCreationPerMinute).toBe(12);
    expect(testConfig({ SESSION_CREATION_LIMIT: 'off' }).sessionCreationPerMinute).toBe(0);
    expect(() => testConfig({ SESSION_CREATION_LIMIT: '-1' })).toThrow(/SESSION_CREATION_LIMIT/);
    expect(() =>
      testConfig({
        WEBEX_AUTH_MODE: 'local',
        NODE_ENV: 'production',
        ADMIN_TOKEN: 'a'.repeat(32),
        WEBEX_AUTH_KEYS: `k:${'A'.repeat(43)}=`,
      }),
    ).toThrow(ConfigError);
    expect(() => testConfig({ WEBEX_REDIRECT_URI: 'http://localhost:8080/api/v1/oauth' })).toThrow(
      /may not start with \/api\//,
    );
  });

  it('in local mode answers 421 to a proxied request and to the redirect URI host when local was forced', async () => {
    const { app } = await testApp({ WEBEX_AUTH_MODE: 'local', WEBEX_REDIRECT_URI: 'https://auth.example.com/oauth' });
    expect((await app.inject({ url: '/', headers: { host: 'auth.example.com' } })).statusCode).toBe(421);
    expect((await app.inject({ url: '/', headers: { 'x-forwarded-for': '203.0.113.7' } })).statusCode).toBe(421);
    expect((await app.inject({ url: '/', headers: { forwarded: 'for=203.0.113.7' } })).statusCode).toBe(421);
    expect((await app.inject({ url: '/' })).statusCode).toBe(200);
    // The Host just allowed (hosts.ts remembers it) is still refused when the request says a proxy relayed it.
    const host = 'localhost:80';
    expect((await app.inject({ url: '/', headers: { host } })).statusCode).toBe(200);
    expect((await app.inject({ url: '/', headers: { host, 'x-forwarded-for': '203.0.113.7' } })).statusCode).toBe(421);
    expect((await app.inject({ url: '/', headers: { host, forwarded: 'for=203.0.113.7' } })).statusCode).toBe(421);
    await app.close();
  });

  it('needs a sign-in restriction on a production team server (or * for anyone)', () => {
    const prod = {
      ...teamEnv(emulator),
      NODE_ENV: 'production',
      ADMIN_TOKEN: 'a'.repeat(32),
      WEBEX_AUTH_KEYS: `k:${'A'.repeat(43)}=`,
    };
    expect(() => testConfig({ ...prod, ALLOWED_EMAIL_DOMAINS: '' })).toThrow(/ALLOWED_EMAIL_DOMAINS/);
    expect(testConfig({ ...prod, ALLOWED_EMAIL_DOMAINS: '*' }).allowedEmailDomains).toEqual(['*']);
    expect(
      testConfig({ ...prod, ALLOWED_EMAIL_DOMAINS: '', ALLOWED_ORG_IDS: 'Y2lzY29zcGFyazovL3VzL09SRw' }).accessMode,
    ).toBe('team');
  });
});

describe('who may sign in, and for how long', () => {
  const config = { allowedEmailDomains: ['example.com'], allowedOrgIds: [] };
  it('refuses unverified and non-ASCII addresses (a look-alike K folds to k)', () => {
    expect(
      signInRefusal(config, { email: 'alice@example.com', emailVerified: true, orgId: undefined }),
    ).toBeUndefined();
    expect(signInRefusal(config, { email: 'alice@example.com', emailVerified: false, orgId: undefined })).toMatch(
      /verified/,
    );
    expect(signInRefusal(config, { email: '\u212Aate@example.com', emailVerified: true, orgId: undefined })).toMatch(
      /not one/,
    );
    expect(signInRefusal(config, { email: 'dave@other.example', emailVerified: true, orgId: undefined })).toMatch(
      /other\.example/,
    );
  });

  it('drops a signed-in account when the allow-lists narrow or the sign-in is older than its lifetime', () => {
    const now = Date.now();
    const alice = { id: 'acct_a', email: 'alice@example.com', displayName: 'Alice', orgId: 'orgA', signedInAt: now };
    expect(stillAllowed(config, alice, now)).toBe(true);
    expect(stillAllowed({ allowedEmailDomains: ['example.org'], allowedOrgIds: [] }, alice, now)).toBe(false);
    expect(stillAllowed({ allowedEmailDomains: [], allowedOrgIds: ['orgB'] }, alice, now)).toBe(false);
    expect(stillAllowed(config, alice, now + SIGN_IN_LIFETIME_MS + 1)).toBe(false);
    expect(stillAllowed(config, { ...alice, signedInAt: undefined }, now)).toBe(false);
  });

  it('ends a live session when ALLOWED_EMAIL_DOMAINS narrows and the server restarts', async () => {
    const first = await testApp(teamEnv(emulator));
    const alice = new Browser(first.app);
    await signIn(alice, 'alice@example.com');
    expect((await alice.get('/')).body).toContain('Alice Example');
    await first.app.close();
    // The same store and keys, a narrower list.
    const { buildApp } = await import('../../src/server/app.js');
    const narrowed = testConfig({
      ...teamEnv(emulator, { ALLOWED_EMAIL_DOMAINS: 'example.org' }),
      XDG_DATA_HOME: first.dir,
      WEBEX_AUTH_DB: first.config.dbPath,
      WEBEX_AUTH_KEYS: first.config.keys as string,
    });
    const { mkdirSync } = await import('node:fs');
    mkdirSync(first.dir, { recursive: true });
    const app = await buildApp(narrowed);
    const again = new Browser(app);
    for (const [k, v] of alice.cookies) again.cookies.set(k, v);
    const res = await again.get('/');
    expect(res.body).not.toContain('Alice Example');
    expect(res.body).toContain('Sign in with Webex');
    await app.close();
  });
});

describe('sign-in starts and connect flows are bound', () => {
  it('refuses a 6th pending sign-in of one browser (each a cookie it sends with every request)', async () => {
    const { app } = await testApp(teamEnv(emulator));
    const b = new Browser(app);
    await b.get('/');
    const codes: number[] = [];
    for (let i = 0; i < 7; i++) codes.push((await b.post('/signin', {})).statusCode);
    expect(codes.slice(0, 5).every((c) => c === 303)).toBe(true);
    expect(codes.slice(5)).toEqual([429, 429]);
    expect([...b.cookies.keys()].filter((n) => n.startsWith('webex_auth_pending_'))).toHaveLength(5);
    await app.close();
  });

  it('never gives one account the connection of a flow another account of the same browser started', async () => {
    const t = await testApp(teamEnv(emulator));
    const browser = new Browser(t.app);
    await signIn(browser, 'alice@example.com');
    await browser.get('/');
    const flow = await browser.post('/oauth/start', { scope: ['spark:people_read'] });
    const callback = await consent(String(flow.headers.location), 'alice@example.com');
    // Carol signs in on the same browser before alice's answer comes back.
    await browser.post('/signout', {});
    await signIn(browser, 'carol@example.com');
    const res = await browser.get(callback);
    expect(res.statusCode).toBe(400);
    const vault = await openVault(t.config);
    expect(await vault.connections.list()).toEqual([]);
    await vault.close();
    await t.app.close();
  });

  it('accepts PUBLIC_URL’s origin on a form post that reaches it as http (TLS proxy without TRUST_PROXY)', async () => {
    const { app } = await testApp({ ...teamEnv(emulator), PUBLIC_URL: 'https://auth.example.com' });
    const b = new Browser(app, { host: 'auth.example.com' });
    await b.get('/');
    expect((await b.post('/signin', {}, true, { origin: 'https://auth.example.com' })).statusCode).toBe(303);
    expect((await b.post('/signin', {}, true, { origin: 'https://evil.example' })).statusCode).toBe(403);
    await app.close();
  });
});
