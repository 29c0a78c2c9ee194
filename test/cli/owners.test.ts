// Owners in the CLI: a store shared with a team server holds connections of team members (accounts) beside the
// local operator's. The CLI picks only the local operator's by default, shows every connection's owner, makes keys of
// one owner only, and doctor says which access mode the server runs in. No Webex is needed: the tokens are seeded
// fresh, and the API base is a closed loopback port (doctor's network checks fail fast).
import { createServer } from 'node:net';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { LOCAL_OPERATOR } from '../../src/vault/types.js';
import { openVault } from '../../src/vault/vault.js';
import { CLIENT_ID, CLIENT_SECRET } from './emulator.js';
import { isolatedEnv, runInProcess, type SeededPerson, storePeopleConnections } from './helpers.js';

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as { port: number }).port;
  await new Promise((resolve) => s.close(resolve));
  return port;
}

let apiBase: string;
beforeAll(async () => {
  apiBase = `http://127.0.0.1:${await closedPort()}/v1`;
});

function env(extra: Record<string, string | undefined> = {}) {
  return isolatedEnv({ WEBEX_API_BASE: apiBase, ...extra });
}

/** Seeds a store: the configured integration, and one connection per person (in this order, later = more recent). */
const seed = (e: Record<string, string | undefined>, people: SeededPerson[]) =>
  storePeopleConnections(e, apiBase, people);

describe('the default connection is the local operator’s', () => {
  it('token and keys create ignore a team member’s more recent connection', async () => {
    const e = env();
    const [alice, visitor] = await seed(e, [
      { email: 'alice@example.com' },
      { email: 'bob@example.com', ownerId: 'acct_x' },
    ]);
    const token = await runInProcess(['token', '--json'], { env: e });
    expect(token.code).toBe(0);
    expect(JSON.parse(token.stdout).person).toMatchObject({ email: 'alice@example.com' });
    // An explicit --connection may still name the member's connection (the CLI is the operator).
    const named = await runInProcess(['token', '--json', '--connection', 'bob@example.com'], { env: e });
    expect(JSON.parse(named.stdout).person).toMatchObject({ email: 'bob@example.com' });
    const key = await runInProcess(['keys', 'create', '--json'], { env: e });
    expect(key.code).toBe(0);
    expect(JSON.parse(key.stdout)).toMatchObject({ ownerId: LOCAL_OPERATOR, connectionIds: [alice] });
    const all = await runInProcess(['keys', 'create', '--all', '--json'], { env: e });
    expect(JSON.parse(all.stdout)).toMatchObject({ ownerId: LOCAL_OPERATOR, connectionIds: [alice] });
    expect(visitor).toBeDefined();
  });

  it('an email several owners authorized picks the local operator’s', async () => {
    const e = env();
    const [alice] = await seed(e, [{ email: 'alice@example.com' }, { email: 'alice@example.com', ownerId: 'acct_x' }]);
    const key = await runInProcess(['keys', 'create', '-c', 'ALICE@example.com', '--json'], { env: e });
    expect(JSON.parse(key.stdout)).toMatchObject({ ownerId: LOCAL_OPERATOR, connectionIds: [alice] });
  });

  it('only other owners’ connections: exit 4, and the error says to pass --connection', async () => {
    const e = env();
    const [visitor] = await seed(e, [{ email: 'bob@example.com', ownerId: 'acct_x' }]);
    const r = await runInProcess(['token'], { env: e });
    expect(r.code).toBe(4);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('no connection of the local operator (one connection of another owner is stored)');
    expect(r.stderr).toContain('--connection');
    expect((await runInProcess(['keys', 'create'], { env: e })).code).toBe(4);
    // Named, it works, and the key belongs to the connection's owner.
    const key = await runInProcess(['keys', 'create', '-c', visitor as string, '--json'], { env: e });
    expect(key.code).toBe(0);
    expect(JSON.parse(key.stdout)).toMatchObject({ ownerId: 'acct_x', connectionIds: [visitor] });
  });
});

