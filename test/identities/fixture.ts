/**
 * The emulator seed and helpers of the identity-kind tests: two orgs, Alice (a Full Admin of org A), a bot, and a
 * Service App authorized in org A only; an integration connection of Alice's holding `spark:applications_token` fetches
 * the app's tokens.
 */
import { join } from 'node:path';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { openVault, type VaultInternals } from '../../src/vault/index.js';
import type { Connection } from '../../src/vault/types.js';
import { grantFromEmulator, TEST_INTEGRATION } from '../vault/emulator-grant.js';
import { TEST_KEY, tempDir, testConfig } from '../vault/helpers.js';

export const ORG_A = '1eb65fdf-9643-417f-9974-ad72cae0e10f';
export const ORG_B = '2c3c9f9e-73d9-4460-a668-047162ff1bac';
/** The REST form of an org id. */
export const restOrg = (uuid: string) =>
  Buffer.from(`ciscospark://us/ORGANIZATION/${uuid}`).toString('base64').replace(/=+$/, '');

export const BOT_TOKEN = `NmQ1${'b0t'.repeat(20)}_PF84_${ORG_A}`;
export const FETCHER_SCOPES = ['spark:all', 'spark:people_read', 'spark:applications_token'];
export const SERVICE_APP = {
  id: 'Y2lzY29zcGFyazovL3VzL0FQUExJQ0FUSU9OL3NlcnZpY2UtYXBw',
  clientId: `C${'5a'.repeat(32)}`,
  clientSecret: '6b'.repeat(32),
  name: 'Reporter',
  scopes: ['spark:people_read', 'spark:messages_write', 'guest-issuer:write', 'guest-issuer:read'],
};

/** The seed. */
export const identitySeed = {
  integrations: [
    {
      clientId: TEST_INTEGRATION.clientId,
      clientSecret: TEST_INTEGRATION.clientSecret,
      redirectUris: [TEST_INTEGRATION.redirectUri],
      scopes: FETCHER_SCOPES,
    },
  ],
  users: [
    { email: 'alice@example.com', displayName: 'Alice Example', orgId: ORG_A, roles: ['full_admin' as const] },
    { email: 'bob@example.org', displayName: 'Bob Other', orgId: ORG_B, roles: ['full_admin' as const] },
  ],
  bots: [{ email: 'ooo-bot@webex.bot', displayName: 'Out of Office', token: BOT_TOKEN }],
  serviceApps: [{ ...SERVICE_APP, authorizedOrgs: [ORG_A] }],
  rooms: [],
};

/** A vault on a fresh SQLite file, closed by `closers`. */
export async function sqliteVault(
  closers: (() => unknown)[],
  clock: () => number,
  extra: Record<string, string> = {},
): Promise<VaultInternals> {
  const t = tempDir();
  closers.push(t.cleanup);
  const config = testConfig({ WEBEX_AUTH_DB: join(t.dir, 'v.db'), WEBEX_AUTH_KEYS: TEST_KEY, ...extra });
  const vault = await openVault(config, { clock, keepAliveJitterMs: 0, retryBaseDelayMs: 1, webhookBaseDelayMs: 1 });
  closers.push(() => vault.close());
  return vault;
}

/** Alice's integration connection with `spark:applications_token` (the fetcher). */
export async function fetcherConnection(
  vault: VaultInternals,
  emulator: Pick<RunningEmulator, 'apiBase'>,
  clock: () => number,
): Promise<Connection> {
  const grant = await grantFromEmulator(emulator.apiBase, clock, FETCHER_SCOPES);
  const integration = await vault.integrations.upsert({ ...grant.integration, scopes: FETCHER_SCOPES });
  return vault.connections.saveFromGrant({
    integrationId: integration.id,
    tokens: grant.tokens,
    person: grant.person,
    requestedScopes: FETCHER_SCOPES,
  });
}

/** Polls `check` until it returns a value (generous cap; no timing assertion). */
export async function until<T>(check: () => Promise<T | undefined>, what: string): Promise<T> {
  for (let i = 0; i < 400; i++) {
    const v = await check();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`gave up waiting for ${what}`);
}
