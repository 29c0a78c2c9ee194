/**
 * Issue row 13 — key rotation under a running fleet. A server (buildApp on a real vault) runs on ring test1 read from
 * WEBEX_AUTH_KEYS_FILE; the CLI, on test2,test1 over the same store, saves a connection under test2 and re-encrypts
 * everything (`keys rotate`), as the documented rotation order has it. Before this change the server answered 500
 * `vault_key` until restarted; now: 503 `vault_key_unavailable` naming test2 with Retry-After, /readyz 503 naming it,
 * a dashboard banner, a 503 page — and after the new ring is written to the file and reloaded (in process, or with a
 * real SIGHUP to a real `webex-auth serve`), 200 again. SQLite in a temp dir and PostgreSQL (fresh schema).
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/server/app.js';
import { openVault, type VaultInternals } from '../../src/vault/index.js';
import { MAIN, type ServerProcess, startServe, tempDir } from '../security/support.js';
import { fakeWebex } from '../vault/fake-webex.js';
import { PG_URL, TEST_KEY, TEST_KEY_2, testConfig, tokenSet } from '../vault/helpers.js';
import { freshSchema, postgresAvailable } from './pg.js';

const K1 = TEST_KEY; // test1
const K2 = TEST_KEY_2; // test2
const DETAIL =
  'Stored data is encrypted under key "test2", which this server\'s key ring lacks; load the new ring (SIGHUP with WEBEX_AUTH_KEYS_FILE) or restart with it.';
const pgUp = await postgresAvailable();

/** Writes a keys file 0600 (or `mode`). */
function writeKeys(path: string, content: string, mode = 0o600): string {
  writeFileSync(path, content);
  chmodSync(path, mode);
  return path;
}

/** An integration and a person's grant, saved through `vault` (server or CLI). */
async function seed(vault: VaultInternals, person: string) {
  const integration = await vault.integrations.upsert({
    clientId: 'C1',
    clientSecret: 'CLIENT-SECRET-CANARY',
    redirectUri: 'http://localhost:8080/oauth',
    scopes: ['spark:all'],
    apiBase: 'https://webex.test/v1',
  });
  const connection = await vault.connections.saveFromGrant({
    integrationId: integration.id,
    tokens: tokenSet({ accessToken: `ACCESS-${person}`, refreshToken: `REFRESH-${person}` }),
    person: { id: person, emails: [`${person}@example.com`], displayName: person },
    requestedScopes: ['spark:all'],
  });
  const { key } = await vault.apiKeys.create({ name: `${person}-bot`, connectionIds: [connection.id] });
  return { id: connection.id, key };
}

const stores = [
  { name: 'SQLite', skip: false },
  { name: 'PostgreSQL', skip: !pgUp },
];

