/**
 * examples/out-of-office-bot against the real emulator: the bot gets Alice's token from a listening broker and answers
 * a direct message from another account once.
 */
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error — a plain JavaScript example without type declarations
import { createOutOfOfficeBot } from '../../examples/out-of-office-bot/bot.mjs';
import { type RunningEmulator, startEmulator } from '../../src/emulator/index.js';
import { brokerRoutes } from '../../src/server/routes/api/index.js';
import { openVault, type VaultInternals } from '../../src/vault/index.js';
import { grantFromEmulator, TEST_INTEGRATION } from '../vault/emulator-grant.js';
import { TEST_KEY, tempDir, testConfig } from '../vault/helpers.js';

const BOT_TOKEN = 'colleague-bot-token-emulator-only';
const seed = {
  integrations: [
    {
      clientId: TEST_INTEGRATION.clientId,
      clientSecret: TEST_INTEGRATION.clientSecret,
      redirectUris: [TEST_INTEGRATION.redirectUri],
      scopes: TEST_INTEGRATION.scopes,
    },
  ],
  users: [{ email: 'alice@example.com', displayName: 'Alice Example', firstName: 'Alice', lastName: 'Example' }],
  bots: [{ email: 'colleague@webex.bot', displayName: 'Colleague', token: BOT_TOKEN }],
  rooms: [],
};

describe('out-of-office bot example', () => {
  let emulator: RunningEmulator;
  let vault: VaultInternals;
  let broker: FastifyInstance;
  let brokerUrl: string;
  let cleanup: () => void;
  let connectionId: string;
  let apiKey: string;

  beforeAll(async () => {
    emulator = await startEmulator({ seed, autoConsent: 'alice@example.com' });
    const t = tempDir();
    cleanup = t.cleanup;
    const config = testConfig({ WEBEX_AUTH_DB: join(t.dir, 'v.db'), WEBEX_AUTH_KEYS: TEST_KEY });
    vault = await openVault(config);
    const grant = await grantFromEmulator(emulator.apiBase);
    const integ = await vault.integrations.upsert({ ...grant.integration, scopes: TEST_INTEGRATION.scopes });
    connectionId = (
      await vault.connections.saveFromGrant({
        integrationId: integ.id,
        tokens: grant.tokens,
        person: grant.person,
        requestedScopes: TEST_INTEGRATION.scopes,
      })
    ).id;
    apiKey = (await vault.apiKeys.create({ name: 'ooo', connectionIds: [connectionId] })).key;
    broker = Fastify();
    await broker.register(brokerRoutes, { vault, config });
    brokerUrl = await broker.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await broker?.close();
    await vault?.close();
    await emulator?.close();
    cleanup?.();
  });

  const asColleague = async (path: string, init: RequestInit = {}) => {
    const res = await fetch(`${emulator.apiBase}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${BOT_TOKEN}`, 'content-type': 'application/json' },
    });
    expect(res.status).toBe(200);
    return res.json();
  };

  it('answers a new direct message once, with the token from the broker', async () => {
    const bot = createOutOfOfficeBot({
      brokerUrl,
      apiKey,
      connectionId,
      apiBase: emulator.apiBase,
      message: 'Alice is out of office.',
      since: Date.now() - 1000,
    });
    expect(await bot.pollOnce()).toBe(0);
    const sent = await asColleague('/messages', {
      method: 'POST',
      body: JSON.stringify({ toPersonEmail: 'alice@example.com', text: 'Hi Alice, quick question' }),
    });
    expect(await bot.pollOnce()).toBe(1);
    const { items } = await asColleague(`/messages?roomId=${encodeURIComponent(sent.roomId)}`);
    const replies = items.filter((m: { text?: string }) => m.text === 'Alice is out of office.');
    expect(replies).toHaveLength(1);
    expect(replies[0].personEmail).toBe('alice@example.com');
    // Nothing new: no second reply; a second message within the cool-down is not answered again either.
    expect(await bot.pollOnce()).toBe(0);
    await asColleague('/messages', {
      method: 'POST',
      body: JSON.stringify({ roomId: sent.roomId, text: 'Still there?' }),
    });
    expect(await bot.pollOnce()).toBe(0);
  });

  it('reports needs_reauth from the broker', async () => {
    const bot = createOutOfOfficeBot({ brokerUrl, apiKey: 'wak_wrong', connectionId, apiBase: emulator.apiBase });
    await expect(bot.pollOnce()).rejects.toMatchObject({ status: 401, code: 'unauthorized' });
    await vault.connections.markNeedsReauth(connectionId);
    const real = createOutOfOfficeBot({ brokerUrl, apiKey, connectionId, apiBase: emulator.apiBase });
    await expect(real.pollOnce()).rejects.toMatchObject({ status: 409, code: 'needs_reauth' });
  });
});
