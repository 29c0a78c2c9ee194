/**
 * The Webex proxy (`ANY /api/v1/connections/{id}/proxy/{path}`, issue 18) through a real listening broker (Fastify
 * on loopback, team mode) over a real SQLite vault, forwarding to the real emulator; pino's output is captured to
 * check that no token, key or body reaches a log line; a file upload and download streamed through it; calls kept in
 * the vault's call log; a Webex that never answers → 504.
 */
import http from 'node:http';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config.js';
import { type RunningEmulator, startEmulator } from '../../src/emulator/index.js';
import { createLogger } from '../../src/log.js';
import { brokerRoutes, type ProxyCall, renderMetrics } from '../../src/server/routes/api/index.js';
import { parseProxyPath, pathTemplate } from '../../src/server/routes/api/proxy-path.js';
import { apiBaseAllowed } from '../../src/server/routes/api/proxy-target.js';
import { openVault, type VaultInternals } from '../../src/vault/index.js';
import type { KeyPermission } from '../../src/vault/types.js';
import { connectFromEmulator, control, grantFromEmulator, refreshGrants, testSeed } from '../vault/emulator-grant.js';
import { TEST_KEY, tempDir, testConfig, tokenSet } from '../vault/helpers.js';

/** A string put in request bodies, to look for in the logs. */
const BODY_CANARY = 'BODY-CANARY-7f3a';

interface Broker {
  base: string;
  app: FastifyInstance;
}

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/**
 * One request over node:http with exactly `headers`, the path sent exactly as given (fetch would resolve `..` and `.`
 * itself); `send` writes the body and ends the request.
 */
function rawRequest(
  base: string,
  method: string,
  path: string,
  headers: http.OutgoingHttpHeaders,
  send: (req: http.ClientRequest) => void,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const url = new URL(base);
    const req = http.request({ host: url.hostname, port: url.port, method, path, agent: false, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    send(req);
  });
}

/** {@link rawRequest} with `key` as the bearer and `body` (if any) as JSON. */
function request(
  base: string,
  method: string,
  path: string,
  key: string | undefined,
  body?: string | Buffer,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const all = {
    ...(key ? { authorization: `Bearer ${key}` } : {}),
    ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    ...headers,
  };
  return rawRequest(base, method, path, all, (req) => req.end(body));
}

