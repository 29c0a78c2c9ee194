/**
 * The connection page's "Recent calls" card: calls made through the broker's proxy (the real app over a real SQLite
 * vault and the real emulator) are listed newest first — method, path template, status, duration, tracking id —
 * with no token or body on the page; a connection without calls says so.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningEmulator, startEmulator } from '../../src/emulator/index.js';
import { buildApp } from '../../src/server/app.js';
import { openVault, type VaultInternals } from '../../src/vault/index.js';
import { connectFromEmulator, TEST_INTEGRATION, testSeed } from '../vault/emulator-grant.js';
import { TEST_KEY, tempDir, testConfig } from '../vault/helpers.js';
import { Browser } from './support/app.js';

let emulator: RunningEmulator;
let vault: VaultInternals;
let web: Awaited<ReturnType<typeof buildApp>>;
let cleanup: () => void;
beforeAll(async () => {
  emulator = await startEmulator({ seed: testSeed, autoConsent: 'alice@example.com' });
  const t = tempDir();
  cleanup = t.cleanup;
  const env = {
    WEBEX_AUTH_DB: join(t.dir, 'v.db'),
    WEBEX_AUTH_KEYS: TEST_KEY,
    WEBEX_CLIENT_ID: TEST_INTEGRATION.clientId,
    WEBEX_CLIENT_SECRET: TEST_INTEGRATION.clientSecret,
    WEBEX_API_BASE: emulator.apiBase,
    LOG_LEVEL: 'silent',
  };
  vault = await openVault(testConfig(env));
  web = await buildApp(testConfig(env), { vault });
});
afterAll(async () => {
  await web?.close();
  await vault?.close();
  await emulator?.close();
  cleanup?.();
});

describe('the connection page’s Recent calls', () => {
  it('lists the proxied calls newest first, without a token or body', async () => {
    const { id } = await connectFromEmulator(vault, emulator.apiBase);
    const browser = new Browser(web);
    const empty = await browser.get(`/connections/${id}`);
    expect(empty.body).toContain('id="recent-calls"');
    expect(empty.body).toContain('No calls through the proxy yet.');

    const { key } = await vault.apiKeys.create({ name: 'bot', connectionIds: [id], permissions: ['proxy'] });
    const auth = { authorization: `Bearer ${key}` };
    const me = await web.inject({ method: 'GET', url: `/api/v1/connections/${id}/proxy/people/me`, headers: auth });
    expect(me.statusCode).toBe(200);
    const posted = await web.inject({
      method: 'POST',
      url: `/api/v1/connections/${id}/proxy/rooms`,
      headers: { ...auth, 'content-type': 'application/json' },
      payload: JSON.stringify({ title: 'BODY-CANARY-room' }),
    });
    expect(posted.statusCode).toBe(200);
    const roomId = posted.json().id as string;
    expect(
      (await web.inject({ method: 'GET', url: `/api/v1/connections/${id}/proxy/rooms/${roomId}`, headers: auth }))
        .statusCode,
    ).toBe(200);

    const page = await browser.get(`/connections/${id}`);
    expect(page.statusCode).toBe(200);
    const card = /<section class="card" id="recent-calls">([\s\S]*?)<\/section>/.exec(page.body)?.[1] ?? '';
    const rows = [
      ...card.matchAll(/<tr><td>[^<]*<\/td><td>(\w+)<\/td><td><code>([^<]*)<\/code><\/td><td[^>]*>(\d+)<\/td>/g),
    ];
    expect(rows.map((r) => `${r[1]} ${r[2]} ${r[3]}`)).toEqual([
      'GET rooms/{id} 200',
      'POST rooms 200',
      'GET people/me 200',
    ]);
    expect(card).toContain(String(me.headers.trackingid));
    const token = (await vault.connections.revealTokens(id))?.accessToken as string;
    expect(card).not.toContain(token);
    expect(card).not.toContain(roomId);
    expect(card).not.toContain('BODY-CANARY');
  });
});
