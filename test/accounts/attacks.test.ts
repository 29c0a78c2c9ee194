/**
 * The eight attacks of the accounts issue, each against the server it used to beat: team mode on the real emulator
 * and a real vault (SQLite in a temp dir; PostgreSQL for the two-instance row), through app.inject(). Each failed
 * before owners, store-backed sessions and the Host check existed.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/server/app.js';
import { CONFIGURED_OWNER } from '../../src/vault/types.js';
import { openVault, type VaultInternals } from '../../src/vault/vault.js';
import { Browser, testApp, testConfig } from '../server/support/app.js';
import { dropSchema, freshSchema, PG_URL, postgresAvailable } from '../vault/helpers.js';
import {
  ADMIN_TOKEN,
  connect,
  consent,
  type RunningEmulator,
  signIn,
  startTeamEmulator,
  TEAM_INTEGRATION,
  teamEnv,
} from './support.js';

let emulator: RunningEmulator;
beforeAll(async () => {
  emulator = await startTeamEmulator();
});
afterAll(async () => {
  await emulator?.close();
});

/** A production team server (NODE_ENV=production, ADMIN_TOKEN, WEBEX_AUTH_KEYS) and a second vault on its store. */
async function teamServer(extra: Record<string, string> = {}) {
  const t = await testApp({ ...teamEnv(emulator), NODE_ENV: 'production', ADMIN_TOKEN: ADMIN_TOKEN, ...extra });
  const vault = await openVault(t.config);
  t.app.addHook('onClose', async () => vault.close());
  return { ...t, vault };
}

describe('1. an anonymous POST /configure cannot overwrite the configured integration', () => {
  it('is refused before sign-in, and a member bringing the same client id gets a row of their own', async () => {
    const { app, vault } = await teamServer();
    const [configured] = await vault.integrations.list(CONFIGURED_OWNER);
    expect(configured).toBeDefined();
    const evil = {
      clientId: TEAM_INTEGRATION.clientId,
      clientSecret: 'attacker-secret-0000',
      redirectUri: 'https://attacker.example/oauth',
      scopes: 'spark:all',
    };
    const anonymous = new Browser(app);
    await anonymous.get('/');
    const refused = await anonymous.post('/configure', evil);
    expect(refused.statusCode).toBe(401);

    const alice = new Browser(app);
    await signIn(alice, 'alice@example.com');
    await alice.get('/');
    expect((await alice.post('/configure', evil)).statusCode).toBe(303);

    const after = await vault.getIntegrationWithSecret(configured?.id as string);
    expect(after?.clientSecret).toBe(TEAM_INTEGRATION.clientSecret);
    expect(after?.redirectUri).toBe('http://localhost:18481/oauth');
    expect(after?.scopes).toEqual(configured?.scopes);
    const alices = (await vault.integrations.list()).filter((i) => i.ownerId !== CONFIGURED_OWNER);
    expect(alices.map((i) => i.redirectUri)).toEqual(['https://attacker.example/oauth']);
    // A new visitor still signs in through the configured redirect URI, and the broker's secret still works.
    const visitor = new Browser(app);
    await visitor.get('/');
    const start = await visitor.post('/signin', {});
    expect(new URL(String(start.headers.location)).searchParams.get('redirect_uri')).toBe(
      'http://localhost:18481/oauth',
    );
    expect((await signIn(new Browser(app), 'carol@example.com')).statusCode).toBe(303);
    await app.close();
  });
});

describe('2. a forged Host never reaches a route (DNS rebinding)', () => {
  it('answers 421 on every route in both modes, whatever the client address', async () => {
    for (const env of [{}, { ...teamEnv(emulator) }]) {
      const { app } = await testApp(env);
      const rebind = { host: 'rebind.attacker.example:8080' };
      for (const [method, url] of [
        ['GET', '/connections'],
        ['POST', '/admin/connections/conn_x/delete'],
        ['GET', '/'],
        ['GET', '/healthz'],
        ['GET', '/metrics'],
        ['GET', '/api/v1/connections'],
        ['GET', '/oauth?code=x&state=y'],
      ] as const) {
        const res = await app.inject({ method, url, headers: { ...rebind, authorization: `Bearer ${ADMIN_TOKEN}` } });
        expect(res.statusCode, `${method} ${url}`).toBe(421);
      }
      // The allowed names still work: loopback on any port, the redirect URI's host.
      expect((await app.inject({ url: '/healthz', headers: { host: '127.0.0.1:9999' } })).statusCode).toBe(200);
      expect((await app.inject({ url: '/healthz', headers: { host: '[::1]:8080' } })).statusCode).toBe(200);
      // Right after an allowed Host (the one hosts.ts remembers), a forged one is still refused.
      expect((await app.inject({ url: '/healthz', headers: rebind })).statusCode).toBe(421);
      await app.close();
    }
    const { app } = await testApp({
      ALLOWED_HOSTS: 'auth.internal',
      PUBLIC_URL: 'https://auth.example.com',
      ...teamEnv(emulator),
    });
    for (const host of ['auth.internal', 'auth.example.com', 'AUTH.example.com:443']) {
      expect((await app.inject({ url: '/healthz', headers: { host } })).statusCode, host).toBe(200);
    }
    expect(
      (await app.inject({ url: '/healthz', headers: { host: 'auth.example.com.attacker.example' } })).statusCode,
    ).toBe(421);
    await app.close();
  });
});

