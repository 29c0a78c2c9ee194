// `webex-auth token`'s one-shot path (src/vault/token-reader.ts) against the real emulator and a real SQLite store:
// a fresh stored token is read without the full vault; anything else (near expiry, needs re-authorization) goes to the
// full vault, whose single flight still holds when several `token` commands find the token near its end together.
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
// Imported statically: a broken emulator module fails these tests instead of skipping them.
import { DEMO_SEED, startEmulator } from '../../src/emulator/index.js';
import { openTokenReader } from '../../src/vault/token-reader.js';
import { ALICE, freePort, seedWith } from './emulator.js';
import { ageStoredTokens, emulatorCliEnv, pasteLogin, runInProcess } from './helpers.js';

let emulator: { url: string; apiBase: string; close(): Promise<void> };
let env: Record<string, string | undefined>;

/** Refresh grants the emulator has answered so far. */
async function refreshGrants(): Promise<number> {
  const stats = (await (await fetch(`${emulator.url}/_emulator/stats`)).json()) as {
    grants?: Record<string, number>;
  };
  return stats.grants?.refresh_token ?? 0;
}

beforeAll(async () => {
  const redirectUri = `http://127.0.0.1:${await freePort()}/callback`;
  emulator = await startEmulator({ port: 0, seed: seedWith(DEMO_SEED, redirectUri) });
  env = emulatorCliEnv(emulator.apiBase, redirectUri);
  // `login --no-browser`: consent as a browser would, paste the redirect on stdin.
  const login = await pasteLogin(env, ['--scopes', 'spark:people_read']);
  expect(login.code, login.stderr).toBe(0);
});
afterAll(async () => emulator?.close());

describe('the one-shot token reader', () => {
  it('serves a fresh stored token as the command prints it, and leaves a near-expiry one to the vault', async () => {
    const printed = await runInProcess(['token'], { env });
    expect(printed.code, printed.stderr).toBe(0);
    const reader = await openTokenReader(loadConfig({ env, dotenvDir: false }));
    if (!reader) throw new Error('a SQLite store must get a token reader');
    try {
      const [connection] = await reader.connections.list();
      expect(connection?.personEmail).toBe(ALICE);
      const id = connection?.id ?? '';
      const fresh = await reader.freshToken(id, 60);
      expect(fresh).toMatchObject({
        accessToken: printed.stdout.trim(),
        minValidityMet: true,
        person: { email: ALICE },
      });
      // Asked for more than the token has left: not served here (the vault refreshes).
      const left = Math.floor(((fresh?.expiresAt ?? 0) - Date.now()) / 1000);
      expect(await reader.freshToken(id, left + 60)).toBeUndefined();
      expect(await reader.freshToken('conn_missing', 60)).toBeUndefined();
    } finally {
      await reader.close();
    }
  });

  it('is not used for PostgreSQL (the full vault serves it)', async () => {
    const config = loadConfig({ env: { ...env, DATABASE_URL: 'postgres://127.0.0.1:9/none' }, dotenvDir: false });
    expect(await openTokenReader(config)).toBeUndefined();
  });

  it('near expiry: concurrent `token` commands refresh once through the full vault and print one token', async () => {
    const before = (await runInProcess(['token'], { env })).stdout.trim();
    await ageStoredTokens(env);
    const grants = await refreshGrants();
    const runs = await Promise.all(
      Array.from({ length: 4 }, () => runInProcess(['token', '--min-validity', '7200'], { env })),
    );
    for (const r of runs) expect(r.code, r.stderr).toBe(0);
    const tokens = new Set(runs.map((r) => r.stdout.trim()));
    expect(tokens.size).toBe(1);
    expect(tokens.has(before)).toBe(false);
    expect(await refreshGrants()).toBe(grants + 1);
    // And the refreshed token, fresh again, is what the one-shot path prints next.
    const after = await runInProcess(['token'], { env });
    expect(after.stdout.trim()).toBe([...tokens][0]);
    expect(await refreshGrants()).toBe(grants + 1);
  });

  it('a connection that needs re-authorization is answered by the vault: exit 4, nothing on stdout', async () => {
    const db = new Database(loadConfig({ env, dotenvDir: false }).dbPath);
    db.prepare("UPDATE connections SET status = 'needs_reauth'").run();
    db.close();
    const r = await runInProcess(['token'], { env });
    expect(r.code).toBe(4);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/webex-auth login/);
  });
});
