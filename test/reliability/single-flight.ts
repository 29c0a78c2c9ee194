/**
 * Scenario: two `webex-auth serve` processes on one PostgreSQL schema, an expired access token, `requests` concurrent
 * token requests spread over both → exactly one refresh grant at the emulator and one token for every caller.
 * Shared by the CI test (200 requests) and the long suite (1,000).
 */
import { expect } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { startEmulator } from '../../src/emulator/index.js';
import { openVault } from '../../src/vault/index.js';
import { grants, type ServerProcess, seedFor, serveEnv, startServe, tempDir } from '../security/support.js';
import { makeKeys, PLAIN_REDIRECT, seedConnection, tokenWorks } from './connection.js';
import { freshSchema, pgEnv } from './pg.js';

/** Result numbers, for SECURITY.md. */
export interface SingleFlightResult {
  requests: number;
  refreshGrants: number;
  distinctTokens: number;
  statuses: Record<number, number>;
}

/** Runs the scenario and asserts it; returns the numbers. */
export async function singleFlightScenario(requests: number, rotate: boolean): Promise<SingleFlightResult> {
  const emulator = await startEmulator({
    seed: seedFor([PLAIN_REDIRECT]),
    autoConsent: 'alice@example.com',
    rotateRefreshTokens: rotate,
    logger: false,
  });
  const tmp = tempDir();
  const schema = await freshSchema('sec_flight');
  const env = serveEnv(emulator.apiBase, PLAIN_REDIRECT, tmp.dir, { ...pgEnv(schema.name), LOG_LEVEL: 'warn' });
  const vault = await openVault(loadConfig({ env, dotenvDir: false }), { schema: schema.name });
  const servers: ServerProcess[] = [];
  try {
    const { id, tokens } = await seedConnection(vault, emulator.apiBase, { expired: true });
    // Each broker key has its own rate limit (burst 120): one key per 100 callers keeps the limiter out of the way.
    const keys = await makeKeys(vault, [id], Math.ceil(requests / 100));
    servers.push(...(await Promise.all([startServe(env), startServe(env)])));
    const before = await grants(emulator.url);
    const responses = await Promise.all(
      Array.from({ length: requests }, async (_, i) => {
        const server = servers[i % 2];
        const res = await fetch(`${server?.url}/api/v1/connections/${id}/token`, {
          headers: { authorization: `Bearer ${keys[i % keys.length]}` },
        });
        return { status: res.status, body: (await res.json()) as { access_token?: string } };
      }),
    );
    const statuses: Record<number, number> = {};
    for (const r of responses) statuses[r.status] = (statuses[r.status] ?? 0) + 1;
    const distinct = new Set(responses.map((r) => r.body.access_token));
    const after = await grants(emulator.url);
    const result = {
      requests,
      refreshGrants: after.refresh_token - before.refresh_token,
      distinctTokens: distinct.size,
      statuses,
    };
    expect(statuses).toEqual({ 200: requests });
    expect(distinct.size).toBe(1);
    const [token] = [...distinct] as [string];
    expect(token).not.toBe(tokens.accessToken);
    expect(result.refreshGrants).toBe(1);
    expect(await tokenWorks(emulator.apiBase, token)).toBe(true);
    // The refresh token the brokers stored is the live one (with rotation the old one died at once).
    const again = await fetch(`${servers[1]?.url}/api/v1/connections/${id}/refresh`, {
      method: 'POST',
      headers: { authorization: `Bearer ${keys[0]}` },
    });
    expect(again.status).toBe(200);
    expect((await grants(emulator.url)).refresh_token).toBe(after.refresh_token + 1);
    return result;
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
    await vault.close();
    await emulator.close();
    await schema.drop();
    tmp.cleanup();
  }
}