describe('3. a planted session cookie is worthless after the victim signs in or authorizes', () => {
  it('rotates the session id at sign-in and at a completed authorization', async () => {
    const { app } = await teamServer();
    const attacker = new Browser(app);
    await attacker.get('/');
    await attacker.post('/signin', {});
    // The session cookie (the sign-in's flow id and pending authorization are cookies of their own).
    const planted = new Map([...attacker.cookies].filter(([name]) => name === 'webex_auth_session'));
    expect(planted.size).toBe(1);

    const victim = new Browser(app);
    for (const [k, v] of planted) victim.cookies.set(k, v);
    victim.csrf = attacker.csrf;
    const start = await victim.post('/signin', {});
    await victim.get(await consent(String(start.headers.location), 'alice@example.com'));
    expect([...victim.cookies.values()]).not.toEqual([...planted.values()]);
    const id = await connect(victim, 'alice@example.com');
    const page = await victim.get(`/connections/${id}`);
    expect(page.statusCode).toBe(200);

    const replay = await attacker.get(`/connections/${id}`);
    expect(replay.statusCode).toBe(303);
    expect(replay.headers.location).toBe('/?signin=required');
    expect(replay.body).not.toContain('refresh');
    // The session that signed in rotated again at the completed authorization: its earlier id is dead too.
    await app.close();
  });

  it('uses a __Host- cookie with Secure when the public scheme is https', async () => {
    const { app } = await teamServer({ PUBLIC_URL: 'https://auth.example.com' });
    const b = new Browser(app, { host: 'auth.example.com' });
    await b.get('/');
    const res = await b.post('/signin', {});
    const cookie = String(res.headers['set-cookie']);
    expect(cookie).toMatch(/^__Host-webex_auth_session=/);
    expect(cookie).toMatch(/; Secure/i);
    expect(cookie).toMatch(/; HttpOnly/i);
    expect(cookie).not.toMatch(/Domain=/i);
    await app.close();
  });
});

describe('4. cookie-less requests cannot evict anyone’s session', () => {
  it('makes no session for 10,001 anonymous GETs, and bounds session creation per address', async () => {
    const { app } = await teamServer();
    const alice = new Browser(app);
    await signIn(alice, 'alice@example.com');
    let cookies = 0;
    for (let i = 0; i < 10_001; i++) {
      const res = await app.inject({ url: '/', remoteAddress: `10.9.${(i >> 8) & 255}.${i & 255}` });
      if (res.headers['set-cookie']) cookies++;
    }
    expect(cookies).toBe(0);
    const home = await alice.get('/');
    expect(home.body).toContain('Alice Example');

    let limited = 0;
    for (let i = 0; i < 40; i++) {
      const b = new Browser(app);
      await b.get('/');
      const res = await b.post('/signin', {}, true, {});
      if (res.statusCode === 429) {
        limited++;
        expect(res.headers['retry-after']).toMatch(/^\d+$/);
      }
    }
    expect(limited).toBeGreaterThan(0);
    // Another address is not limited by this one.
    const other = await app.inject({ method: 'GET', url: '/', remoteAddress: '10.1.1.1' });
    expect(other.statusCode).toBe(200);
    expect((await alice.get('/')).body).toContain('Alice Example');
    await app.close();
  });
});

describe('5. behind a TLS proxy (TRUST_PROXY) the cookie is Secure and HSTS is sent', () => {
  it('honours X-Forwarded-Proto only with TRUST_PROXY', async () => {
    const forwarded = { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'auth.example.com' };
    const trusted = await testApp({ ...teamEnv(emulator), TRUST_PROXY: 'true', ALLOWED_HOSTS: 'auth.example.com' });
    const b = new Browser(trusted.app, forwarded);
    const landing = await b.get('/');
    expect(landing.headers['strict-transport-security']).toMatch(/max-age=\d+/);
    const res = await b.post('/signin', {});
    expect(String(res.headers['set-cookie'])).toMatch(/^__Host-webex_auth_session=.*; Secure/i);
    await trusted.app.close();

    const untrusted = await testApp({ ...teamEnv(emulator), ALLOWED_HOSTS: 'auth.example.com' });
    const plain = await untrusted.app.inject({ url: '/', headers: forwarded });
    expect(plain.headers['strict-transport-security']).toBeUndefined();
    await untrusted.app.close();
  });
});

