/**
 * Canary secrets across a full run of a real `serve` process at LOG_LEVEL=trace: the client secret (planted in the
 * configuration and the emulator) and the access and refresh tokens Webex issued are found in no log line, in no page
 * but the owner's connection page, in no URL, error text or API error, and in no byte of the SQLite database or
 * PostgreSQL row in clear. In local mode the owner is the local operator — every browser on the machine — so the
 * "someone else" of that claim is a second signed-in account (and an anonymous visitor) of a team-mode server. Then
 * the key ring: missing in production or wrong → the server refuses to start; rotating to a new key while requests
 * run → no failed request.
 */
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { startEmulator } from '../../src/emulator/index.js';
import { openVault } from '../../src/vault/index.js';
import { consent } from '../accounts/support.js';
import { makeKeys } from '../reliability/connection.js';
import { freshSchema, pgEnv, pgQuery, postgresAvailable } from '../reliability/pg.js';
import { type Stack, startStack } from './stack.js';
import {
  emulatorControl,
  freePort,
  HttpBrowser,
  INTEGRATION,
  MAIN,
  ROOT,
  type ServerProcess,
  seedFor,
  serveEnv,
  startServe,
  tempDir,
} from './support.js';

const run = promisify(execFile);
const pgUp = await postgresAvailable();

interface Seen {
  where: string;
  text: string;
}

