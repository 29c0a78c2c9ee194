/**
 * `webex-auth logout --revoke`, `webex-auth reconcile` and `webex-auth status --history`, in-process on their own
 * SQLite store, against the real emulator and its admin Authorizations API.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { type RunningEmulator, startEmulator } from '../../src/emulator/index.js';
import { openVault } from '../../src/vault/vault.js';
import { ADMIN_INTEGRATION, ADMIN_IT, ADMIN_SCOPES, ADMIN_SEED } from '../emulator/admin-seed.js';
import { control, tokenWorks } from '../vault/emulator-grant.js';
import { connectPerson } from '../vault/lifecycle-support.js';
import { isolatedEnv, runInProcess } from './helpers.js';

const integration = ADMIN_INTEGRATION;

let emulator: RunningEmulator;
beforeAll(async () => {
  emulator = await startEmulator({ seed: ADMIN_SEED });
});
afterEach(async () => {
  await control(emulator.url, 'reset', {});
});
afterAll(async () => {
  await emulator?.close();
});

/** A CLI environment whose store holds the given people's connections. */
async function cliWith(people: Array<[string, string[]]>) {
  const env = isolatedEnv();
  const vault = await openVault(loadConfig({ env, dotenvDir: false }));
  try {
    const ids: string[] = [];
    for (const [email, scopes] of people)
      ids.push((await connectPerson(vault, emulator, integration, email, scopes)).id);
    const carolToken = (await vault.connections.revealTokens(ids[0] as string))?.accessToken as string;
    return { env, ids, carolToken };
  } finally {
    await vault.close();
  }
}

describe('revocation from the CLI', () => {
  it('logout --revoke without an admin of the org says what is missing and keeps the connection', async () => {
    const { env, ids, carolToken } = await cliWith([['carol@a.example', ['spark:people_read']]]);
    const r = await runInProcess(['logout', '--connection', ids[0] as string, '--revoke'], { env });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('No admin connection with identity:tokens_read and identity:tokens_write for org');
    expect(r.stderr).toContain('The connection was kept.');
    expect(await tokenWorks(emulator.apiBase, carolToken)).toBe(true);
    const list = await runInProcess(['list', '--json'], { env });
    expect(list.stdout).toContain(ids[0] as string);
  });

  it('logout --revoke deletes the grant at the emulator through the org admin', async () => {
    const { env, ids, carolToken } = await cliWith([
      ['carol@a.example', ['spark:people_read']],
      ['admin-a@a.example', ADMIN_SCOPES],
    ]);
    const r = await runInProcess(['logout', '--connection', ids[0] as string, '--revoke', '--json'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ removed: ids[0], revokedAtWebex: true, deletedAuthorizations: 1 });
    expect(await tokenWorks(emulator.apiBase, carolToken)).toBe(false);
  });

  it('reconcile marks a grant revoked at Webex and exits 4; status --history shows why and the timeline', async () => {
    const { env, ids, carolToken } = await cliWith([
      ['carol@a.example', ['spark:people_read']],
      ['admin-a@a.example', ADMIN_SCOPES],
    ]);
    const first = await runInProcess(['reconcile', '--json'], { env });
    expect(first.code, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ ran: true, checked: 2, revoked: [], exitCode: 0 });
    // Carol's tokens are revoked at Webex behind the broker's back.
    await fetch(`${emulator.url}/_emulator/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ accessToken: carolToken }),
    });
    const admin = await (async () => {
      const vault = await openVault(loadConfig({ env, dotenvDir: false }));
      try {
        return (await vault.connections.getFreshToken(ids[1] as string)).accessToken;
      } finally {
        await vault.close();
      }
    })();
    const list = await fetch(`${emulator.apiBase}/authorizations?personEmail=carol%40a.example`, {
      headers: { authorization: `Bearer ${admin}` },
    });
    const grant = ((await list.json()) as { items: Array<{ id: string; type: string; clientId: string }> }).items.find(
      (i) => i.type === 'refresh' && i.clientId === ADMIN_IT.clientId,
    );
    expect(
      (
        await fetch(`${emulator.apiBase}/authorizations/${grant?.id}`, {
          method: 'DELETE',
          headers: { authorization: `Bearer ${admin}` },
        })
      ).status,
    ).toBe(204);
    const second = await runInProcess(['reconcile'], { env });
    expect(second.code).toBe(4);
    expect(second.stderr).toContain('needs re-authorization (revoked_at_webex)');
    const status = await runInProcess(['status', '--history', '--json'], { env });
    expect(status.code).toBe(4);
    const carol = (JSON.parse(status.stdout) as { connections: Array<Record<string, any>> }).connections.find(
      (c) => c.id === ids[0],
    );
    expect(carol).toMatchObject({ status: 'needs_reauth', refreshFailing: false, history: [] });
    expect(carol?.tokenCap).toMatchObject({ cap: 750, minted: 1 });
    const plain = await runInProcess(['status', '--history'], { env });
    expect(plain.stdout).toContain('token cap:');
    expect(plain.stdout).toContain('history:');
  });
});
