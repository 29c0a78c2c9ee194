/**
 * The stack the out-of-office bot tests run on, all real: the emulator (alice, bob and a bot), a listening token
 * broker over a fresh vault, and connections made through the emulator's authorize page and token endpoint with
 * exactly the scopes asked for (the person resolved as the web callback does: people/me, else the id_token's `sub`).
 */
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { type EmulatorOptions, type RunningEmulator, startEmulator } from '../../src/emulator/index.js';
import { createAuthorizationRequest } from '../../src/oauth/authorize.js';
import { parseCallback } from '../../src/oauth/callback.js';
import { verifyTokenSetIdToken } from '../../src/oauth/oidc.js';
import { exchangeCode } from '../../src/oauth/tokens.js';
import type { Integration, TokenSet } from '../../src/oauth/types.js';
import { brokerRoutes } from '../../src/server/routes/api/index.js';
import { openVault, type VaultInternals } from '../../src/vault/index.js';
import type { ConnectionPerson } from '../../src/vault/types.js';
import { resolvePerson } from '../../src/webex/person.js';
import { TEST_KEY, tempDir, testConfig } from '../vault/helpers.js';

/** The bot's token in the seed (emulator only). */
export const BOT_TOKEN = 'ooo-bot-token-emulator-only';
export const BOT_EMAIL = 'ooo@webex.bot';

const INTEGRATION = {
  clientId: `C${'c3'.repeat(32)}`,
  clientSecret: 'd4'.repeat(32),
  redirectUri: 'http://localhost:8080/oauth',
};
const INTEGRATION_SCOPES = [
  'spark:all',
  'spark:people_read',
  'spark:rooms_read',
  'spark:messages_read',
  'spark:messages_write',
];

/** Alice (who is away), Bob and Carol (who write to her) and the bot that answers. */
export const oooSeed = {
  integrations: [{ ...INTEGRATION, redirectUris: [INTEGRATION.redirectUri], scopes: INTEGRATION_SCOPES }],
  users: [
    { email: 'alice@example.com', displayName: 'Alice Example', firstName: 'Alice', lastName: 'Example' },
    { email: 'bob@example.com', displayName: 'Bob Example', firstName: 'Bob', lastName: 'Example' },
    { email: 'carol@example.com', displayName: 'Carol Example', firstName: 'Carol', lastName: 'Example' },
  ],
  bots: [{ email: BOT_EMAIL, displayName: 'Out of office', token: BOT_TOKEN }],
  rooms: [],
};

/** The running stack. */
export interface OooStack {
  emulator: RunningEmulator;
  vault: VaultInternals;
  brokerUrl: string;
  /** Authorizes `email` for `scopes` through the consent page; returns the tokens and the person as stored. */
  authorize(email: string, scopes: string[]): Promise<{ tokens: TokenSet; person: ConnectionPerson }>;
  /** Authorizes and stores a connection, and makes an API key (permission `token`) for it. */
  connect(
    email: string,
    scopes: string[],
  ): Promise<{ connectionId: string; apiKey: string; person: ConnectionPerson; accessToken: string }>;
  /** A call to the emulator's REST API with `token`; returns status and JSON body. */
  webex(
    token: string,
    path: string,
    init?: { method?: string; body?: unknown },
  ): Promise<{ status: number; body: any }>;
  /** `GET /_emulator/<path>`. */
  control(path: string): Promise<any>;
  close(): Promise<void>;
}

/** Starts the emulator (no auto-consent: every grant goes through the consent form) and a listening broker. */
export async function startOooStack(options: EmulatorOptions = {}): Promise<OooStack> {
  const emulator = await startEmulator({ ...options, seed: oooSeed });
  const t = tempDir();
  const config = testConfig({ WEBEX_AUTH_DB: join(t.dir, 'v.db'), WEBEX_AUTH_KEYS: TEST_KEY });
  const vault = await openVault(config);
  const broker: FastifyInstance = Fastify();
  await broker.register(brokerRoutes, { vault, config });
  const brokerUrl = await broker.listen({ port: 0, host: '127.0.0.1' });
  const integration: Integration = { ...INTEGRATION, apiBase: emulator.apiBase };
  const stored = await vault.integrations.upsert({ ...integration, scopes: INTEGRATION_SCOPES });

  async function authorize(email: string, scopes: string[]) {
    const { url, pending } = createAuthorizationRequest({ integration, scopes });
    const page = await fetch(url, { redirect: 'manual' });
    const requestId = /name="request" value="([^"]+)"/.exec(await page.text())?.[1];
    if (page.status !== 200 || !requestId) throw new Error(`authorize page: HTTP ${page.status}`);
    const consent = await fetch(`${emulator.apiBase}/authorize`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ request: requestId, email, decision: 'accept' }),
    });
    const location = consent.headers.get('location');
    if (consent.status !== 302 || !location) throw new Error(`consent: HTTP ${consent.status}`);
    const parsed = parseCallback(location, pending);
    const tokens = await exchangeCode(integration, parsed);
    const claims = pending.nonce ? await verifyTokenSetIdToken(tokens, integration, pending) : undefined;
    const { person } = await resolvePerson({ apiBase: emulator.apiBase, tokens, claims });
    return { tokens, person };
  }

  async function connect(email: string, scopes: string[]) {
    const { tokens, person } = await authorize(email, scopes);
    const connection = await vault.connections.saveFromGrant({
      integrationId: stored.id,
      tokens,
      person,
      requestedScopes: scopes,
    });
    const apiKey = (await vault.apiKeys.create({ name: `ooo-${email}`, connectionIds: [connection.id] })).key;
    return { connectionId: connection.id, apiKey, person, accessToken: tokens.accessToken };
  }

  async function webex(token: string, path: string, init: { method?: string; body?: unknown } = {}) {
    const res = await fetch(`${emulator.apiBase}${path}`, {
      method: init.method ?? 'GET',
      headers: {
        authorization: `Bearer ${token}`,
        ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  }

  async function control(path: string) {
    const res = await fetch(`${emulator.url}/_emulator/${path}`);
    if (!res.ok) throw new Error(`control ${path}: HTTP ${res.status}`);
    return res.json();
  }

  return {
    emulator,
    vault,
    brokerUrl,
    authorize,
    connect,
    webex,
    control,
    async close() {
      await broker.close();
      await vault.close();
      await emulator.close();
      t.cleanup();
    },
  };
}

/** Polls `check` until it returns a value other than undefined, every 50 ms, for at most `capMs` (default 15 s). */
export async function eventually<T>(check: () => Promise<T | undefined>, what: string, capMs = 15_000): Promise<T> {
  const end = Date.now() + capMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
