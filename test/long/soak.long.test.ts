/**
 * Soak: a `serve` process on PostgreSQL with 20 connections whose access tokens live 120 s, callers asking for tokens
 * valid ≥ 60 s for SOAK_SECONDS (default 180) while Webex fails 5% of token requests → no caller ever goes without a
 * token, refreshes happen as due, memory stays flat. Then API-key timing: near-miss keys vs random keys.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { startEmulator } from '../../src/emulator/index.js';
import { openVault } from '../../src/vault/index.js';
import { makeKeys, PLAIN_REDIRECT, seedConnection, tokenWorks } from '../reliability/connection.js';
import { freshSchema, pgEnv, postgresAvailable } from '../reliability/pg.js';
import { grants, INTEGRATION, serveEnv, startServe, tempDir } from '../security/support.js';
import { report } from './report.js';

const pgUp = await postgresAvailable();
const SECONDS = Number(process.env.SOAK_SECONDS ?? 180);

function rssKb(pid: number | undefined): number {
  const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? 0);
}

describe.skipIf(!pgUp)('soak', () => {
  it(`${SECONDS} s of token requests with expiring tokens and 5% upstream faults`, async () => {
    const users = Array.from({ length: 20 }, (_, i) => ({
      email: `soak${i}@example.com`,
      displayName: `Soak ${i}`,
      firstName: 'Soak',
      lastName: String(i),
    }));
    const emulator = await startEmulator({
      seed: { integrations: [{ ...INTEGRATION, redirectUris: [PLAIN_REDIRECT] }], users, bots: [], rooms: [] },
      accessTtl: 120,
      tokenCap: 1_000_000,
      logger: false,
    });
    const tmp = tempDir();
    const schema = await freshSchema('sec_soak');
    const env = serveEnv(emulator.apiBase, PLAIN_REDIRECT, tmp.dir, { LOG_LEVEL: 'warn', ...pgEnv(schema.name) });
    const vault = await openVault(loadConfig({ env, dotenvDir: false }), { schema: schema.name });
    const server = await startServe(env);
    try {
      const ids: string[] = [];
      for (const u of users) ids.push((await seedConnection(vault, emulator.apiBase, { email: u.email })).id);
      const keys = await makeKeys(vault, ids, 20);
      await fetch(`${emulator.url}/_emulator/faults`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ endpoint: 'token', status: 503, retryAfter: 1, rate: 0.05 }),
      });
      const rssStart = rssKb(server.proc.pid);
      const grantsStart = (await grants(emulator.url)).refresh_token;
      const end = Date.now() + SECONDS * 1000;
      const stats = { requests: 0, ok: 0, retried503: 0, failed: 0, expiredTokens: 0, latencies: [] as number[] };
      await Promise.all(
        ids.map(async (id, i) => {
          while (Date.now() < end) {
            const t0 = performance.now();
            const res = await fetch(`${server.url}/api/v1/connections/${id}/token?min_validity=60`, {
              headers: { authorization: `Bearer ${keys[i]}` },
            });
            stats.requests++;
            const body = (await res.json()) as { expires_in?: number };
            if (res.status === 200) {
              stats.ok++;
              stats.latencies.push(performance.now() - t0);
              if ((body.expires_in ?? 0) < 60) stats.expiredTokens++;
            } else if (res.status === 503) {
              stats.retried503++;
              await new Promise((r) => setTimeout(r, Number(res.headers.get('retry-after') ?? 1) * 1000));
            } else stats.failed++;
            await new Promise((r) => setTimeout(r, 50));
          }
        }),
      );
      const rssEnd = rssKb(server.proc.pid);
      await fetch(`${emulator.url}/_emulator/faults`, { method: 'DELETE' });
      const sorted = stats.latencies.sort((a, b) => a - b);
      const working = await Promise.all(
        ids.map(async (id, i) => {
          const r = await fetch(`${server.url}/api/v1/connections/${id}/token`, {
            headers: { authorization: `Bearer ${keys[i]}` },
          });
          return tokenWorks(emulator.apiBase, ((await r.json()) as { access_token: string }).access_token);
        }),
      );
      const needsReauth = (await vault.connections.list()).filter((c) => c.status !== 'active').length;
      const result = {
        seconds: SECONDS,
        requests: stats.requests,
        ok: stats.ok,
        retried503: stats.retried503,
        failed: stats.failed,
        tokensShorterThanAsked: stats.expiredTokens,
        refreshGrants: (await grants(emulator.url)).refresh_token - grantsStart,
        p50ms: Math.round(sorted[Math.floor(sorted.length * 0.5)] ?? 0),
        p99ms: Math.round(sorted[Math.floor(sorted.length * 0.99)] ?? 0),
        rssStartMb: Math.round(rssStart / 1024),
        rssEndMb: Math.round(rssEnd / 1024),
        needsReauth,
      };
      report('soak', result);
      expect(stats.failed).toBe(0);
      expect(stats.expiredTokens).toBe(0);
      expect(needsReauth).toBe(0);
      expect(working.every(Boolean)).toBe(true);
      // Each connection refreshes about every 60 s: at least one per connection, far fewer than the requests.
      expect(result.refreshGrants).toBeGreaterThanOrEqual(20);
      expect(result.refreshGrants).toBeLessThan(stats.requests / 5);

      // API-key timing: near-miss keys (one character off a valid key) vs random keys, interleaved.
      const valid = keys[0] as string;
      const near = (n: number) => `${valid.slice(0, -2)}${'AB'[n % 2]}${'CD'[n % 2]}`;
      const random = () => `wak_${Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64url')}`;
      const samples = { near: [] as number[], random: [] as number[] };
      for (let n = 0; n < 4000; n++) {
        const which = n % 2 === 0 ? 'near' : 'random';
        const k = which === 'near' ? near(n) : random();
        const t0 = performance.now();
        const r = await fetch(`${server.url}/api/v1/connections/${ids[0]}/token`, {
          headers: { authorization: `Bearer ${k}` },
        });
        await r.body?.cancel();
        samples[which].push(performance.now() - t0);
        expect(r.status).toBe(401);
      }
      const median = (a: number[]) => a.sort((x, y) => x - y)[Math.floor(a.length / 2)] ?? 0;
      const timing = {
        samples: 4000,
        nearMissMedianUs: Math.round(median(samples.near) * 1000),
        randomMedianUs: Math.round(median(samples.random) * 1000),
      };
      report('api key timing', timing);
      // No signal an attacker could use: the medians differ by less than the noise of one loopback request.
      expect(Math.abs(timing.nearMissMedianUs - timing.randomMedianUs)).toBeLessThan(
        0.2 * Math.max(timing.nearMissMedianUs, timing.randomMedianUs),
      );
    } finally {
      await server.stop();
      await vault.close();
      await emulator.close();
      await schema.drop();
      tmp.cleanup();
    }
  });
});