describe.each(stores)('row 13: key rotation under a running server ($name)', ({ name, skip }) => {
  const cleanups: Array<() => unknown> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it.skipIf(skip)('answers 503 naming the key it lacks (never 500) until the new ring is reloaded', async () => {
    const t = tempDir('webex-auth-fleet-');
    cleanups.push(t.cleanup);
    const keysFile = writeKeys(join(t.dir, 'keys'), K1);
    let store: Record<string, string> = { WEBEX_AUTH_DB: join(t.dir, 'v.db') };
    let schema: string | undefined;
    if (name === 'PostgreSQL') {
      const s = await freshSchema('fleet');
      cleanups.push(s.drop);
      schema = s.name;
      store = { DATABASE_URL: PG_URL };
    }
    const webex = fakeWebex();
    const env = {
      ...store,
      WEBEX_CLIENT_ID: 'C1',
      WEBEX_CLIENT_SECRET: 'CLIENT-SECRET-CANARY',
      WEBEX_API_BASE: 'https://webex.test/v1',
      LOG_LEVEL: 'silent',
    };
    // The server's vault. Its row cache (tokenCache.maxAgeMs, bounded and documented) is off: this test is about the
    // ring, not about how soon a cached row sees another process's write.
    const server = await openVault(testConfig({ ...env, WEBEX_AUTH_KEYS_FILE: keysFile }), {
      fetch: webex.fetch,
      tokenCache: { maxAgeMs: 0 },
      ...(schema ? { schema } : {}),
    });
    cleanups.push(() => server.close());
    const app: FastifyInstance = await buildApp(testConfig({ ...env, WEBEX_AUTH_KEYS_FILE: keysFile }), {
      vault: server,
      fetch: webex.fetch,
    });
    cleanups.push(() => app.close());
    const before = await seed(server, 'before');
    const token = (c: { id: string; key: string }) =>
      app.inject({
        method: 'GET',
        url: `/api/v1/connections/${c.id}/token`,
        headers: { authorization: `Bearer ${c.key}` },
      });
    expect((await token(before)).statusCode).toBe(200);

    // The CLI, after "add the new key second, restart, make it first": it holds test2,test1.
    const cli = await openVault(testConfig({ ...env, WEBEX_AUTH_KEYS: `${K2},${K1}` }), {
      fetch: webex.fetch,
      ...(schema ? { schema } : {}),
    });
    cleanups.push(() => cli.close());
    const during = await seed(cli, 'during'); // `webex-auth login` saves under test2
    await cli.rotateKeys(); // `webex-auth keys rotate` re-encrypts every row under test2

    for (const c of [before, during]) {
      const res = await token(c);
      expect(res.statusCode).toBe(503);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.headers['retry-after']).toMatch(/^\d+$/);
      expect(res.json()).toMatchObject({ status: 503, code: 'vault_key_unavailable', detail: DETAIL });
      expect(res.body).not.toMatch(/ACCESS-|REFRESH-|CLIENT-SECRET/);
    }
    const ready = await app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(503);
    expect(ready.json()).toEqual({ status: 'unavailable', reason: 'key_missing', keyId: 'test2' });
    const dashboard = await app.inject({ method: 'GET', url: '/connections' });
    expect(dashboard.statusCode).toBe(200);
    expect(dashboard.body).toContain('id="key-missing"');
    expect(dashboard.body).toContain('Encryption key "test2" is not loaded');
    const page = await app.inject({ method: 'GET', url: `/connections/${before.id}` });
    expect(page.statusCode).toBe(503);
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.headers['retry-after']).toMatch(/^\d+$/);
    expect(page.body).toContain('vault_key_unavailable');
    expect(page.body).toContain('&quot;test2&quot;');

    // The operator writes the new ring to the file and reloads (what SIGHUP does in `serve`).
    writeKeys(keysFile, `${K2}\n${K1}\n`);
    await expect(server.reloadKeys()).resolves.toMatchObject({ keyIds: ['test2', 'test1'] });
    for (const [c, person] of [
      [before, 'before'],
      [during, 'during'],
    ] as const) {
      const res = await token(c);
      expect(res.statusCode).toBe(200);
      expect(res.json().access_token).toBe(`ACCESS-${person}`);
    }
    expect((await app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/connections' })).body).not.toContain('id="key-missing"');
    expect((await app.inject({ method: 'GET', url: `/connections/${before.id}` })).statusCode).toBe(200);
    expect(webex.tokenCalls).toHaveLength(0);
  });
});