describe('Webex proxy', () => {
  let emulator: RunningEmulator;
  let vault: VaultInternals;
  let cleanup: () => void;
  let main: Broker;
  const brokers: Broker[] = [];
  /** Every log line of every broker here. */
  const lines: Array<Record<string, unknown>> = [];
  /** Calls the proxy counted. */
  const calls: ProxyCall[] = [];
  /** Every secret seen in this suite (tokens, keys), to look for in the logs at the end. */
  const secrets = new Set<string>();
  let alice: string;
  let key: string;

  /** A listening broker over the shared vault with `env` settings (team mode), logging at debug. */
  async function startBroker(env: Record<string, string> = {}): Promise<Broker> {
    const destination = new Writable({
      write(chunk, _encoding, done) {
        for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
        done();
      },
    });
    // The server's own API base is the emulator's (as in a demo): the one loopback base team mode proxies to.
    const config = testConfig({
      WEBEX_AUTH_KEYS: TEST_KEY,
      WEBEX_AUTH_MODE: 'team',
      WEBEX_API_BASE: emulator.apiBase,
      ...env,
    });
    const app = Fastify({ loggerInstance: createLogger({ level: 'debug', destination }) as FastifyBaseLogger });
    await app.register(brokerRoutes, {
      vault,
      config,
      rateLimit: { burst: 10_000, perSecond: 1000 },
      proxy: { onCall: (c) => calls.push(c) },
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.server.address();
    if (!address || typeof address === 'string') throw new Error('no address');
    const broker = { app, base: `http://127.0.0.1:${address.port}` };
    brokers.push(broker);
    return broker;
  }

  /** A new key for `ids` with `permissions` (default proxy) and optional path/method limits. */
  async function keyFor(
    permissions: KeyPermission[] = ['proxy'],
    limits: { paths?: string[]; methods?: string[] } = {},
    ids = [alice],
  ): Promise<string> {
    const made = await vault.apiKeys.create({ name: 'proxy-bot', connectionIds: ids, permissions, ...limits });
    secrets.add(made.key);
    return made.key;
  }

  const proxyPath = (path: string, id = alice) => `/api/v1/connections/${id}/proxy/${path}`;
  const call = (method: string, path: string, body?: unknown, k = key, broker = main) =>
    request(broker.base, method, proxyPath(path), k, body === undefined ? undefined : JSON.stringify(body));
  const json = (a: Answer) => JSON.parse(a.body);

  /**
   * A connection of person `p-<name>` (`<name>@example.com`) on an integration `C-<name>` whose API base is `apiBase`
   * (not the emulator), its access token `ACCESS-<NAME>` added to the secrets looked for in the logs; returns its id
   * and a proxy key for it alone.
   */
  async function connectionAt(apiBase: string, name: string): Promise<{ id: string; key: string }> {
    const NAME = name.toUpperCase();
    const integration = await vault.integrations.upsert({
      clientId: `C-${name}`,
      clientSecret: `SECRET-${NAME}`,
      redirectUri: 'http://localhost:8080/oauth',
      scopes: ['spark:all'],
      apiBase,
    });
    const c = await vault.connections.saveFromGrant({
      integrationId: integration.id,
      tokens: tokenSet({ accessToken: `ACCESS-${NAME}`, refreshToken: `REFRESH-${NAME}` }),
      person: { id: `p-${name}`, emails: [`${name}@example.com`], displayName: name },
      requestedScopes: ['spark:all'],
    });
    secrets.add(`ACCESS-${NAME}`);
    return { id: c.id, key: await keyFor(['proxy'], {}, [c.id]) };
  }

  /** A new connection of the emulator's Alice for `ownerId` (never refreshed yet), and a proxy key for it. */
  async function freshConnection(ownerId: string): Promise<{ id: string; key: string }> {
    const grant = await grantFromEmulator(emulator.apiBase);
    const integration = await vault.integrations.upsert({ ...grant.integration, scopes: ['spark:all'] });
    const c = await vault.connections.saveFromGrant({
      ownerId,
      integrationId: integration.id,
      tokens: grant.tokens,
      person: grant.person,
      requestedScopes: ['spark:all'],
    });
    await storedToken(c.id);
    return { id: c.id, key: await keyFor(['proxy'], {}, [c.id]) };
  }

  /** The connection's stored access token (also remembered as a secret). */
  async function storedToken(id = alice): Promise<string> {
    const t = await vault.connections.revealTokens(id);
    if (!t) throw new Error('no tokens');
    secrets.add(t.accessToken);
    secrets.add(t.refreshToken);
    return t.accessToken;
  }

  beforeAll(async () => {
    emulator = await startEmulator({ seed: testSeed, autoConsent: 'alice@example.com' });
    const t = tempDir();
    cleanup = t.cleanup;
    vault = await openVault(testConfig({ WEBEX_AUTH_DB: join(t.dir, 'v.db'), WEBEX_AUTH_KEYS: TEST_KEY }), {
      retryBaseDelayMs: 1,
    });
    alice = (await connectFromEmulator(vault, emulator.apiBase)).id;
    await storedToken();
    main = await startBroker();
    key = await keyFor();
  });
  afterAll(async () => {
    for (const b of brokers) await b.app.close();
    await vault?.close();
    await emulator?.close();
    cleanup?.();
  });

  describe('forwarding', () => {
    it('GET people/me answers as Webex does, with its trackingid and content type', async () => {
      const res = await call('GET', 'people/me');
      expect(res.status).toBe(200);
      expect(json(res).emails).toEqual(['alice@example.com']);
      expect(res.headers.trackingid).toMatch(/.+/);
      expect(res.headers['content-type']).toBe('application/json;charset=UTF-8');
      expect(calls.at(-1)).toMatchObject({ method: 'GET', template: 'people/me', status: 200, connectionId: alice });
      expect(calls.at(-1)?.trackingId).toBe(res.headers.trackingid);
    });

    it('passes the query string through', async () => {
      const found = await call('GET', 'people?email=alice%40example.com');
      expect(found.status).toBe(200);
      expect(json(found).items.map((p: { emails: string[] }) => p.emails[0])).toEqual(['alice@example.com']);
      const none = await call('GET', 'people?email=nobody%40example.com');
      expect(json(none).items).toEqual([]);
    });

    it('POST, PUT and DELETE reach Webex with their bodies; its errors come back unchanged', async () => {
      const room = await call('POST', 'rooms', { title: `${BODY_CANARY} room` });
      expect(room.status).toBe(200);
      expect(json(room).title).toBe(`${BODY_CANARY} room`);
      const made = await call('POST', 'webhooks', {
        name: `${BODY_CANARY} hook`,
        targetUrl: 'https://example.com/hook',
        resource: 'rooms',
        event: 'created',
      });
      expect(made.status).toBe(200);
      const hookId = json(made).id as string;
      const put = await call('PUT', `webhooks/${hookId}`, { name: 'renamed', targetUrl: 'https://example.com/h2' });
      expect(put.status).toBe(200);
      expect(json(await call('GET', `webhooks/${hookId}`))).toMatchObject({
        name: 'renamed',
        targetUrl: 'https://example.com/h2',
      });
      const removed = await call('DELETE', `webhooks/${hookId}`);
      expect(removed.status).toBe(204);
      expect(removed.body).toBe('');
      const gone = await call('GET', `webhooks/${hookId}`);
      expect(gone.status).toBe(404);
      expect(gone.headers['content-type']).toBe('application/json;charset=UTF-8');
      expect(json(gone)).toMatchObject({ message: expect.stringContaining('webhook'), trackingId: expect.any(String) });
      // A body Webex refuses: its 400/415 comes back as it is, not as a problem.
      const refused = await request(main.base, 'POST', proxyPath('rooms'), key, 'title=x', {
        'content-type': 'application/x-www-form-urlencoded',
      });
      expect(refused.status).toBe(415);
      expect(refused.headers['content-type']).not.toContain('problem');
      // No content type at all: still forwarded, and Webex's 415 comes back.
      const untyped = await rawRequest(
        main.base,
        'POST',
        proxyPath('rooms'),
        { authorization: `Bearer ${key}` },
        (req) => req.end('{"title":"x"}'),
      );
      expect(untyped.status).toBe(415);
    });

    it('pagination stays on the proxy: the Link header is rewritten and following it pages through', async () => {
      for (let i = 0; i < 4; i++) expect((await call('POST', 'rooms', { title: `page ${i}` })).status).toBe(200);
      const seen: string[] = [];
      let next: string | undefined = `${main.base}${proxyPath('rooms?max=2&sortBy=id')}`;
      let pages = 0;
      while (next && pages < 20) {
        pages++;
        const url = new URL(next);
        expect(url.origin).toBe(main.base);
        expect(url.pathname.startsWith(`/api/v1/connections/${alice}/proxy/rooms`)).toBe(true);
        const res = await request(main.base, 'GET', `${url.pathname}${url.search}`, key);
        expect(res.status).toBe(200);
        seen.push(...json(res).items.map((r: { id: string }) => r.id));
        const link = String(res.headers.link ?? '');
        expect(link).not.toContain(emulator.url);
        next = /<([^>]+)>;\s*rel="next"/.exec(link)?.[1];
      }
      expect(pages).toBeGreaterThanOrEqual(3);
      expect(new Set(seen).size).toBe(seen.length);
      expect(seen.length).toBeGreaterThanOrEqual(5);
    });

    it('with PUBLIC_URL set, Link URLs point at it (not at the Host a reverse proxy forwarded)', async () => {
      const behind = await startBroker({ PUBLIC_URL: 'https://broker.example.com' });
      const res = await request(behind.base, 'GET', proxyPath('rooms?max=1'), key);
      expect(res.status).toBe(200);
      const next = /<([^>]+)>;\s*rel="next"/.exec(String(res.headers.link ?? ''))?.[1] ?? '';
      expect(next.startsWith(`https://broker.example.com/api/v1/connections/${alice}/proxy/rooms?`)).toBe(true);
      expect(next).not.toContain('127.0.0.1');
    });
  });

  describe('headers', () => {
    it('sends end-to-end headers on with the token, never the key, cookies, X-Forwarded-* or hop-by-hop ones', async () => {
      // A loopback API base (listed in ALLOWED_API_BASES) that echoes what it received.
      const seen: http.IncomingHttpHeaders[] = [];
      const echo = http.createServer((req, res) => {
        seen.push(req.headers);
        res.setHeader('content-type', 'application/json');
        res.setHeader('set-cookie', 'webex=1');
        res.setHeader('trackingid', 'ECHO_TRACKING');
        // A header Webex's answer lists in its Connection header is hop-by-hop too: not passed back.
        res.setHeader('connection', 'keep-alive, x-upstream-hop');
        res.setHeader('x-upstream-hop', 'drop me');
        res.setHeader('link', `<https://elsewhere.example/v1/x?cursor=1>; rel="next"`);
        res.end(JSON.stringify({ path: req.url }));
      });
      await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
      try {
        const port = (echo.address() as { port: number }).port;
        const { id, key: k } = await connectionAt(`http://127.0.0.1:${port}/v1/`, 'echo');
        const echoing = await startBroker({ ALLOWED_API_BASES: `http://127.0.0.1:${port}/v1` });
        const res = await request(echoing.base, 'GET', `${proxyPath('rooms/abc', id)}?max=2&x=%20y`, k, undefined, {
          cookie: 'session=SESSION-CANARY',
          'x-forwarded-for': '203.0.113.9',
          'x-forwarded-host': 'evil.example',
          forwarded: 'for=203.0.113.9',
          connection: 'x-hop',
          'x-hop': 'drop me',
          trackingid: 'CLIENT_TRACKING',
          accept: 'application/json',
        });
        expect(res.status).toBe(200);
        expect(json(res).path).toBe('/v1/rooms/abc?max=2&x=%20y');
        const h = seen.at(-1) ?? {};
        expect(h.authorization).toBe('Bearer ACCESS-ECHO');
        expect(h.host).toBe(`127.0.0.1:${port}`);
        expect(h.trackingid).toBe('CLIENT_TRACKING');
        expect(h.accept).toBe('application/json');
        for (const name of ['cookie', 'x-forwarded-for', 'x-forwarded-host', 'forwarded', 'x-hop']) {
          expect(h[name], name).toBeUndefined();
        }
        expect(JSON.stringify(h)).not.toContain('wak_');
        expect(res.headers['set-cookie']).toBeUndefined();
        expect(res.headers['x-upstream-hop']).toBeUndefined();
        expect(res.headers.trackingid).toBe('ECHO_TRACKING');
        // A link elsewhere is not under the API base: left as it was.
        expect(res.headers.link).toBe('<https://elsewhere.example/v1/x?cursor=1>; rel="next"');
      } finally {
        await new Promise((r) => echo.close(r));
      }
    });
  });

  describe('large answers', () => {
    it('an answer above 64 KiB streams back whole (GET rooms?max=1000 over 300 rooms)', async () => {
      const token = await storedToken();
      for (let i = 0; i < 300; i++) {
        const res = await fetch(`${emulator.apiBase}/rooms`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ title: `bulk room ${i} ${'y'.repeat(100)}` }),
        });
        expect(res.status).toBe(200);
        await res.body?.cancel();
      }
      const res = await call('GET', 'rooms?max=1000');
      expect(res.status).toBe(200);
      expect(Number(res.headers['content-length'])).toBeGreaterThan(64 * 1024);
      expect(Buffer.byteLength(res.body)).toBe(Number(res.headers['content-length']));
      expect(json(res).items.filter((r: { title: string }) => r.title.startsWith('bulk room')).length).toBe(300);
    });
  });

  describe('401 and 429 from Webex', () => {
    it('a revoked access token → exactly one refresh grant, and the call answers 200 (a POST body is sent again)', async () => {
      await control(emulator.url, 'revoke', { accessToken: await storedToken() });
      const before = await refreshGrants(emulator.url);
      const minted = (await vault.connections.tokenCap(alice))?.minted ?? 0;
      const res = await call('POST', 'rooms', { title: `${BODY_CANARY} after 401` });
      expect(res.status).toBe(200);
      expect(json(res).title).toBe(`${BODY_CANARY} after 401`);
      expect(await refreshGrants(emulator.url)).toBe(before + 1);
      // The refresh minted a live token for Alice (the live-token cap counts it like any refresh).
      expect((await vault.connections.tokenCap(alice))?.minted).toBe(minted + 1);
      expect((await call('GET', 'people/me')).status).toBe(200);
      expect(await refreshGrants(emulator.url)).toBe(before + 1);
      await storedToken();
    });

    it('20 concurrent calls refused with the same token share one refresh', async () => {
      const { id, key: own } = await freshConnection('acct_concurrent');
      await control(emulator.url, 'revoke', { accessToken: await storedToken(id) });
      const before = await refreshGrants(emulator.url);
      const answers = await Promise.all(
        Array.from({ length: 20 }, () => request(main.base, 'GET', proxyPath('people/me', id), own)),
      );
      expect(answers.map((a) => a.status)).toEqual(Array(20).fill(200));
      expect(await refreshGrants(emulator.url)).toBe(before + 1);
      await storedToken(id);
    });

    it("a token refused within 30 s of its refresh is not refreshed again: Webex's 401 comes back", async () => {
      const { id, key: own } = await freshConnection('acct_refused_twice');
      await control(emulator.url, 'revoke', { accessToken: await storedToken(id) });
      const before = await refreshGrants(emulator.url);
      expect((await request(main.base, 'GET', proxyPath('people/me', id), own)).status).toBe(200);
      expect(await refreshGrants(emulator.url)).toBe(before + 1);
      await control(emulator.url, 'revoke', { accessToken: await storedToken(id) });
      const refused = await request(main.base, 'GET', proxyPath('people/me', id), own);
      expect(refused.status).toBe(401);
      expect(refused.headers['content-type']).toBe('application/json;charset=UTF-8');
      expect(json(refused)).toMatchObject({ message: expect.stringContaining('access token') });
      expect(await refreshGrants(emulator.url)).toBe(before + 1);
    });

    it('a 429 is passed through with its Retry-After and body', async () => {
      await control(emulator.url, 'faults', { endpoint: 'rest', status: 429, count: 1, retryAfter: 1 });
      const res = await call('GET', 'people/me');
      expect(res.status).toBe(429);
      expect(res.headers['retry-after']).toBe('1');
      expect(res.headers['content-type']).toContain('text/html');
      expect(res.body).toContain('Too Many Requests');
      expect((await call('GET', 'people/me')).status).toBe(200);
    });

    it('with PROXY_MAX_RETRY_WAIT set, a 429 within it is waited out once; a longer one is passed through', async () => {
      const patient = await startBroker({ PROXY_MAX_RETRY_WAIT: '2' });
      await control(emulator.url, 'faults', { endpoint: 'rest', status: 429, count: 1, retryAfter: 1 });
      const waited = await call('GET', 'people/me', undefined, key, patient);
      expect(waited.status).toBe(200);
      expect(json(waited).emails).toEqual(['alice@example.com']);
      await control(emulator.url, 'faults', { endpoint: 'rest', status: 429, count: 1, retryAfter: 30 });
      const passed = await call('GET', 'people/me', undefined, key, patient);
      expect(passed.status).toBe(429);
      expect(passed.headers['retry-after']).toBe('30');
      // Waited out once only: two 429s in a row leave the second to the caller.
      await control(emulator.url, 'faults', { endpoint: 'rest', status: 429, count: 2, retryAfter: 1 });
      expect((await call('GET', 'people/me', undefined, key, patient)).status).toBe(429);
      await request(emulator.url, 'DELETE', '/_emulator/faults', undefined);
    });
  });

  describe('what a key may do', () => {
    it('a key without `proxy` gets 403 naming it, and no call reaches Webex', async () => {
      const tokenOnly = await keyFor(['token']);
      const before = calls.length;
      const res = await call('GET', 'people/me', undefined, tokenOnly);
      expect(res.status).toBe(403);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(json(res)).toMatchObject({ code: 'forbidden', detail: 'This API key lacks the "proxy" permission.' });
      expect(calls.length).toBe(before);
    });

    it('no key → 401 problem', async () => {
      const res = await call('GET', 'people/me', undefined, '');
      expect(res.status).toBe(401);
      expect(json(res).code).toBe('unauthorized');
    });

    it('path prefixes and methods limit a key (403), and allow what they list', async () => {
      const limited = await keyFor(['proxy'], { paths: ['rooms'], methods: ['GET'] });
      expect((await call('GET', 'rooms', undefined, limited)).status).toBe(200);
      expect((await call('GET', 'rooms?max=1', undefined, limited)).status).toBe(200);
      for (const [method, path] of [
        ['GET', 'people/me'],
        ['GET', 'roomsX'],
        ['POST', 'rooms'],
        ['DELETE', 'rooms/x'],
      ] as const) {
        const res = await call(method, path, method === 'POST' ? { title: 'x' } : undefined, limited);
        expect(res.status, `${method} ${path}`).toBe(403);
        expect(json(res).code).toBe('forbidden');
      }
      // An encoded letter does not get around a prefix: `room%73` is `rooms`, and `peopl%65` still `people`.
      expect((await call('GET', 'room%73', undefined, limited)).status).toBe(200);
      expect((await call('GET', 'peopl%65/me', undefined, limited)).status).toBe(403);
    });

    it("a connection outside the key's scope is 403 and a deleted one 404, as on the token route", async () => {
      const other = await freshConnection('acct_other');
      const res = await request(main.base, 'GET', proxyPath('people/me', other.id), key);
      expect(res.status).toBe(403);
      expect(json(res).code).toBe('forbidden');
      const unknown = await request(main.base, 'GET', proxyPath('people/me', 'conn_nope'), key);
      expect(unknown.status).toBe(403);
      // A key made for it, then the connection deleted: 404 (also after the proxy has called it once).
      expect((await request(main.base, 'GET', proxyPath('people/me', other.id), other.key)).status).toBe(200);
      await vault.connections.delete(other.id);
      const gone = await request(main.base, 'GET', proxyPath('people/me', other.id), other.key);
      expect(gone.status).toBe(404);
      expect(json(gone).code).toBe('not_found');
    });
  });

  describe('paths and targets', () => {
    it('refuses `..`, `.`, encoded slashes, backslashes and empty segments with 400 before anything else', async () => {
      const noProxy = await keyFor(['token']);
      const bad = [
        'people/../admin',
        '../people/me',
        'people/./me',
        '%2E%2E/people',
        'people/%2e',
        'people%2Fme',
        'people%2fme',
        'people%5Cme',
        'people%5cme',
        'people\\me',
        'people//me',
        'people/me/',
        '',
        'people/%00',
      ];
      for (const path of bad) {
        const res = await request(main.base, 'GET', proxyPath(path), key);
        expect(res.status, path).toBe(400);
        expect(res.headers['content-type'], path).toContain('application/problem+json');
        expect(json(res).code, path).toBe('invalid_request');
        // Normalized before any check: even a key without `proxy` learns only that the path is bad.
        expect((await request(main.base, 'GET', proxyPath(path), noProxy)).status, path).toBe(400);
      }
      // A broken escape is refused by the router itself, before the route (Fastify's own 400).
      expect((await request(main.base, 'GET', proxyPath('people/%ZZ'), key)).status).toBe(400);
    });

    it('parses and templates paths', () => {
      expect(parseProxyPath('/p/rooms/Y2lz%3D?max=2', '/p/')).toEqual({
        raw: 'rooms/Y2lz%3D',
        decoded: 'rooms/Y2lz=',
        search: '?max=2',
      });
      // A path without escapes is its own decoded form, refused for the same reasons, in the same words, as one with.
      expect(parseProxyPath('/p/people/me?x=1', '/p/')).toEqual({
        raw: 'people/me',
        decoded: 'people/me',
        search: '?x=1',
      });
      expect(parseProxyPath('/p/people/./me', '/p/')).toEqual(parseProxyPath('/p/people/%2E/me', '/p/'));
      expect(parseProxyPath('/p/../me', '/p/')).toEqual(parseProxyPath('/p/%2e%2E/me', '/p/'));
      expect(parseProxyPath('/p/people//me', '/p/')).toEqual(parseProxyPath('/p/people//%6De', '/p/'));
      expect(parseProxyPath('/p/people/me/', '/p/')).toHaveProperty('refused');
      expect(pathTemplate('rooms/Y2lzY29zcGFyazovL3VzL1JPT00vMTIz/meetingInfo')).toBe('rooms/{id}/meetingInfo');
      expect(pathTemplate('people/me')).toBe('people/me');
      expect(pathTemplate('messages/123')).toBe('messages/{id}');
    });

    it('in team mode calls only Webex, the own WEBEX_API_BASE or ALLOWED_API_BASES bases (403 otherwise, nothing sent)', async () => {
      const { id, key: k } = await connectionAt('https://webex.attacker.example/v1', 'elsewhere');
      const res = await request(main.base, 'GET', proxyPath('people/me', id), k);
      expect(res.status).toBe(403);
      expect(json(res).detail).toContain('ALLOWED_API_BASES');
      const team = { accessMode: 'team' as const, allowedApiBases: [] as string[] };
      expect(apiBaseAllowed('https://webexapis.com/v1', team)).toBe(true);
      expect(apiBaseAllowed('https://api-usgov.webex.com/v1', team)).toBe(true);
      expect(apiBaseAllowed('http://webexapis.com/v1', team)).toBe(false);
      expect(apiBaseAllowed('https://webexapis.com.attacker.example/v1', team)).toBe(false);
      // Loopback only as the server's own configured API base (the demo's emulator), never any port on the machine.
      expect(apiBaseAllowed('http://127.0.0.1:9999/v1', team)).toBe(false);
      expect(apiBaseAllowed('http://[::1]:9999/v1', team)).toBe(false);
      expect(apiBaseAllowed('http://127.0.0.1:9999/v1/', { ...team, apiBase: 'http://127.0.0.1:9999/v1' })).toBe(true);
      expect(apiBaseAllowed('http://127.0.0.1:9998/v1', { ...team, apiBase: 'http://127.0.0.1:9999/v1' })).toBe(false);
      expect(
        apiBaseAllowed('http://127.0.0.1:9998/v1', { ...team, allowedApiBases: ['http://127.0.0.1:9998/v1'] }),
      ).toBe(true);
      expect(apiBaseAllowed('https://webex.attacker.example/v1', team)).toBe(false);
      expect(
        apiBaseAllowed('https://webex.attacker.example/v1/', {
          ...team,
          allowedApiBases: ['https://webex.attacker.example/v1'],
        }),
      ).toBe(true);
      expect(apiBaseAllowed('https://webex.attacker.example/v1', { ...team, accessMode: 'local' })).toBe(true);
    });
  });

  describe('bodies', () => {
    it('a body above PROXY_BUFFER_LIMIT streams through; above PROXY_MAX_BODY it is 413', async () => {
      const small = await startBroker({ PROXY_BUFFER_LIMIT: '16', PROXY_MAX_BODY: '4096' });
      const streamed = await call('POST', 'rooms', { title: `${BODY_CANARY} streamed ${'x'.repeat(100)}` }, key, small);
      expect(streamed.status).toBe(200);
      expect(json(streamed).title).toContain('streamed');
      const big = JSON.stringify({ title: 'x'.repeat(5000) });
      const declared = await request(small.base, 'POST', proxyPath('rooms'), key, big);
      expect(declared.status).toBe(413);
      expect(json(declared).code).toBe('payload_too_large');
      // Chunked (no Content-Length): refused once it outgrows the limit.
      const chunked = await rawRequest(
        small.base,
        'POST',
        proxyPath('rooms'),
        { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
        (req) => {
          for (let i = 0; i < 10; i++) req.write('x'.repeat(1000));
          req.end();
        },
      );
      expect(chunked.status).toBe(413);
    });
  });

  describe('a Webex on another loopback port', () => {
    it('is refused in team mode unless ALLOWED_API_BASES lists it; one that never answers → 504 problem', async () => {
      // A server on this machine that takes requests and never answers (what a stuck upstream looks like).
      const hung: http.ServerResponse[] = [];
      let reached = 0;
      const silent = http.createServer((_req, res) => {
        reached++;
        hung.push(res);
      });
      await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
      const port = (silent.address() as { port: number }).port;
      const silentBase = `http://127.0.0.1:${port}/v1`;
      try {
        const { id, key: k } = await connectionAt(silentBase, 'silent');
        const refused = await request(main.base, 'GET', proxyPath('people/me', id), k);
        expect(refused.status).toBe(403);
        expect(json(refused).detail).toContain('ALLOWED_API_BASES');
        expect(reached).toBe(0);

        const allowed = await startBroker({ ALLOWED_API_BASES: silentBase, PROXY_HEADERS_TIMEOUT: '0.2' });
        const timedOut = await request(allowed.base, 'GET', proxyPath('people/me', id), k);
        expect(timedOut.status).toBe(504);
        expect(timedOut.headers['content-type']).toContain('application/problem+json');
        expect(timedOut.headers['retry-after']).toBe('5');
        expect(json(timedOut).code).toBe('upstream_timeout');
        expect(reached).toBe(1);
      } finally {
        for (const res of hung) res.destroy();
        await new Promise((r) => silent.close(r));
      }
    });
  });

  describe('files', () => {
    it('a few-MB upload (multipart, streamed above PROXY_BUFFER_LIMIT) and its download come back byte-identical', async () => {
      const small = await startBroker({ PROXY_BUFFER_LIMIT: '65536' });
      const room = json(await call('POST', 'rooms', { title: 'files' }, key, small));
      // 3 MiB of varied bytes (a repeated pattern would hide a misplaced chunk).
      const file = Buffer.alloc(3 * 1024 * 1024);
      for (let i = 0; i < file.length; i += 4) file.writeUInt32LE((i * 2654435761) >>> 0, i);
      const form = new FormData();
      form.set('roomId', room.id);
      form.set('text', 'a file');
      form.set('files', new Blob([file], { type: 'application/octet-stream' }), 'data.bin');
      const posted = await fetch(`${small.base}${proxyPath('messages')}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}` },
        body: form,
      });
      expect(posted.status).toBe(200);
      const message = (await posted.json()) as { files?: string[] };
      const contentUrl = new URL(message.files?.[0] ?? '');
      expect(contentUrl.pathname).toMatch(/^\/v1\/contents\/[^/]+$/);
      const contentPath = contentUrl.pathname.slice('/v1/'.length);
      const got = await fetch(`${small.base}${proxyPath(contentPath)}`, {
        headers: { authorization: `Bearer ${key}` },
      });
      expect(got.status).toBe(200);
      const bytes = Buffer.from(await got.arrayBuffer());
      expect(bytes.length).toBe(file.length);
      expect(bytes.equals(file)).toBe(true);
    });
  });

  describe('the call log', () => {
    it('keeps each call (method, template, status, duration, tracking id) for the connection, never a body or token', async () => {
      const { id, key: k } = await freshConnection('acc_calllog');
      const me = await request(main.base, 'GET', proxyPath('people/me', id), k);
      const missing = await request(main.base, 'GET', proxyPath('rooms/Y2lzY29zcGFyazovL3VzL1JPT00vbm9uZQ', id), k);
      expect(missing.status).toBe(404);
      const recent = await vault.proxyCalls.recent(id);
      expect(recent.map((c) => `${c.method} ${c.template} ${c.status}`)).toEqual([
        'GET rooms/{id} 404',
        'GET people/me 200',
      ]);
      expect(recent[1]?.trackingId).toBe(me.headers.trackingid);
      expect(recent[1]?.durationMs).toBeGreaterThanOrEqual(0);
      const stored = JSON.stringify(await vault.store.listProxyCalls(id, 100));
      for (const secret of secrets) expect(stored.includes(secret)).toBe(false);
      // A deleted connection's calls go with it.
      await vault.connections.delete(id);
      expect(await vault.proxyCalls.recent(id)).toEqual([]);
    });
  });

  it('the OpenAPI document describes the proxy route', async () => {
    const res = await request(main.base, 'GET', '/api/v1/openapi.json', undefined);
    const route = json(res).paths['/api/v1/connections/{id}/proxy/{path}'];
    expect(Object.keys(route)).toEqual(['get', 'post', 'put', 'patch', 'delete']);
    expect(route.get.description).toContain('`proxy` permission');
  });

  it('/metrics has a latency histogram per method, path template and status', async () => {
    const text = await renderMetrics(vault);
    expect(text).toContain('# TYPE webex_auth_proxy_request_duration_seconds histogram');
    expect(text).toMatch(
      /webex_auth_proxy_request_duration_seconds_count\{method="GET",template="people\/me",status="200"\} [1-9]\d*/,
    );
    expect(text).toMatch(/template="webhooks\/\{id\}",status="404"/);
    expect(text).toMatch(/method="POST",template="rooms",status="200"/);
  });

  it('no token, key or body in any log line (the run logged at debug)', async () => {
    await storedToken();
    expect(lines.length).toBeGreaterThan(20);
    const text = JSON.stringify(lines);
    for (const secret of secrets) expect(text.includes(secret), 'a secret in the log').toBe(false);
    expect(text).not.toContain(BODY_CANARY);
    expect(text).not.toMatch(/wak_|Bearer /);
    // The request lines are there, by path only.
    expect(lines.some((l) => l.msg === 'incoming request')).toBe(true);
  });
});

