/**
 * The end of every login (browser, paste or device): find out who logged in, store the integration and the
 * connection (only now, so that an interrupted login writes nothing), and tell the user what was granted.
 */
import type { Integration, TokenSet } from '../../oauth/types.js';
import {
  CONFIGURED_OWNER,
  type Connection,
  type ConnectionPerson,
  LOCAL_OPERATOR,
  type Vault,
} from '../../vault/types.js';
import type { Output } from '../ui/output.js';
import { terminalSafe as safe } from '../ui/terminal-safe.js';

/** Who the token belongs to: people/me, else OIDC userinfo, else a placeholder (no spark:people_read). */
async function personOf(integration: Integration, tokens: TokenSet, signal: AbortSignal): Promise<ConnectionPerson> {
  const { WebexClient } = await import('../../webex/client.js');
  const client = new WebexClient({
    apiBase: integration.apiBase,
    accessToken: tokens.accessToken,
    fetch: (input, init) => fetch(input, { ...init, signal }),
  });
  try {
    const me = await client.peopleMe();
    return { id: me.id, emails: me.emails, displayName: me.displayName, avatar: me.avatar, orgId: me.orgId };
  } catch (error) {
    if ((error as { status?: number }).status !== 403) throw error;
  }
  if (tokens.scopes.includes('openid')) {
    const { fetchUserInfo } = await import('../../oauth/oidc.js');
    const info = await fetchUserInfo(integration.apiBase, tokens.accessToken, { signal });
    const email = typeof info.email === 'string' ? info.email : undefined;
    return {
      id: info.sub,
      emails: email ? [email] : [],
      displayName: typeof info.name === 'string' ? info.name : (email ?? info.sub),
    };
  }
  // Same placeholder as the web app: the connection is still stored, under this token's identity.
  // The id is a hash (never a piece of a token): stable for this grant, since Webex does not rotate refresh tokens.
  const { createHash } = await import('node:crypto');
  const id = `unknown-${createHash('sha256').update(tokens.refreshToken).digest('hex').slice(0, 12)}`;
  return { id, emails: [], displayName: 'Unknown person (no spark:people_read)' };
}

/** Stores a completed grant and prints who logged in, the granted scopes, and any requested scope not granted. */
export async function completeLogin(args: {
  vault: Vault;
  out: Output;
  integration: Integration;
  tokens: TokenSet;
  requestedScopes: string[];
  signal: AbortSignal;
}): Promise<Connection> {
  const { vault, out, integration, tokens, requestedScopes } = args;
  const person = await personOf(integration, tokens, args.signal);
  // From here on nothing is cancelled: the two writes are quick, and the integration row alone is harmless.
  // The integration comes from the CLI's configuration: it is the configured integration, one row shared with the web
  // app (which upserts the same one). The connection is the local operator's: the CLI holds the key ring.
  const record = await vault.integrations.upsert({
    ownerId: CONFIGURED_OWNER,
    clientId: integration.clientId,
    clientSecret: integration.clientSecret,
    redirectUri: integration.redirectUri,
    apiBase: integration.apiBase,
    scopes: requestedScopes,
  });
  const connection = await vault.connections.saveFromGrant({
    ownerId: LOCAL_OPERATOR,
    integrationId: record.id,
    tokens,
    person,
    requestedScopes,
  });
  const { scopeDiff } = await import('../../oauth/scopes.js');
  const diff = scopeDiff(requestedScopes, tokens.scopes);
  const email = connection.personEmail ? ` (${safe(connection.personEmail)})` : '';
  out.success(`Logged in as ${out.err.bold(safe(connection.displayName))}${email}`);
  out.info(`  connection ${connection.id}`);
  out.info(`  granted scopes: ${safe(diff.granted.join(' ')) || '(none)'}`);
  if (diff.missing.length) out.warn(`Webex did not grant: ${safe(diff.missing.join(' '))}`);
  out.data(
    {
      connection: {
        id: connection.id,
        person: connection.person,
        status: connection.status,
        accessExpiresAt: new Date(connection.accessExpiresAt).toISOString(),
        refreshExpiresAt: new Date(connection.refreshExpiresAt).toISOString(),
      },
      scopes: diff,
    },
    () => '',
  );
  return connection;
}
