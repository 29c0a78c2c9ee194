/**
 * The connection page's refresh card against the real emulator: the token-cap line, the refresh timeline, and "Revoke
 * at Webex" (POST with the CSRF token) — which says exactly what is missing without an admin connection of the org,
 * and deletes the grant at the emulator with one.
 */
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type RunningEmulator, startEmulator } from '../../src/emulator/index.js';
import { buildApp } from '../../src/server/app.js';
import { openVault } from '../../src/vault/index.js';
import { ADMIN_INTEGRATION, ADMIN_IT, ADMIN_SCOPES, ADMIN_SEED } from '../emulator/admin-seed.js';
import { control, tokenWorks } from '../vault/emulator-grant.js';
import { TEST_KEY, tempDir, testConfig } from '../vault/helpers.js';
import { connectPerson, requestCount } from '../vault/lifecycle-support.js';
import { Browser } from './support/app.js';

const integration = ADMIN_INTEGRATION;

let emulator: RunningEmulator;
const closers: Array<() => Promise<unknown> | unknown> = [];
beforeAll(async () => {
  emulator = await startEmulator({ seed: ADMIN_SEED });
});
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
  await control(emulator.url, 'reset', {});
});
afterAll(async () => {
  await emulator?.close();
});

async function setup() {
  const t = tempDir();
  closers.push(t.cleanup);
  const env = {
    WEBEX_AUTH_DB: join(t.dir, 'v.db'),
    WEBEX_AUTH_KEYS: TEST_KEY,
    WEBEX_CLIENT_ID: ADMIN_IT.clientId,
    WEBEX_CLIENT_SECRET: ADMIN_IT.clientSecret,
    WEBEX_API_BASE: emulator.apiBase,
    FORCED_REFRESH_MIN_INTERVAL: '0',
    LOG_LEVEL: 'silent',
  };
  const vault = await openVault(testConfig(env));
  closers.push(() => vault.close());
  const web = await buildApp(testConfig(env), { vault });
  closers.push(() => web.close());
  return { vault, browser: new Browser(web) };
}

describe('the connection page’s refresh card', () => {
  it('shows the token cap and the timeline', async () => {
    const { vault, browser } = await setup();
    const carol = await connectPerson(vault, emulator, integration, 'carol@a.example', ['spark:people_read']);
    await vault.connections.refresh(carol.id);
    const page = await browser.get(`/connections/${carol.id}`);
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('2 of 750 live access tokens (0 %; minted by this broker: 2)');
    expect(page.body).toMatch(/<td>forced<\/td><td>success<\/td><td>200<\/td>/);
  });

  it('Revoke at Webex: says what is missing, needs the CSRF token, and deletes the grant with an admin', async () => {
    const { vault, browser } = await setup();
    const carol = await connectPerson(vault, emulator, integration, 'carol@a.example', ['spark:people_read']);
    const carolToken = (await vault.connections.revealTokens(carol.id))?.accessToken as string;
    await browser.get(`/connections/${carol.id}`);
    const missing = await browser.post(`/connections/${carol.id}/revoke-at-webex`, {});
    expect(missing.statusCode).toBe(409);
    expect(missing.body).toContain('No admin connection with identity:tokens_read and identity:tokens_write for org');
    // Without the CSRF token nothing happens.
    await connectPerson(vault, emulator, integration, 'admin-a@a.example', ADMIN_SCOPES);
    const forged = await browser.post(`/connections/${carol.id}/revoke-at-webex`, {}, false);
    expect(forged.statusCode).toBe(403);
    expect(await tokenWorks(emulator.apiBase, carolToken)).toBe(true);
    const done = await browser.post(`/connections/${carol.id}/revoke-at-webex`, {});
    expect(done.statusCode).toBe(303);
    expect(await tokenWorks(emulator.apiBase, carolToken)).toBe(false);
    const page = await browser.get(`/connections/${carol.id}`);
    expect(page.body).toContain('Needs re-authorization: revoked_at_webex');
    const audit = await vault.audit.list({ action: 'connection.revoke' });
    expect(audit[0]).toMatchObject({ target: carol.id, detail: '1 authorization deleted at Webex' });

    // Asked again: already revoked, so neither Webex nor the audit log hears of it (no calls at request rate).
    const calls = await requestCount(emulator, 'GET /v1/authorizations');
    for (let i = 0; i < 3; i++) {
      const again = await browser.post(`/connections/${carol.id}/revoke-at-webex`, {});
      expect(again.statusCode).toBe(409);
      expect(again.body).toContain('already revoked at Webex');
      expect(again.body).toContain('Nothing left to revoke');
      expect(again.body).not.toContain('Connect an admin');
    }
    expect(await requestCount(emulator, 'GET /v1/authorizations')).toBe(calls);
    expect(await vault.audit.list({ action: 'connection.revoke' })).toHaveLength(1);
  });

  it('Revoke at Webex: a bot is told to regenerate its token, and each account has a budget of tries', async () => {
    const { vault, browser } = await setup();
    const carol = await connectPerson(vault, emulator, integration, 'carol@a.example', ['spark:people_read']);
    const bot = await vault.connections.saveFromGrant({
      integrationId: carol.integrationId,
      tokens: {
        accessToken: `bot-${'b'.repeat(40)}`,
        refreshToken: '',
        tokenType: 'Bearer',
        expiresAt: Date.now() + 86_400_000,
        refreshExpiresAt: Date.now() + 86_400_000,
        scopes: [],
        scopeReported: false,
        receivedAt: Date.now(),
      },
      person: { id: 'bot-person', emails: ['helper@webex.bot'], displayName: 'Helper' },
      requestedScopes: [],
      kind: 'bot',
    });
    await browser.get(`/connections/${carol.id}`);
    const botAnswer = await browser.post(`/connections/${bot.id}/revoke-at-webex`, {});
    expect(botAnswer.statusCode).toBe(409);
    expect(botAnswer.body).toContain('Regenerate the bot');
    expect(botAnswer.body).not.toContain('Connect an admin');
    const admin = await browser.post(`/connections/${carol.id}/revoke-at-webex`, {});
    expect(admin.statusCode).toBe(409);
    expect(admin.body).toContain('Connect an admin of this org');
    // A burst of 10 tries (these two included), then one every 6 s: the budget runs out within a few more.
    let limited: Awaited<ReturnType<typeof browser.post>> | undefined;
    for (let i = 0; i < 20 && !limited; i++) {
      const r = await browser.post(`/connections/${carol.id}/revoke-at-webex`, {});
      if (r.statusCode === 429) limited = r;
      else expect(r.statusCode).toBe(409);
    }
    expect(limited?.body).toContain('Too many revocations');
    expect(Number(limited?.headers['retry-after'])).toBeGreaterThan(0);
  });
});