describe('canary secrets in a full run', () => {
  let stack: Stack;
  let schema: Awaited<ReturnType<typeof freshSchema>> | undefined;
  const seen: Seen[] = [];
  let owner: HttpBrowser;
  let connectionPath: string;
  let tokens: { access: string; refresh: string };

  beforeAll(async () => {
    schema = pgUp ? await freshSchema('sec_canary') : undefined;
    stack = await startStack({ env: { LOG_LEVEL: 'trace', ...(schema ? pgEnv(schema.name) : {}) } });
    const record = (where: string, text: string) => seen.push({ where, text });
    owner = new HttpBrowser(stack.server.url);
    connectionPath = await owner.connect(['spark:all', 'spark:people_read', 'spark:rooms_read']);
    const id = connectionPath.split('/').pop() ?? '';
    // The tokens Webex issued, as the person would export them.
    const exported = await run(process.execPath, [MAIN, 'export', '--format', 'json', '--connection', id], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', ...stack.env, ...(schema ? pgEnv(schema.name) : {}) },
    });
    const pair = JSON.parse(exported.stdout) as { access_token: string; refresh_token: string };
    tokens = { access: pair.access_token, refresh: pair.refresh_token };
    expect(tokens.access.length).toBeGreaterThan(20);
    expect(tokens.refresh.length).toBeGreaterThan(20);

    // Exercise every path that handles a secret: pages, "try it", refresh, broker API, errors, needs_reauth.
    for (const path of ['/home', connectionPath, '/space', '/healthz', '/readyz', '/metrics']) {
      record(`owner page ${path}`, (await owner.get(path)).body);
    }
    expect((await owner.post(`${connectionPath}/try`, { endpoint: 'people-me' })).res.status).toBe(303);
    record('owner try', (await owner.get(connectionPath)).body);
    await owner.post(`${connectionPath}/refresh`, {});
    // Local mode: another browser on this machine is the same local operator; it sees the connection (tokens only on
    // its page). Strangers are accounts of a team server: see the next describe.
    const second = new HttpBrowser(stack.server.url);
    for (const path of ['/home', connectionPath, `${connectionPath}?token=1`, '/connections', '/space']) {
      const { res, body } = await second.get(path);
      expect(res.status, path).toBe(200);
      record(`local browser ${path}`, body);
    }
    const vault = await openVault(
      loadConfig({ env: stack.env, dotenvDir: false }),
      schema ? { schema: schema.name } : {},
    );
    const [key] = await makeKeys(vault, [id], 1);
    await vault.close();
    const api = async (path: string, init: RequestInit = {}) => {
      const res = await fetch(`${stack.server.url}${path}`, {
        ...init,
        headers: { authorization: `Bearer ${key}`, ...init.headers },
      });
      return res.text();
    };
    record('api list', await api('/api/v1/connections'));
    record('api refresh', await api(`/api/v1/connections/${id}/refresh`, { method: 'POST' }));
    record(
      'api bad key',
      await api(`/api/v1/connections/${id}/token`, { headers: { authorization: `Bearer ${tokens.access}` } }),
    );
    // Webex failing, then refusing the refresh token: error texts and logs of both paths.
    await emulatorControl(stack.emulator.url, 'faults', { endpoint: 'token', status: 503, count: 20, retryAfter: 0 });
    record('api upstream down', await api(`/api/v1/connections/${id}/refresh`, { method: 'POST' }));
    await fetch(`${stack.emulator.url}/_emulator/faults`, { method: 'DELETE' });
    await emulatorControl(stack.emulator.url, 'revoke', { email: 'alice@example.com' });
    record('api needs_reauth', await api(`/api/v1/connections/${id}/refresh`, { method: 'POST' }));
    record('owner page needs_reauth', (await owner.get(connectionPath)).body);
    // A callback error page and a replayed callback.
    record('callback error', (await owner.get('/oauth?error=server_error&error_description=boom&state=x')).body);
    for (const h of owner.history) record(`url ${h.status}`, `${h.url} ${h.location ?? ''}`);
    for (const h of second.history) record(`url ${h.status}`, `${h.url} ${h.location ?? ''}`);
  });
  afterAll(async () => {
    await stack?.close();
    await schema?.drop();
  });

  const secrets = () => ({
    'client secret': INTEGRATION.clientSecret,
    'access token': tokens.access,
    'refresh token': tokens.refresh,
  });

  it('no secret in any log line of the server', async () => {
    await stack.server.stop();
    const lines = stack.server.output().split('\n');
    expect(lines.length).toBeGreaterThan(20);
    for (const [name, secret] of Object.entries(secrets())) {
      const hits = lines.filter((l) => l.includes(secret) || l.includes(encodeURIComponent(secret)));
      expect(hits, name).toEqual([]);
    }
    // Authorization codes are secrets too (single use, but a log reader could race the callback).
    const codes = owner.history.map((h) => new URL(h.location ?? h.url, stack.server.url).searchParams.get('code'));
    for (const code of codes.filter((c): c is string => !!c)) {
      expect(lines.filter((l) => l.includes(code))).toEqual([]);
    }
  });

  it('tokens only on the owner’s connection page; the client secret on no page, URL or API answer', () => {
    const s = secrets();
    for (const { where, text } of seen) {
      expect(text.includes(s['client secret']), `client secret in ${where}`).toBe(false);
      const allowed = [
        `owner page ${connectionPath}`,
        'owner try',
        'owner page needs_reauth',
        `local browser ${connectionPath}`,
        `local browser ${connectionPath}?token=1`,
      ].includes(where);
      if (!allowed) {
        expect(text.includes(s['refresh token']), `refresh token in ${where}`).toBe(false);
        expect(text.includes(s['access token']), `access token in ${where}`).toBe(false);
      }
    }
    expect(seen.find((x) => x.where === `owner page ${connectionPath}`)?.text).toContain(s['access token']);
  });

  it('no secret in clear in any byte of the SQLite files', () => {
    if (schema) return; // PostgreSQL run: see the next test
    for (const file of readdirSync(stack.dataDir).filter((f) => f.startsWith('webex-auth.db'))) {
      const bytes = readFileSync(join(stack.dataDir, file));
      for (const [name, secret] of Object.entries(secrets())) {
        expect(bytes.includes(Buffer.from(secret)), `${name} in ${file}`).toBe(false);
      }
    }
  });

  it.skipIf(!pgUp)('no secret in clear in any PostgreSQL column of the schema', async () => {
    const tables = await pgQuery<{ table_name: string }>(
      'SELECT table_name FROM information_schema.tables WHERE table_schema = $1',
      [schema?.name],
    );
    expect(tables.length).toBeGreaterThan(2);
    for (const { table_name } of tables) {
      const rows = await pgQuery(`SELECT * FROM ${schema?.name}.${table_name}`);
      const dump = JSON.stringify(rows);
      for (const [name, secret] of Object.entries(secrets())) {
        expect(dump.includes(secret), `${name} in ${table_name}`).toBe(false);
      }
    }
  });
});

