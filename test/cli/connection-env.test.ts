/**
 * Issue 16 row 5: the default connection. The CLI picks the local operator's connection, never a team member's more
 * recent one; `WEBEX_AUTH_CONNECTION` names another one as `--connection` does, and the flag wins over it. No Webex
 * is needed: tokens are seeded fresh into a real SQLite store.
 */
import { describe, expect, it } from 'vitest';
import { LOCAL_OPERATOR } from '../../src/vault/types.js';
import { isolatedEnv, runInProcess, type SeededPerson, storePeopleConnections } from './helpers.js';

/** An API base nothing is asked on: every token is fresh. */
const API_BASE = 'http://127.0.0.1:9/v1';

/** Seeds one connection per person; returns their ids in order. */
const seed = (env: Record<string, string | undefined>, people: SeededPerson[]) =>
  storePeopleConnections(env, API_BASE, people);

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