describe('owners in list, status and keys', () => {
  it('list, status and keys list show each owner; keys create refuses connections of different owners', async () => {
    const e = env();
    const [alice, visitor] = await seed(e, [
      { email: 'alice@example.com' },
      { email: 'bob@example.com', ownerId: 'acct_x' },
    ]);
    const list = await runInProcess(['list'], { env: e });
    expect(list.stdout).toMatch(/^ID .* OWNER\n/);
    expect(list.stdout).toMatch(/alice@example\.com .* local operator\n/);
    expect(list.stdout).toMatch(/bob@example\.com .* acct_x\n/);
    const json = JSON.parse((await runInProcess(['list', '--json'], { env: e })).stdout);
    expect(json).toEqual([
      expect.objectContaining({ id: visitor, owner: { id: 'acct_x', label: 'acct_x' } }),
      expect.objectContaining({ id: alice, owner: { id: LOCAL_OPERATOR, label: 'local operator' } }),
    ]);
    const status = await runInProcess(['status'], { env: e });
    expect(status.stdout).toMatch(/owner: +local operator/);
    expect(status.stdout).toMatch(/owner: +acct_x/);
    const statusJson = JSON.parse((await runInProcess(['status', '--json'], { env: e })).stdout);
    expect(statusJson.connections.map((c: { owner: { id: string } }) => c.owner.id)).toEqual(['acct_x', 'local']);

    const mixed = await runInProcess(['keys', 'create', '-c', alice as string, '-c', visitor as string], { env: e });
    expect(mixed.code).toBe(2);
    expect(mixed.stdout).toBe('');
    expect(mixed.stderr).toBe(
      'error: these connections belong to different owners (local operator, acct_x); an API key reads the connections of one owner\n',
    );
    const keys = JSON.parse((await runInProcess(['keys', 'list', '--json'], { env: e })).stdout);
    expect(keys).toEqual([]);

    expect((await runInProcess(['keys', 'create', '-c', visitor as string], { env: e })).code).toBe(0);
    const listed = await runInProcess(['keys', 'list'], { env: e });
    expect(listed.stdout).toMatch(/^ID .* OWNER\n.* acct_x\n$/);
    expect(JSON.parse((await runInProcess(['keys', 'list', '--json'], { env: e })).stdout)).toMatchObject([
      { ownerId: 'acct_x', owner: { id: 'acct_x' }, connectionIds: [visitor] },
    ]);
  });

  it('an owner that is a signed-in account shows with its email', async () => {
    const e = env();
    const vault = await openVault(loadConfig({ env: e, dotenvDir: false }));
    const account = await vault.accounts.upsert({
      personId: 'person-carol',
      email: 'carol@example.com',
      displayName: 'Carol',
    });
    await vault.close();
    await seed(e, [{ email: 'carol@example.com', ownerId: account.id }]);
    const list = await runInProcess(['list'], { env: e });
    expect(list.stdout).toContain(`${account.id} (carol@example.com)`);
    const json = JSON.parse((await runInProcess(['list', '--json'], { env: e })).stdout);
    expect(json[0].owner).toEqual({
      id: account.id,
      label: `${account.id} (carol@example.com)`,
      email: 'carol@example.com',
    });
  });
});

describe('doctor: access mode', () => {
  const findings = async (e: Record<string, string | undefined>) => {
    const r = await runInProcess(['doctor', '--json'], { env: e });
    return { code: r.code, findings: JSON.parse(r.stdout) as { check: string; level: string; message: string }[] };
  };
  const configured = { WEBEX_CLIENT_ID: CLIENT_ID, WEBEX_CLIENT_SECRET: CLIENT_SECRET };

  it('local: one line, nothing about sign-in', async () => {
    const r = await runInProcess(['doctor'], { env: env() });
    expect(r.stdout).toContain(
      '✓ access mode: local — one local operator, no sign-in (loopback HOST, no PUBLIC_URL, not production)\n',
    );
    expect(r.stdout).not.toContain('team mode');
    const forced = await findings(env({ WEBEX_AUTH_MODE: 'local', HOST: '0.0.0.0' }));
    expect(forced.findings).toContainEqual(
      expect.objectContaining({ check: 'access mode', message: expect.stringContaining('(WEBEX_AUTH_MODE=local)') }),
    );
  });

  it('team without a configured integration fails with exit 2 (the server would refuse to start)', async () => {
    const r = await runInProcess(['doctor'], { env: env({ PUBLIC_URL: 'https://auth.example.com' }) });
    expect(r.code).toBe(2);
    expect(r.stdout).toContain(
      '✓ access mode: team — people Sign in with Webex and own their connections (PUBLIC_URL https://auth.example.com)\n',
    );
    expect(r.stdout).toMatch(
      /✗ team mode: no configured integration: .*refuses to start\n {4}fix: Set WEBEX_CLIENT_ID/,
    );
  });

  it('team: warns without ADMIN_EMAILS and when WEBEX_SCOPES lacks openid email profile', async () => {
    const { code, findings: f } = await findings(
      env({ ...configured, HOST: '0.0.0.0', WEBEX_SCOPES: 'spark:people_read spark:rooms_read' }),
    );
    expect(f).toContainEqual(
      expect.objectContaining({
        check: 'access mode',
        message: expect.stringContaining('(non-loopback HOST 0.0.0.0)'),
      }),
    );
    const team = f.filter((x) => x.check === 'team mode');
    expect(team.map((x) => x.level)).toEqual(['ok', 'warn', 'warn']);
    expect(team[1]?.message).toContain('ADMIN_EMAILS is not set');
    expect(team[2]?.message).toContain('WEBEX_SCOPES lacks openid email profile');
    expect(f.filter((x) => x.level === 'fail')).toEqual([]);
    expect(code).toBe(0);
  });

  it('team with admins and the sign-in scopes: every team check passes', async () => {
    const { findings: f } = await findings(
      env({
        ...configured,
        WEBEX_AUTH_MODE: 'team',
        ADMIN_EMAILS: 'ops@example.com',
        WEBEX_SCOPES: 'openid email profile spark:people_read',
      }),
    );
    expect(f).toContainEqual(
      expect.objectContaining({ check: 'access mode', message: expect.stringContaining('(WEBEX_AUTH_MODE=team)') }),
    );
    expect(f.filter((x) => x.check === 'team mode')).toEqual([
      expect.objectContaining({ level: 'ok', message: expect.stringContaining('configured integration') }),
      expect.objectContaining({ level: 'ok', message: 'admins: ops@example.com' }),
    ]);
  });
});