describe('canary secrets across accounts (team mode)', () => {
  let emulator: Awaited<ReturnType<typeof startEmulator>>;
  let server: ServerProcess;
  let tmp: ReturnType<typeof tempDir>;
  let env: Record<string, string>;
  const seen: Seen[] = [];
  const browsers: HttpBrowser[] = [];
  let connectionPath: string;
  let tokens: { access: string; refresh: string };

  /** Sign in with Webex as `email` (landing page → /signin → the emulator's consent page → callback). */
  async function signIn(b: HttpBrowser, email: string) {
    await b.get('/');
    const start = await b.post('/signin', {});
    expect(start.res.status, start.body.slice(0, 300)).toBe(303);
    const done = await b.get(await consent(start.res.headers.get('location') ?? '', email));
    expect(done.res.status, done.body.slice(0, 300)).toBe(303);
  }

  beforeAll(async () => {
    const port = await freePort();
    const redirectUri = `http://127.0.0.1:${port}/oauth`;
    const base = seedFor([redirectUri]);
    const person = (first: string, last: string) => ({
      email: `${first.toLowerCase()}@example.com`,
      displayName: `${first} ${last}`,
      firstName: first,
      lastName: last,
    });
    // No auto-consent: each browser consents as its own account.
    emulator = await startEmulator({
      seed: { ...base, users: [...base.users, person('Bob', 'Other'), person('Carol', 'Admin')] },
      logger: false,
    });
    tmp = tempDir();
    env = serveEnv(emulator.apiBase, redirectUri, tmp.dir, {
      LOG_LEVEL: 'trace',
      WEBEX_AUTH_MODE: 'team',
      ADMIN_EMAILS: 'carol@example.com',
    });
    server = await startServe(env, port);
    const record = (where: string, text: string) => seen.push({ where, text });

    const owner = new HttpBrowser(server.url);
    browsers.push(owner);
    await signIn(owner, 'alice@example.com');
    await owner.get('/home');
    const start = await owner.post('/oauth/start', { scope: ['spark:all', 'spark:people_read', 'spark:rooms_read'] });
    expect(start.res.status, start.body.slice(0, 300)).toBe(303);
    // The callback answers with the connection page, which names its own address.
    const done = await owner.get(await consent(start.res.headers.get('location') ?? '', 'alice@example.com'));
    expect(done.res.status, done.body.slice(0, 300)).toBe(200);
    connectionPath = done.res.headers.get('content-location') ?? '';
    expect(connectionPath).toMatch(/^\/connections\/[A-Za-z0-9_-]+$/);
    const id = connectionPath.split('/').pop() ?? '';
    const vault = await openVault(loadConfig({ env, dotenvDir: false }));
    const pair = await vault.connections.revealTokens(id);
    await vault.close();
    tokens = { access: pair?.accessToken ?? '', refresh: pair?.refreshToken ?? '' };
    expect(tokens.access.length).toBeGreaterThan(20);
    expect(tokens.refresh.length).toBeGreaterThan(20);
    record(`owner page ${connectionPath}`, (await owner.get(connectionPath)).body);
    expect((await owner.post(`${connectionPath}/try`, { endpoint: 'people-me' })).res.status).toBe(303);
    record('owner try', (await owner.get(connectionPath)).body);
    for (const path of ['/home', '/space', '/metrics', '/connections']) {
      record(`owner page ${path}`, (await owner.get(path)).body);
    }

    const pages = ['/', '/home', connectionPath, `${connectionPath}?token=1`, '/connections', '/space', '/metrics'];
    // Another signed-in account: the 404 of an unknown id on the page and on every action.
    const other = new HttpBrowser(server.url);
    browsers.push(other);
    await signIn(other, 'bob@example.com');
    for (const path of pages) {
      const { res, body } = await other.get(path);
      if (path.startsWith(connectionPath)) expect(res.status, `other account ${path}`).toBe(404);
      record(`other account ${path}`, body);
    }
    await other.get('/home');
    for (const action of ['refresh', 'try', 'delete']) {
      const { res, body } = await other.post(`${connectionPath}/${action}`, { endpoint: 'people-me' });
      expect(res.status, `other account POST ${action}`).toBe(404);
      record(`other account POST ${action}`, body);
    }
    // A visitor who did not sign in: sent to the landing page.
    const anonymous = new HttpBrowser(server.url);
    browsers.push(anonymous);
    for (const path of pages) {
      const { res, body } = await anonymous.get(path);
      if (path.startsWith(connectionPath))
        expect(res.headers.get('location'), `anonymous ${path}`).toBe('/?signin=required');
      record(`anonymous ${path}`, body);
    }
    // An admin's dashboard lists the connection without token material.
    const admin = new HttpBrowser(server.url);
    browsers.push(admin);
    await signIn(admin, 'carol@example.com');
    const dashboard = await admin.get('/connections');
    expect(dashboard.res.status).toBe(200);
    expect(dashboard.body).toContain(id);
    record('admin dashboard', dashboard.body);
    // Nothing the others did changed the owner's connection.
    expect((await owner.get(connectionPath)).res.status).toBe(200);
    for (const b of browsers) for (const h of b.history) record(`url ${h.status}`, `${h.url} ${h.location ?? ''}`);
  });
  afterAll(async () => {
    await server?.stop();
    await emulator?.close();
    tmp?.cleanup();
  });

  it('tokens only on the owner’s connection page: never on another account’s, an anonymous visitor’s or the dashboard', () => {
    expect(seen.find((x) => x.where === `owner page ${connectionPath}`)?.text).toContain(tokens.access);
    expect(seen.filter((x) => x.where.startsWith('other account')).length).toBeGreaterThan(8);
    for (const { where, text } of seen) {
      expect(text.includes(INTEGRATION.clientSecret), `client secret in ${where}`).toBe(false);
      if ([`owner page ${connectionPath}`, 'owner try'].includes(where)) continue;
      expect(text.includes(tokens.refresh), `refresh token in ${where}`).toBe(false);
      expect(text.includes(tokens.access), `access token in ${where}`).toBe(false);
    }
  });

  it('no secret in any log line, nor in any byte of the SQLite files (sessions included)', async () => {
    await server.stop();
    const lines = server.output().split('\n');
    expect(lines.length).toBeGreaterThan(20);
    const secrets = {
      'client secret': INTEGRATION.clientSecret,
      'access token': tokens.access,
      'refresh token': tokens.refresh,
    };
    for (const [name, secret] of Object.entries(secrets)) {
      const hits = lines.filter((l) => l.includes(secret) || l.includes(encodeURIComponent(secret)));
      expect(hits, name).toEqual([]);
    }
    // Authorization codes (of the sign-ins and the connection) are secrets too.
    const codes = browsers
      .flatMap((b) => b.history)
      .flatMap((h) => [h.url, h.location ?? ''])
      .map((u) => (u ? new URL(u, server.url).searchParams.get('code') : null))
      .filter((c): c is string => !!c);
    expect(codes.length).toBeGreaterThanOrEqual(4);
    for (const code of codes) expect(lines.filter((l) => l.includes(code))).toEqual([]);
    for (const file of readdirSync(tmp.dir).filter((f) => f.startsWith('webex-auth.db'))) {
      const bytes = readFileSync(join(tmp.dir, file));
      for (const [name, secret] of Object.entries(secrets)) {
        expect(bytes.includes(Buffer.from(secret)), `${name} in ${file}`).toBe(false);
      }
    }
  });
});