describe('6. brought integrations are bounded and serve no callback path to strangers', () => {
  it('adds nothing for anonymous posts, caps a member, and serves a brought redirect path only for its owner’s flow', async () => {
    const { app, vault } = await teamServer();
    const before = (await vault.integrations.list()).length;
    const anonymous = new Browser(app);
    await anonymous.get('/');
    for (let i = 0; i < 300; i++) {
      await anonymous.post('/configure', {
        clientId: `Cattacker${i}`,
        clientSecret: 'x'.repeat(20),
        redirectUri: `http://localhost:18481/evil-${i}`,
      });
    }
    expect((await vault.integrations.list()).length).toBe(before);

    const alice = new Browser(app);
    await signIn(alice, 'alice@example.com');
    let capped = 0;
    for (let i = 0; i < 30; i++) {
      await alice.get('/');
      const res = await alice.post('/configure', {
        clientId: `Calice${i}`,
        clientSecret: 'y'.repeat(20),
        redirectUri: `http://localhost:18481/brought-${i}`,
      });
      if (res.statusCode === 429) capped++;
    }
    expect(capped).toBe(20);
    expect((await vault.integrations.list()).length).toBe(before + 10);
    // A brought redirect path is no callback for anyone else.
    const stranger = await app.inject({ url: '/brought-3?code=c&state=s', headers: { host: 'localhost:18481' } });
    expect(stranger.statusCode).toBe(404);
    await app.close();
  });
});

describe('7. one admin policy: /metrics and the dashboard', () => {
  it('refuses /metrics to anyone but an admin on a non-loopback HOST without ADMIN_TOKEN', async () => {
    const { app } = await testApp({ ...teamEnv(emulator), HOST: '0.0.0.0' });
    expect((await app.inject({ url: '/metrics' })).statusCode).toBe(401);
    const alice = new Browser(app);
    await signIn(alice, 'alice@example.com');
    expect((await alice.get('/metrics')).statusCode).toBe(401);
    expect((await alice.get('/connections')).statusCode).toBe(403);
    const carol = new Browser(app);
    await signIn(carol, 'carol@example.com');
    expect((await carol.get('/metrics')).statusCode).toBe(200);
    expect((await carol.get('/connections')).statusCode).toBe(200);
    await app.close();
  });

  it('lets a script with the admin token read both', async () => {
    const { app } = await teamServer();
    const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
    expect((await app.inject({ url: '/metrics', headers: auth })).statusCode).toBe(200);
    expect((await app.inject({ url: '/connections', headers: auth })).statusCode).toBe(200);
    expect((await app.inject({ url: '/metrics', headers: { authorization: 'Bearer wrong' } })).statusCode).toBe(401);
    await app.close();
  });
});

const pgUp = await postgresAvailable();
describe.skipIf(!pgUp && !process.env.REQUIRE_POSTGRES)(
  '8. two instances on one PostgreSQL share flows and sessions',
  () => {
    let schema: string;
    beforeAll(() => {
      schema = freshSchema('accounts');
    });
    afterAll(async () => {
      await dropSchema(schema);
    });

    it('finishes on B a flow started on A, and a restart of both keeps the browser signed in', async () => {
      const keys = (await import('../../src/vault/crypto/keyring.js')).generateKeyEntry('k1');
      const config = testConfig({ ...teamEnv(emulator), DATABASE_URL: PG_URL, WEBEX_AUTH_KEYS: keys });
      const instance = async () => {
        const vault: VaultInternals = await openVault(config, { schema });
        const app: FastifyInstance = await buildApp(config, { vault });
        app.addHook('onClose', async () => vault.close());
        return app;
      };
      let a = await instance();
      let b = await instance();
      // One browser; its requests alternate between the instances as a load balancer would send them.
      const browser = new Browser({ inject: ((opts: never) => a.inject(opts)) as never });
      const onB = new Browser({ inject: ((opts: never) => b.inject(opts)) as never });
      const share = () => {
        for (const [k, v] of browser.cookies) onB.cookies.set(k, v);
        onB.csrf = browser.csrf;
      };
      await browser.get('/');
      const start = await browser.post('/signin', {});
      share();
      const signedIn = await onB.get(await consent(String(start.headers.location), 'alice@example.com'));
      expect(signedIn.statusCode, signedIn.body.slice(0, 300)).toBe(303);
      for (const [k, v] of onB.cookies) browser.cookies.set(k, v);
      await browser.get('/');
      const flow = await browser.post('/oauth/start', { scope: ['spark:people_read'] });
      share();
      const done = await onB.get(await consent(String(flow.headers.location), 'alice@example.com'));
      expect(done.statusCode, done.body.slice(0, 300)).toBe(200);
      const page = String(done.headers['content-location']);
      for (const [k, v] of onB.cookies) browser.cookies.set(k, v);
      expect((await browser.get(page)).statusCode).toBe(200);

      await a.close();
      await b.close();
      a = await instance();
      b = await instance();
      expect((await browser.get('/')).body).toContain('Alice Example');
      expect((await browser.get(page)).statusCode).toBe(200);
      await a.close();
      await b.close();
    });
  },
);
