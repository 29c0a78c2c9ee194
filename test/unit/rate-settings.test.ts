/**
 * The broker's per-API-key rate limit as two settings: `API_KEY_RATE_LIMIT` (sustained requests per second per key;
 * `off` disables it) and `API_KEY_RATE_BURST`. Checked at the boundary (loadConfig), and end to end through the real
 * app (buildApp) on a loopback port over a real SQLite vault, so the settings are proven to reach the broker.
 */
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_KEY_RATE_DEFAULTS, ConfigError } from '../../src/config.js';
import { buildApp } from '../../src/server/app.js';
import { createRateLimiter } from '../../src/server/routes/api/ratelimit.js';
import { openVault, type VaultInternals } from '../../src/vault/index.js';
import { TEST_KEY, tempDir, testConfig, tokenSet } from '../vault/helpers.js';

describe('API_KEY_RATE_LIMIT and API_KEY_RATE_BURST', () => {
  it('default to a burst of 120, then 20 per second', () => {
    const c = testConfig({});
    expect(c.apiKeyRateLimit).toBe(20);
    expect(c.apiKeyRateBurst).toBe(120);
    expect(API_KEY_RATE_DEFAULTS).toEqual({ burst: 120, perSecond: 20 });
    // The limiter's own defaults are the same: 120 at once, the 121st waits a second, and 50 ms later one more passes.
    const limit = createRateLimiter();
    const t0 = 1_700_000_000_000;
    for (let i = 0; i < 120; i++) expect(limit('k', t0)).toBe(0);
    expect(limit('k', t0)).toBe(1);
    expect(limit('k', t0 + 50)).toBe(0);
    expect(limit('k', t0 + 50)).toBe(1);
  });

  it('read a rate (fractions too), `off` in any case, and a whole burst', () => {
    const c = testConfig({ API_KEY_RATE_LIMIT: '2.5', API_KEY_RATE_BURST: '7' });
    expect([c.apiKeyRateLimit, c.apiKeyRateBurst]).toEqual([2.5, 7]);
    expect(testConfig({ API_KEY_RATE_LIMIT: 'off' }).apiKeyRateLimit).toBe(0);
    expect(testConfig({ API_KEY_RATE_LIMIT: ' OFF ' }).apiKeyRateLimit).toBe(0);
  });

  it.each([
    ['API_KEY_RATE_LIMIT', '0'],
    ['API_KEY_RATE_LIMIT', '-5'],
    ['API_KEY_RATE_LIMIT', 'fast'],
    ['API_KEY_RATE_LIMIT', '1e9'],
    ['API_KEY_RATE_BURST', '0'],
    ['API_KEY_RATE_BURST', '1.5'],
    ['API_KEY_RATE_BURST', 'off'],
  ])('refuse %s=%s with one line naming the setting', (name, value) => {
    let error: unknown;
    try {
      testConfig({ [name]: value });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).setting).toBe(name);
    expect((error as ConfigError).message).toMatch(new RegExp(`^Invalid setting ${name}: expected .*\\(got "`));
    expect((error as ConfigError).message).not.toContain('\n');
  });
});

describe('the broker under API_KEY_RATE_LIMIT and API_KEY_RATE_BURST', () => {
  const cleanups: (() => unknown)[] = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  /** A real app on a loopback port with `env`'s rate settings, a connection and two API keys for it. */
  async function serve(env: Record<string, string>) {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const config = testConfig({ WEBEX_AUTH_DB: join(t.dir, 'v.db'), WEBEX_AUTH_KEYS: TEST_KEY, ...env });
    const vault: VaultInternals = await openVault(config);
    cleanups.push(() => vault.close());
    const integration = await vault.integrations.upsert({
      clientId: 'C-rate',
      clientSecret: 'secret-rate-test',
      redirectUri: 'http://localhost:8080/oauth',
      scopes: ['spark:all'],
      // Nothing here refreshes (the access token is valid for days); were it to, it would reach no one.
      apiBase: 'http://127.0.0.1:9/v1',
    });
    const connection = await vault.connections.saveFromGrant({
      integrationId: integration.id,
      tokens: tokenSet({ accessToken: 'ACCESS-rate', refreshToken: 'REFRESH-rate' }),
      person: { id: 'p-rate', emails: ['rate@example.com'], displayName: 'Rate' },
      requestedScopes: ['spark:all'],
    });
    const keys = await Promise.all(
      ['bot-a', 'bot-b'].map(
        async (name) => (await vault.apiKeys.create({ name, connectionIds: [connection.id] })).key,
      ),
    );
    const app: FastifyInstance = await buildApp(config, { vault });
    cleanups.push(() => app.close());
    const base = await app.listen({ host: '127.0.0.1', port: 0 });
    const token = (key: string) =>
      fetch(`${base}/api/v1/connections/${connection.id}/token`, { headers: { authorization: `Bearer ${key}` } });
    return { keys: keys as [string, string], token };
  }

  let limited: Awaited<ReturnType<typeof serve>>;
  let unlimited: Awaited<ReturnType<typeof serve>>;
  beforeAll(async () => {
    // A rate of one request per 100 s: within this test, nothing refills the burst.
    limited = await serve({ API_KEY_RATE_BURST: '3', API_KEY_RATE_LIMIT: '0.01' });
    unlimited = await serve({ API_KEY_RATE_BURST: '3', API_KEY_RATE_LIMIT: 'off' });
  });

  it('serves a burst of API_KEY_RATE_BURST, then answers 429 with Retry-After, per key', async () => {
    const [a, b] = limited.keys;
    for (let i = 0; i < 3; i++) {
      const res = await limited.token(a);
      expect(res.status).toBe(200);
      expect(((await res.json()) as { access_token?: string }).access_token).toBe('ACCESS-rate');
    }
    const refused = await limited.token(a);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('content-type')).toMatch(/application\/problem\+json/);
    // One token at 0.01/s takes 100 s to come back.
    expect(Number(refused.headers.get('retry-after'))).toBe(100);
    expect(await refused.text()).not.toContain('ACCESS-rate');
    // Another key has its own bucket.
    expect((await limited.token(b)).status).toBe(200);
  });

  it('never refuses a key when API_KEY_RATE_LIMIT=off', async () => {
    const [a] = unlimited.keys;
    const statuses: number[] = [];
    for (let i = 0; i < 25; i++) {
      const res = await unlimited.token(a);
      await res.arrayBuffer();
      statuses.push(res.status);
    }
    expect(statuses).toEqual(new Array(25).fill(200));
  });
});
