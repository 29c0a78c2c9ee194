/** The vault's lifecycle with a hand-made token endpoint: on-demand refresh, single flight, errors, API keys, keep-alive. */
import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openVault, VaultError, type VaultInternals, webhookSecretOf } from '../../src/vault/index.js';
import { fakeWebex } from './fake-webex.js';
import { TEST_INTEGRATION, TEST_KEY, tempDir, testConfig, tokenSet } from './helpers.js';

const DAY = 86_400_000;

describe('vault lifecycle', () => {
  let vault: VaultInternals;
  let webex: ReturnType<typeof fakeWebex>;
  let now: number;
  let cleanup: () => void;
  let connectionId: string;
  let dbPath: string;

  beforeEach(async () => {
    const t = tempDir();
    cleanup = t.cleanup;
    dbPath = join(t.dir, 'vault.db');
    webex = fakeWebex();
    now = 1_700_000_000_000;
    vault = await openVault(
      testConfig({
        WEBEX_AUTH_DB: join(t.dir, 'vault.db'),
        WEBEX_AUTH_KEYS: TEST_KEY,
        WEBHOOK_URL: 'https://hooks.test/in',
        WEBHOOK_SECRET: 'whsec-0123456789abcdef',
      }),
      { fetch: webex.fetch, clock: () => now, retryBaseDelayMs: 1, keepAliveJitterMs: 0, webhookBaseDelayMs: 1 },
    );
    const integ = await vault.integrations.upsert(TEST_INTEGRATION);
    const c = await vault.connections.saveFromGrant({
      integrationId: integ.id,
      tokens: tokenSet({ accessToken: 'ACCESS-0', refreshToken: 'REFRESH-0' }, now),
      person: { id: 'p1', emails: ['alice@example.com'], displayName: 'Alice' },
      requestedScopes: ['spark:all'],
    });
    connectionId = c.id;
  });
  afterEach(async () => {
    await vault.close();
    cleanup();
  });

  it('saves a grant as a connection without token material, and a second grant updates it', async () => {
    const c = await vault.connections.get(connectionId);
    expect(c).toMatchObject({ personEmail: 'alice@example.com', status: 'active', scopes: ['spark:all'] });
    expect(JSON.stringify(c)).not.toContain('ACCESS-0');
    expect(await vault.connections.list()).toHaveLength(1);
    await vault.drainWebhooks();
    expect(webex.webhooks.map((w) => JSON.parse(w.body).type)).toEqual(['connection.created']);
    const hook = webex.webhooks[0] as { body: string; headers: Record<string, string> };
    // A plain WEBHOOK_SECRET is the key's bytes: the whsec_ form of it, or the raw format, verifies.
    expect(new Webhook(webhookSecretOf('whsec-0123456789abcdef')).verify(hook.body, hook.headers)).toMatchObject({
      type: 'connection.created',
      data: { connectionId: expect.any(String) },
    });
    expect(() =>
      new Webhook('whsec-0123456789abcdef', { format: 'raw' }).verify(hook.body, hook.headers),
    ).not.toThrow();
  });

  it('returns the stored token while it is valid long enough, without calling Webex', async () => {
    const t = await vault.connections.getFreshToken(connectionId, 60);
    expect(t.accessToken).toBe('ACCESS-0');
    expect(t.person.email).toBe('alice@example.com');
    expect(webex.tokenCalls).toHaveLength(0);
  });

  it('refreshes once for many concurrent callers and stores the returned refresh token with the access token', async () => {
    now += 14 * DAY;
    webex.answers.push({ ok: true, refreshToken: 'REFRESH-ROTATED' });
    const release = webex.hold();
    const calls = Array.from({ length: 25 }, () => vault.connections.getFreshToken(connectionId));
    await new Promise((r) => setTimeout(r, 20));
    release();
    const results = await Promise.all(calls);
    expect(new Set(results.map((r) => r.accessToken))).toEqual(new Set(['ACCESS-1']));
    expect(webex.tokenCalls).toHaveLength(1);
    expect(webex.tokenCalls[0]?.get('refresh_token')).toBe('REFRESH-0');
    expect((await vault.connections.revealTokens(connectionId))?.refreshToken).toBe('REFRESH-ROTATED');
    const c = await vault.connections.get(connectionId);
    expect(c?.lastRefreshAt).toBe(now);
    expect(vault.metrics.refreshes.success).toBe(1);
  });

  it('keeps the old refresh token when Webex returns none', async () => {
    now += 14 * DAY;
    webex.answers.push({ ok: true, refreshToken: null });
    await vault.connections.getFreshToken(connectionId);
    expect((await vault.connections.revealTokens(connectionId))?.refreshToken).toBe('REFRESH-0');
  });

  it('marks the connection needs_reauth on invalid_request (400) and sends a signed webhook', async () => {
    now += 14 * DAY;
    webex.answers.push({
      status: 400,
      body: {
        error: 'invalid_request',
        error_description: 'The refresh token provided is expired, revoked, malformed, or invalid.',
      },
    });
    await expect(vault.connections.getFreshToken(connectionId)).rejects.toMatchObject({ code: 'needs_reauth' });
    const c = await vault.connections.get(connectionId);
    expect(c?.status).toBe('needs_reauth');
    expect(c?.lastError).toBe('invalid_request');
    await vault.drainWebhooks();
    const events = webex.webhooks.map((w) => JSON.parse(w.body));
    expect(events.at(-1)).toMatchObject({ type: 'connection.needs_reauth', data: { connectionId } });
    // It stays needs_reauth without asking Webex again.
    await expect(vault.connections.getFreshToken(connectionId)).rejects.toBeInstanceOf(VaultError);
    expect(webex.tokenCalls).toHaveLength(1);
  });

  it('retries 503/429 honouring Retry-After and stays active', async () => {
    now += 14 * DAY;
    webex.answers.push({ status: 503 }, { status: 429, retryAfter: 1 }, { ok: true });
    const t = await vault.connections.getFreshToken(connectionId);
    expect(t.accessToken).toBe('ACCESS-1');
    expect(webex.tokenCalls).toHaveLength(3);
  });

  it('gives up with upstream_unavailable after the attempts and leaves the connection active', async () => {
    now += 14 * DAY;
    webex.answers.push({ status: 502 }, { status: 502 }, { status: 502 });
    const err = await vault.connections.getFreshToken(connectionId).catch((e) => e);
    expect(err).toMatchObject({ code: 'upstream_unavailable' });
    expect(err.retryAfter).toBeGreaterThan(0);
    const c = await vault.connections.get(connectionId);
    expect(c).toMatchObject({ status: 'active', lastError: 'upstream_unavailable' });
    expect(vault.metrics.refreshes.retryable_error).toBe(1);
    // It backs off: until the next attempt (Retry-After), Webex is not asked again.
    const calls = webex.tokenCalls.length;
    await expect(vault.connections.getFreshToken(connectionId)).rejects.toMatchObject({ code: 'upstream_unavailable' });
    expect(webex.tokenCalls).toHaveLength(calls);
    // The lease was released: once the wait is over, the next call refreshes.
    now += err.retryAfter * 1000;
    expect((await vault.connections.getFreshToken(connectionId)).accessToken).toBe('ACCESS-1');
  });

  it('does not wait out a long Retry-After inside a request', async () => {
    now += 14 * DAY;
    webex.answers.push({ status: 429, retryAfter: 120 });
    await expect(vault.connections.getFreshToken(connectionId)).rejects.toMatchObject({
      code: 'upstream_unavailable',
      retryAfter: 120,
    });
    expect(webex.tokenCalls).toHaveLength(1);
  });

  it('a waiter in another process shares the holder’s failure instead of asking Webex again', async () => {
    const other = await openVault(testConfig({ WEBEX_AUTH_DB: dbPath, WEBEX_AUTH_KEYS: TEST_KEY }), {
      fetch: webex.fetch,
      clock: () => now,
      retryBaseDelayMs: 1,
      pollMs: 5,
      instanceId: 'other',
    });
    now += 14 * DAY;
    webex.answers.push({ status: 502 }, { status: 502 }, { status: 502 });
    const release = webex.hold();
    const holder = vault.connections.getFreshToken(connectionId).catch((e) => e);
    while (webex.tokenCalls.length === 0) await new Promise((r) => setTimeout(r, 5));
    const waiter = other.connections.getFreshToken(connectionId).catch((e) => e);
    await new Promise((r) => setTimeout(r, 30));
    release();
    expect(await holder).toMatchObject({ code: 'upstream_unavailable' });
    expect(await waiter).toMatchObject({ code: 'upstream_unavailable' });
    expect(webex.tokenCalls).toHaveLength(3);
    await other.close();
  });

  it('refresh() refreshes now even when the token is valid', async () => {
    const c = await vault.connections.refresh(connectionId);
    expect(c.lastRefreshAt).toBe(now);
    expect((await vault.connections.revealTokens(connectionId))?.accessToken).toBe('ACCESS-1');
  });

  it('keep-alive refreshes only connections whose refresh token is near its end', async () => {
    expect(await vault.sweepOnce()).toEqual({ ran: true, refreshed: 0, failed: 0 });
    now += 61 * DAY;
    const [a, b] = await Promise.all([vault.sweepOnce(), vault.sweepOnce()]);
    expect([a, b].filter((r) => r.ran)).toHaveLength(1);
    expect(a.refreshed + b.refreshed).toBe(1);
    const c = await vault.connections.get(connectionId);
    expect(c?.refreshExpiresAt).toBe(now + 7_775_999_000);
    expect((await vault.sweepOnce()).refreshed).toBe(0);
  });

  it('creates API keys shown once, verifies them by hash, revokes them', async () => {
    const { key, record } = await vault.apiKeys.create({ name: 'bot', connectionIds: [connectionId] });
    expect(key).toMatch(/^wak_[A-Za-z0-9_-]{43}$/);
    expect(JSON.stringify(await vault.apiKeys.list())).not.toContain(key.slice(8));
    expect((await vault.apiKeys.verify(key))?.id).toBe(record.id);
    expect(await vault.apiKeys.verify(`${key.slice(0, -1)}${key.endsWith('A') ? 'B' : 'A'}`)).toBeUndefined();
    expect(await vault.apiKeys.verify('nonsense')).toBeUndefined();
    expect(await vault.apiKeys.revoke(record.id)).toBe(true);
    expect(await vault.apiKeys.verify(key)).toBeUndefined();
    await expect(vault.apiKeys.create({ name: 'x', connectionIds: ['conn_nope'] })).rejects.toMatchObject({
      code: 'not_found',
    });
  });

  it('validates integrations at its boundary and normalises the base URL', async () => {
    const good = {
      clientId: 'C2',
      clientSecret: 'S',
      redirectUri: 'http://localhost:8080/oauth',
      scopes: ['spark:all'],
      apiBase: 'https://webex.test/v1/',
    };
    const stored = await vault.integrations.upsert(good);
    expect(stored.apiBase).toBe('https://webex.test/v1');
    expect((await vault.integrations.findByClientId('C2', 'https://webex.test/v1/'))?.id).toBe(stored.id);
    for (const bad of [
      { ...good, clientId: ' ' },
      { ...good, clientSecret: '' },
      { ...good, apiBase: 'javascript:alert(1)' },
      { ...good, redirectUri: 'not a url' },
      { ...good, scopes: [''] },
    ]) {
      await expect(vault.integrations.upsert(bad)).rejects.toMatchObject({ code: 'invalid_request' });
    }
  });

  it('deletes a connection', async () => {
    expect(await vault.connections.delete(connectionId)).toBe(true);
    await expect(vault.connections.getFreshToken(connectionId)).rejects.toMatchObject({ code: 'not_found' });
  });
});
