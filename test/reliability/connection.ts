/**
 * Puts a real connection (a token pair granted by the emulator) into a vault, optionally with its access token
 * already expired in the vault's eyes (the grant is processed with a clock 15 days behind), plus broker API keys.
 */
import { exchangeCode } from '../../src/oauth/tokens.js';
import type { Integration } from '../../src/oauth/types.js';
import type { VaultInternals } from '../../src/vault/index.js';
import { INTEGRATION } from '../security/support.js';

/** The redirect URI registered for connections made outside a browser flow. */
export const PLAIN_REDIRECT = 'http://localhost:8080/oauth';

/** Grants a token pair for alice (or `email`, through the consent page) at the emulator and stores it; returns the connection id and its tokens. */
export async function seedConnection(
  vault: VaultInternals,
  apiBase: string,
  options: { expired?: boolean; email?: string; redirectUri?: string } = {},
) {
  const redirectUri = options.redirectUri ?? PLAIN_REDIRECT;
  const integration: Integration = { ...INTEGRATION, redirectUri, apiBase };
  const authorize = new URL(`${apiBase}/authorize`);
  authorize.search = new URLSearchParams({
    response_type: 'code',
    client_id: integration.clientId,
    redirect_uri: redirectUri,
    scope: INTEGRATION.scopes.join(' '),
    state: 'seed',
  }).toString();
  let res = await fetch(authorize, { redirect: 'manual' });
  if (res.status === 200 && options.email) {
    // No auto-consent: sign in as `email` on the emulator's consent page and accept.
    const requestId = /name="request" value="([^"]+)"/.exec(await res.text())?.[1] ?? '';
    res = await fetch(`${apiBase}/authorize`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ request: requestId, email: options.email, decision: 'accept' }).toString(),
    });
  }
  const code = new URL(res.headers.get('location') ?? 'http://x/').searchParams.get('code');
  if (!code) throw new Error(`emulator gave no code (${res.status})`);
  const skew = options.expired ? 15 * 86_400_000 : 0;
  const tokens = await exchangeCode(
    integration,
    {
      code,
      pending: { state: 'seed', codeVerifier: '', redirectUri, scopes: INTEGRATION.scopes, createdAt: Date.now() },
    },
    { clock: () => Date.now() - skew },
  );
  const me = (await (
    await fetch(`${apiBase}/people/me`, { headers: { authorization: `Bearer ${tokens.accessToken}` } })
  ).json()) as { id: string; emails: string[]; displayName: string };
  const integ = await vault.integrations.upsert({ ...integration, scopes: INTEGRATION.scopes });
  const connection = await vault.connections.saveFromGrant({
    integrationId: integ.id,
    tokens,
    person: { id: me.id, emails: me.emails, displayName: me.displayName },
    requestedScopes: INTEGRATION.scopes,
  });
  return { id: connection.id, tokens };
}

/** Makes `n` API keys for `connectionIds` (each key has its own rate limit) that may read tokens and force refreshes. */
export async function makeKeys(vault: VaultInternals, connectionIds: string[], n: number): Promise<string[]> {
  const keys: string[] = [];
  for (let i = 0; i < n; i++) {
    keys.push((await vault.apiKeys.create({ name: `k${i}`, connectionIds, permissions: ['token', 'refresh'] })).key);
  }
  return keys;
}

/** Whether an access token works at the emulator's REST API. */
export async function tokenWorks(apiBase: string, accessToken: string): Promise<boolean> {
  const res = await fetch(`${apiBase}/people/me`, { headers: { authorization: `Bearer ${accessToken}` } });
  await res.body?.cancel();
  return res.status === 200;
}
