/**
 * A server finds its Service Apps by kind, never by reading every connection: with the vault's list of all
 * connections unavailable, it still registers each fetcher's `serviceApp` webhook once listening and onboards a newly
 * authorized org from a delivery (real emulator, real SQLite vault, loopback).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningEmulator, startEmulator } from '../../src/emulator/index.js';
import { buildApp } from '../../src/server/app.js';
import { generateKeyEntry } from '../../src/vault/crypto/keyring.js';
import { openVault } from '../../src/vault/vault.js';
import { testConfig } from '../server/support/app.js';
import { control, TEST_INTEGRATION } from '../vault/emulator-grant.js';
import { fetcherConnection, identitySeed, ORG_A, ORG_B, restOrg, SERVICE_APP, until } from './fixture.js';

describe('Service Apps looked up by kind', () => {
  let emulator: RunningEmulator;
  let app: FastifyInstance | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'webex-auth-kind-'));

  beforeAll(async () => {
    emulator = await startEmulator({ seed: identitySeed, autoConsent: 'alice@example.com' });
  });
  afterAll(async () => {
    await app?.close();
    await emulator?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('registers the webhook and onboards an org without listing every connection', async () => {
    const config = testConfig({
      XDG_DATA_HOME: dir,
      WEBEX_AUTH_DB: join(dir, 'webex-auth.db'),
      WEBEX_AUTH_KEYS: generateKeyEntry('k1'),
      WEBEX_CLIENT_ID: TEST_INTEGRATION.clientId,
      WEBEX_CLIENT_SECRET: TEST_INTEGRATION.clientSecret,
      WEBEX_REDIRECT_URI: TEST_INTEGRATION.redirectUri,
      WEBEX_API_BASE: emulator.apiBase,
    });
    // The server's own vault, so the test can take its list of every connection away.
    const vault = await openVault(config);
    app = await buildApp(config, { vault });
    app.addHook('onClose', async () => vault.close());
    const fetcher = await fetcherConnection(vault, emulator, Date.now);
    await vault.identities.addServiceApp({
      appId: SERVICE_APP.id,
      clientId: SERVICE_APP.clientId,
      clientSecret: SERVICE_APP.clientSecret,
      orgId: ORG_A,
      fetcherConnectionId: fetcher.id,
    });
    // With a million connections, reading them all at every start and delivery is what must not happen.
    let listedAll = 0;
    vault.connections.list = async () => {
      listedAll++;
      throw new Error('every connection was listed');
    };
    await app.listen({ port: 0, host: '127.0.0.1' });
    const fetcherToken = (await vault.connections.getFreshToken(fetcher.id)).accessToken;
    await until(async () => {
      const res = await fetch(`${emulator.apiBase}/webhooks`, { headers: { authorization: `Bearer ${fetcherToken}` } });
      const items = ((await res.json()) as { items: Array<{ resource: string }> }).items;
      return items.find((w) => w.resource === 'serviceApp');
    }, 'the serviceApp webhook');

    await control(emulator.url, `service-apps/${SERVICE_APP.id}/authorize`, { orgId: ORG_B });
    const onboarded = await until(
      async () => (await vault.connections.listByKind('service_app')).find((c) => c.orgId === restOrg(ORG_B)),
      'the new org onboarded',
    );
    expect(onboarded).toMatchObject({ status: 'active', appId: SERVICE_APP.id, fetcherConnectionId: fetcher.id });
    expect(listedAll).toBe(0);
  });
});