describe('the encryption key ring', () => {
  it('missing in production → serve refuses to start, naming the setting', async () => {
    const s = await startStack({ env: { LOG_LEVEL: 'warn' } }); // a store encrypted with k1
    await s.server.stop();
    const env = { ...s.env, NODE_ENV: 'production', WEBEX_AUTH_KEYS: '' };
    const failed = await startServe(env).then(
      (p) => p.stop().then(() => 'started'),
      (e: Error) => e.message,
    );
    expect(failed).not.toBe('started');
    expect(failed).toMatch(/WEBEX_AUTH_KEYS/);
    await s.close();
  });

  it('wrong key for the stored secrets → serve refuses to start; the secret is in no output', async () => {
    const s = await startStack({ env: { LOG_LEVEL: 'warn' } });
    await s.server.stop();
    const env = { ...s.env, WEBEX_AUTH_KEYS: `other:${Buffer.alloc(32, 9).toString('base64')}` };
    const failed = await startServe(env).then(
      (p) => p.stop().then(() => 'started'),
      (e: Error) => e.message,
    );
    expect(failed).not.toBe('started');
    expect(failed).toMatch(/key/i);
    expect(failed).not.toContain(INTEGRATION.clientSecret);
    await s.close();
  });

  it('rotation under load: rolling restarts k1 → k1,k2 → k2,k1 → re-encrypt → k2, with reads and refreshes running → no failed request', async () => {
    const s = await startStack({
      env: { LOG_LEVEL: 'warn' },
      emulator: { autoConsent: 'alice@example.com', tokenCap: 1_000_000 },
    });
    const servers: ServerProcess[] = [s.server];
    let stop = false;
    try {
      const owner = new HttpBrowser(s.server.url);
      const id = (await owner.connect(['spark:all', 'spark:people_read'])).split('/').pop() ?? '';
      const vault = await openVault(loadConfig({ env: s.env, dotenvDir: false }));
      const keys = await makeKeys(vault, [id], 4);
      await vault.close();
      const k1 = s.env.WEBEX_AUTH_KEYS as string;
      const k2 = `k2:${Buffer.alloc(32, 5).toString('base64')}`;
      const failures: string[] = [];
      let ok = 0;
      let refreshes = 0;
      const load = Promise.all(
        keys.map(async (k, i) => {
          while (!stop) {
            const live = servers.filter((p) => p.proc.exitCode === null && p.proc.signalCode === null);
            const server = live[i % live.length];
            if (!server) break;
            // Worker 0 refreshes (writes tokens under the first key of its process); the others read.
            const refresh = i === 0;
            const res = await fetch(
              `${server.url}/api/v1/connections/${id}/${refresh ? 'refresh' : 'token?min_validity=0'}`,
              { method: refresh ? 'POST' : 'GET', headers: { authorization: `Bearer ${k}` } },
            ).catch((e: Error) => ({ status: 0, text: async () => `${server.url}: ${e.message}` }));
            if (res.status === 200) {
              ok++;
              if (refresh) refreshes++;
            } else if (res.status !== 429) failures.push(`${res.status} ${await res.text()}`);
          }
        }),
      );
      /** Starts a process with `ring`, then stops the oldest one (a rolling restart), under load. */
      const roll = async (ring: string) => {
        servers.push(await startServe({ ...s.env, WEBEX_AUTH_KEYS: ring }));
        const old = servers.shift() as ServerProcess;
        await old.stop();
        const before = ok;
        while (ok < before + 20) await new Promise((r) => setImmediate(r));
      };
      await roll(`${k1},${k2}`); // every process can read k2 before anyone writes it
      await roll(`${k2},${k1}`); // new writes under k2
      const r = await run(process.execPath, [MAIN, 'keys', 'rotate'], {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? '', ...s.env, WEBEX_AUTH_KEYS: `${k2},${k1}` },
      });
      expect(r.stdout + r.stderr).not.toContain(INTEGRATION.clientSecret);
      await roll(k2); // k1 retired
      stop = true;
      await load;
      expect(failures).toEqual([]);
      expect(refreshes).toBeGreaterThan(0);
      expect(ok).toBeGreaterThan(60);
    } finally {
      stop = true;
      for (const p of servers) await p.stop();
      await s.close();
    }
  });
});