describe('proxy settings', () => {
  it('defaults: 1 MiB buffered, 100 MiB at most, 429s passed through, 30 s/60 s timeouts, no extra API bases', () => {
    expect(testConfig({})).toMatchObject({
      proxyBufferLimit: 1_048_576,
      proxyMaxBody: 104_857_600,
      proxyMaxRetryWait: undefined,
      proxyHeadersTimeout: 30,
      proxyBodyTimeout: 60,
      allowedApiBases: [],
    });
    expect(
      testConfig({
        PROXY_BUFFER_LIMIT: '2048',
        PROXY_MAX_BODY: '1e6',
        PROXY_MAX_RETRY_WAIT: '2.5',
        PROXY_HEADERS_TIMEOUT: '0.5',
        PROXY_BODY_TIMEOUT: '120',
        ALLOWED_API_BASES: 'https://gw.example.com/v1/, http://10.0.0.5:8080/v1',
      }),
    ).toMatchObject({
      proxyBufferLimit: 2048,
      proxyMaxBody: 1_000_000,
      proxyMaxRetryWait: 2.5,
      proxyHeadersTimeout: 0.5,
      proxyBodyTimeout: 120,
      allowedApiBases: ['https://gw.example.com/v1', 'http://10.0.0.5:8080/v1'],
    });
  });

  it('a bad value is one line naming the setting', () => {
    for (const [name, value] of [
      ['PROXY_BUFFER_LIMIT', '-1'],
      ['PROXY_BUFFER_LIMIT', '1.5'],
      ['PROXY_MAX_BODY', 'lots'],
      ['PROXY_MAX_RETRY_WAIT', '601'],
      ['PROXY_HEADERS_TIMEOUT', '0'],
      ['PROXY_BODY_TIMEOUT', 'soon'],
      ['ALLOWED_API_BASES', 'ftp://x.example.com'],
      ['ALLOWED_API_BASES', 'not a url'],
    ] as const) {
      expect(() => testConfig({ [name]: value }), `${name}=${value}`).toThrow(ConfigError);
      expect(() => testConfig({ [name]: value })).toThrow(new RegExp(`^Invalid setting ${name}: expected`));
    }
  });
});
