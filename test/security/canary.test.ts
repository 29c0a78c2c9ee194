/**
 * Canary secrets across a full run of a real `serve` process at LOG_LEVEL=trace: the client secret (planted in the
 * configuration and the emulator) and the access and refresh tokens Webex issued are found in no log line, in no page
 * but the owner's connection page, in no URL, error text or API error, and in no byte of the SQLite database or
 * PostgreSQL row in clear. Then the key ring: missing in production or wrong → the server refuses to start; rotating
 * to a new key while requests run → no failed request.
 */
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { openVault } from '../../src/vault/index.js';
import { makeKeys } from '../reliability/connection.js';
import { freshSchema, pgEnv, pgQuery, postgresAvailable } from '../reliability/pg.js';
import { type Stack, startStack } from './stack.js';
import { emulatorControl, HttpBrowser, INTEGRATION, MAIN, ROOT, type ServerProcess, startServe } from './support.js';

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
    await owner.post(`${connectionPath}/try`, { call: 'people/me' });
    record('owner try', (await owner.get(connectionPath)).body);
    await owner.post(`${connectionPath}/refresh`, {});
    const stranger = new HttpBrowser(stack.server.url);
    for (const path of ['/home', connectionPath, `${connectionPath}?token=1`, '/connections', '/space']) {
      record(`stranger page ${path}`, (await stranger.get(path)).body);
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
    for (const h of stranger.history) record(`url ${h.status}`, `${h.url} ${h.location ?? ''}`);
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
      const allowed = [`owner page ${connectionPath}`, 'owner try', 'owner page needs_reauth'].includes(where);
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
