/** Gets a real token pair from the emulator (authorization code with auto-consent) and the person behind it. */
import { exchangeCode } from '../../src/oauth/tokens.js';
import type { Integration, TokenSet } from '../../src/oauth/types.js';
import type { Connection, ConnectionPerson, Vault } from '../../src/vault/types.js';

/** The test integration registered in {@link testSeed}. */
export const TEST_INTEGRATION = {
  clientId: `C${'a1'.repeat(32)}`,
  clientSecret: 'b2'.repeat(32),
  redirectUri: 'http://localhost:8080/oauth',
  scopes: ['spark:all', 'spark:people_read'],
};

/** A seed with the test integration and two people. */
export const testSeed = {
  integrations: [
    {
      clientId: TEST_INTEGRATION.clientId,
      clientSecret: TEST_INTEGRATION.clientSecret,
      redirectUris: [TEST_INTEGRATION.redirectUri],
      scopes: TEST_INTEGRATION.scopes,
    },
  ],
  users: [{ email: 'alice@example.com', displayName: 'Alice Example', firstName: 'Alice', lastName: 'Example' }],
  bots: [],
  rooms: [],
};

/** Runs the authorization-code flow against an auto-consenting emulator. */
export async function grantFromEmulator(
  apiBase: string,
  clock?: () => number,
  scopes: string[] = TEST_INTEGRATION.scopes,
): Promise<{ integration: Integration; tokens: TokenSet; person: ConnectionPerson }> {
  const integration: Integration = { ...TEST_INTEGRATION, apiBase };
  const authorize = new URL(`${apiBase}/authorize`);
  authorize.search = new URLSearchParams({
    response_type: 'code',
    client_id: integration.clientId,
    redirect_uri: integration.redirectUri,
    scope: scopes.join(' '),
    state: 'st-1',
  }).toString();
  const res = await fetch(authorize, { redirect: 'manual' });
  const location = new URL(res.headers.get('location') ?? 'http://x/');
  const code = location.searchParams.get('code');
  if (!code) throw new Error(`emulator did not return a code (status ${res.status})`);
  const tokens = await exchangeCode(
    integration,
    {
      code,
      pending: {
        state: 'st-1',
        codeVerifier: '',
        redirectUri: integration.redirectUri,
        scopes,
        createdAt: Date.now(),
      },
    },
    clock ? { clock } : {},
  );
  const me = (await (
    await fetch(`${apiBase}/people/me`, { headers: { authorization: `Bearer ${tokens.accessToken}` } })
  ).json()) as { id: string; emails: string[]; displayName: string };
  return { integration, tokens, person: { id: me.id, emails: me.emails, displayName: me.displayName } };
}

/** Whether an access token works at the emulator's REST API. */
export async function tokenWorks(apiBase: string, accessToken: string): Promise<boolean> {
  const res = await fetch(`${apiBase}/people/me`, { headers: { authorization: `Bearer ${accessToken}` } });
  await res.body?.cancel();
  return res.status === 200;
}

/** Calls the emulator's control API. */
export async function control(url: string, path: string, body?: unknown): Promise<unknown> {
  const res = await fetch(`${url}/_emulator/${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`control ${path}: ${res.status} ${await res.text()}`);
  return res.headers.get('content-type')?.includes('json') ? res.json() : undefined;
}

/** Refresh-token grants the emulator granted. */
export async function refreshGrants(url: string): Promise<number> {
  return ((await control(url, 'stats')) as { grants: { refresh_token: number } }).grants.refresh_token;
}

/**
 * Stores a real grant from the emulator in `vault`: the test integration (scopes `spark:all`) and Alice's connection.
 */
export async function connectFromEmulator(
  vault: Pick<Vault, 'integrations' | 'connections'>,
  apiBase: string,
  clock?: () => number,
): Promise<Connection> {
  const grant = await grantFromEmulator(apiBase, clock);
  const integration = await vault.integrations.upsert({ ...grant.integration, scopes: ['spark:all'] });
  return vault.connections.saveFromGrant({
    integrationId: integration.id,
    tokens: grant.tokens,
    person: grant.person,
    requestedScopes: ['spark:all'],
  });
}