describe('row 13: a real `webex-auth serve` reloads its ring on SIGHUP', () => {
  const cleanups: Array<() => unknown> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  beforeAll(() => {
    if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run \`npm run build\` first`);
  });

  /** Resolves once the server's output matches `pattern` (checked at each chunk it writes). */
  function waitForOutput(server: ServerProcess, pattern: RegExp): Promise<string> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const line = server
          .output()
          .split('\n')
          .find((l) => pattern.test(l));
        if (line === undefined) return;
        server.proc.stdout?.off('data', check);
        server.proc.stderr?.off('data', check);
        resolve(line);
      };
      server.proc.stdout?.on('data', check);
      server.proc.stderr?.on('data', check);
      server.exited.then((code) => reject(new Error(`server exited (${code}):\n${server.output()}`)));
      check();
    });
  }

  const baseEnv = (dir: string, keysFile: string) => ({
    HOME: dir,
    XDG_DATA_HOME: join(dir, 'data'),
    WEBEX_AUTH_DB: join(dir, 'v.db'),
    WEBEX_AUTH_KEYS_FILE: keysFile,
    WEBEX_CLIENT_ID: 'C1',
    WEBEX_CLIENT_SECRET: 'CLIENT-SECRET-CANARY',
    WEBEX_API_BASE: 'https://webex.test/v1',
  });

  it('503 naming the key, then SIGHUP with the new ring in the file → 200, one log line naming the key ids', async () => {
    const t = tempDir('webex-auth-hup-');
    cleanups.push(t.cleanup);
    const keysFile = writeKeys(join(t.dir, 'keys'), K1);
    const server = await startServe(baseEnv(t.dir, keysFile));
    cleanups.push(() => server.stop());
    const cli = await openVault(testConfig({ WEBEX_AUTH_DB: join(t.dir, 'v.db'), WEBEX_AUTH_KEYS: `${K2},${K1}` }));
    cleanups.push(() => cli.close());
    const c = await seed(cli, 'cli');
    const token = () =>
      fetch(`${server.url}/api/v1/connections/${c.id}/token`, { headers: { authorization: `Bearer ${c.key}` } });

    const refused = await token();
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(await refused.json()).toMatchObject({ code: 'vault_key_unavailable', detail: DETAIL });
    const ready = await fetch(`${server.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ reason: 'key_missing', keyId: 'test2' });

    writeKeys(keysFile, `${K2},${K1}`);
    const logged = waitForOutput(server, /key ring reloaded/);
    server.proc.kill('SIGHUP');
    const line = await logged;
    expect(line).toContain('test2, test1');
    const served = await token();
    expect(served.status).toBe(200);
    expect((await served.json()).access_token).toBe('ACCESS-cli');
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);

    // A second SIGHUP with a file that drops test2 (still in use) is refused and the server keeps serving.
    writeKeys(keysFile, K1);
    const refusedLine = waitForOutput(server, /key ring reload refused/);
    server.proc.kill('SIGHUP');
    expect(await refusedLine).toContain('lacks key \\"test2\\"');
    expect((await token()).status).toBe(200);
    const out = server.output();
    expect(out.match(/key ring reloaded/g)).toHaveLength(1);
    for (const s of [K1, K2].map((e) => e.slice(e.indexOf(':') + 1))) expect(out).not.toContain(s);
    expect(out).not.toMatch(/ACCESS-cli|REFRESH-cli|CLIENT-SECRET-CANARY/);
  });

  it('refuses at start a keys file readable by others, in one line naming the mode', () => {
    const t = tempDir('webex-auth-hup-');
    cleanups.push(t.cleanup);
    const keysFile = writeKeys(join(t.dir, 'keys'), K1, 0o644);
    const run = spawnSync(process.execPath, [MAIN, 'serve', '--port', '0', '--host', '127.0.0.1'], {
      env: { PATH: process.env.PATH ?? '', WEBEX_AUTH_KEYCHAIN: 'off', ...baseEnv(t.dir, keysFile) },
      encoding: 'utf8',
    });
    expect(run.status).toBe(2);
    const lines = run.stderr.trim().split('\n');
    const error = lines.filter((l) => l.includes('WEBEX_AUTH_KEYS_FILE'));
    expect(error).toHaveLength(1);
    expect(error[0]).toContain(`${keysFile} is accessible by other users (mode 0644)`);
    expect(error[0]).toContain('chmod 600');
    expect(`${run.stdout}${run.stderr}`).not.toContain(K1.slice(K1.indexOf(':') + 1));
    expect(`${run.stdout}${run.stderr}`).not.toMatch(/listening on/);
  });
});
