/**
 * Issue 16 row 5: the default connection. The CLI picks the local operator's connection, never a team member's more
 * recent one; `WEBEX_AUTH_CONNECTION` names another one as `--connection` does, and the flag wins over it. No Webex
 * is needed: tokens are seeded fresh into a real SQLite store.
 */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { CONFIGURED_OWNER, LOCAL_OPERATOR } from '../../src/vault/types.js';
import { openVault } from '../../src/vault/vault.js';
import { CLIENT_ID, CLIENT_SECRET } from './emulator.js';
import { isolatedEnv, runInProcess } from './helpers.js';

const HOUR = 3_600_000;
/** An API base nothing is asked on: every token is fresh. */
const API_BASE = 'http://127.0.0.1:9/v1';

/** Seeds one connection per person; returns their ids in order. */
async function seed(env: Record<string, string | undefined>, people: { email: string; ownerId?: string }[]) {
  const vault = await openVault(loadConfig({ env, dotenvDir: false }));
  try {
    const integration = await vault.integrations.upsert({
      ownerId: CONFIGURED_OWNER,
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      redirectUri: 'http://localhost:8080/oauth',
      apiBase: API_BASE,
      scopes: ['spark:people_read'],
    });
    const ids: string[] = [];
    for (const [i, p] of people.entries()) {
      const now = Date.now();
      const c = await vault.connections.saveFromGrant({
        ownerId: p.ownerId,
        integrationId: integration.id,
        tokens: {
          accessToken: `access-${i}-${'a'.repeat(40)}`,
          refreshToken: `refresh-${i}-${'r'.repeat(40)}`,
          tokenType: 'Bearer',
          expiresAt: now + 12 * HOUR,
          refreshExpiresAt: now + 14 * 24 * HOUR,
          scopes: ['spark:people_read'],
          scopeReported: true,
          receivedAt: now,
        },
        person: { id: `person-${p.email}`, emails: [p.email], displayName: p.email.split('@')[0] as string },
        requestedScopes: ['spark:people_read'],
      });
      ids.push(c.id);
    }
    return ids;
  } finally {
    await vault.close();
  }
}

const email = (stdout: string) => JSON.parse(stdout).person.email as string;

describe('WEBEX_AUTH_CONNECTION', () => {
  it('chooses the connection like --connection; the flag wins; a team member’s is never the default', async () => {
    const env = isolatedEnv({ WEBEX_API_BASE: API_BASE });
    const [alice, carol, visitor] = await seed(env, [
      { email: 'alice@example.com' },
      { email: 'carol@example.com' },
      // A visitor who authorized on the team server after the operator: never a default.
      { email: 'visitor@example.com', ownerId: 'acct_visitor' },
    ]);
    const run = (argv: string[], extra: Record<string, string> = {}) =>
      runInProcess(argv, { env: { ...env, ...extra } });

    const byDefault = await run(['token', '--json']);
    expect(byDefault.code).toBe(0);
    expect(['alice@example.com', 'carol@example.com']).toContain(email(byDefault.stdout));

    for (const named of [alice as string, 'ALICE@example.com']) {
      const r = await run(['token', '--json'], { WEBEX_AUTH_CONNECTION: named });
      expect([named, r.code, email(r.stdout)]).toEqual([named, 0, 'alice@example.com']);
    }
    const flagWins = await run(['token', '--json', '--connection', carol as string], {
      WEBEX_AUTH_CONNECTION: alice as string,
    });
    expect(email(flagWins.stdout)).toBe('carol@example.com');

    // The operator may name a team member's connection deliberately, as with the flag.
    const deliberate = await run(['token', '--json'], { WEBEX_AUTH_CONNECTION: visitor as string });
    expect(email(deliberate.stdout)).toBe('visitor@example.com');

    // keys create (the row's attack) follows it too, and makes the key for the named connection only.
    const key = await run(['keys', 'create', '--json'], { WEBEX_AUTH_CONNECTION: carol as string });
    expect(key.code).toBe(0);
    expect(JSON.parse(key.stdout)).toMatchObject({ ownerId: LOCAL_OPERATOR, connectionIds: [carol] });
  });

  it('naming nothing stored is a one-line error that names the variable; blank means unset', async () => {
    const env = isolatedEnv({ WEBEX_API_BASE: API_BASE });
    await seed(env, [{ email: 'alice@example.com' }]);
    const r = await runInProcess(['token'], { env: { ...env, WEBEX_AUTH_CONNECTION: 'nobody@example.com' } });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('error: no connection matches "nobody@example.com" (from WEBEX_AUTH_CONNECTION)');
    expect(r.stderr).toContain('Set WEBEX_AUTH_CONNECTION to an id or email');
    const blank = await runInProcess(['token', '--json'], { env: { ...env, WEBEX_AUTH_CONNECTION: '  ' } });
    expect([blank.code, email(blank.stdout)]).toEqual([0, 'alice@example.com']);
  });
});
