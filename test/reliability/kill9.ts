/**
 * Scenario: `kill -9` a broker process at a random point of a refresh, `rounds` times. Each round a fresh broker
 * process forces a refresh (`POST …/refresh`) while the emulator holds the token response for a while, and is
 * SIGKILLed after a random delay — or, every third round, the moment the emulator counts the grant. A
 * second process then refreshes the same connection: it must succeed with a token that works, i.e. no refresh token
 * was lost. The broker processes run with a 1 s lease so the dead holder's lease is taken over quickly.
 */
import { expect } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { startEmulator } from '../../src/emulator/index.js';
import { openVault } from '../../src/vault/index.js';
import { emulatorControl, grants, seedFor, serveEnv, startBroker, tempDir } from '../security/support.js';
import { makeKeys, PLAIN_REDIRECT, seedConnection, tokenWorks } from './connection.js';
import { freshSchema, pgEnv } from './pg.js';

/** What the rounds saw, for SECURITY.md. */
export interface Kill9Result {
  rounds: number;
  /** Rounds where the killed process had already received the emulator's answer (a grant was counted). */
  killedAfterGrant: number;
  recovered: number;
  lostRefreshTokens: number;
}

/** Runs `rounds` kill -9 rounds on SQLite or PostgreSQL, with or without refresh-token rotation (30 s grace). */
export async function kill9Scenario(
  rounds: number,
  options: { store: 'sqlite' | 'postgres'; rotate: boolean },
): Promise<Kill9Result> {
  const emulator = await startEmulator({
    seed: seedFor([PLAIN_REDIRECT]),
    autoConsent: 'alice@example.com',
    rotateRefreshTokens: options.rotate,
    rotationGraceSeconds: 30,
    logger: false,
  });
  const tmp = tempDir();
  const schema = options.store === 'postgres' ? await freshSchema('sec_kill') : undefined;
  const env = serveEnv(emulator.apiBase, PLAIN_REDIRECT, tmp.dir, {
    LOG_LEVEL: 'warn',
    ...(schema ? pgEnv(schema.name) : {}),
  });
  const tuning = { leaseMs: 1000, retryBaseDelayMs: 20, ...(schema ? { schema: schema.name } : {}) };
  const vault = await openVault(loadConfig({ env, dotenvDir: false }), tuning);
  const result: Kill9Result = { rounds, killedAfterGrant: 0, recovered: 0, lostRefreshTokens: 0 };
  const survivor = await startBroker(env, tuning);
  try {
    const { id } = await seedConnection(vault, emulator.apiBase);
    const [key] = await makeKeys(vault, [id], 1);
    const auth = { authorization: `Bearer ${key}` };
    for (let round = 0; round < rounds; round++) {
      const victim = await startBroker(env, tuning);
      const holdMs = 150;
      await emulatorControl(emulator.url, 'faults', { endpoint: 'token', delayMs: holdMs, count: 1 });
      const before = (await grants(emulator.url)).refresh_token;
      const pending = fetch(`${victim.url}/api/v1/connections/${id}/refresh`, { method: 'POST', headers: auth }).catch(
        () => undefined,
      );
      if (round % 3 === 2) {
        // Right after Webex granted the refresh: the new tokens are in flight to, or being written by, the victim.
        let settled = false;
        void pending.then(() => {
          settled = true;
        });
        while (!settled && (await grants(emulator.url)).refresh_token === before) {}
      } else {
        // A random point over the whole refresh: a fresh process's first request (key check, lease, pool connect),
        // the Webex round trip held for holdMs, the store write, or just after.
        await new Promise((r) => setTimeout(r, Math.random() * (holdMs + 300)));
      }
      await victim.kill9();
      await pending;
      await fetch(`${emulator.url}/_emulator/faults`, { method: 'DELETE' });
      if ((await grants(emulator.url)).refresh_token > before) result.killedAfterGrant++;
      const res = await fetch(`${survivor.url}/api/v1/connections/${id}/refresh`, { method: 'POST', headers: auth });
      const token = await fetch(`${survivor.url}/api/v1/connections/${id}/token`, { headers: auth });
      const body = (await token.json()) as { access_token?: string };
      if (res.status === 200 && token.status === 200 && (await tokenWorks(emulator.apiBase, body.access_token ?? ''))) {
        result.recovered++;
      } else {
        result.lostRefreshTokens++;
      }
    }
    const connection = await vault.connections.get(id);
    expect(connection?.status).toBe('active');
    expect(result.lostRefreshTokens).toBe(0);
    expect(result.recovered).toBe(rounds);
    return result;
  } finally {
    await survivor.stop();
    await vault.close();
    await emulator.close();
    await schema?.drop();
    tmp.cleanup();
  }
}
