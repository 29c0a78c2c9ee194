/**
 * The end of every login (browser, paste or device): find out who logged in, store the integration and the
 * connection (only now, so that an interrupted login writes nothing), and tell the user what was granted.
 */
import type { Integration, TokenSet } from '../../oauth/types.js';
import { CONFIGURED_OWNER, type Connection, LOCAL_OPERATOR, type Vault } from '../../vault/types.js';
import type { IdentityClaims } from '../../webex/person.js';
import type { Output } from '../ui/output.js';
import { terminalSafe as safe } from '../ui/terminal-safe.js';

/** Stores a completed grant and prints who logged in, the granted scopes, and any requested scope not granted. */
export async function completeLogin(args: {
  vault: Vault;
  out: Output;
  integration: Integration;
  tokens: TokenSet;
  requestedScopes: string[];
  signal: AbortSignal;
  /** The claims of the login's verified id_token, when it had one (else userinfo names the person). */
  claims?: IdentityClaims | undefined;
}): Promise<Connection> {
  const { vault, out, integration, tokens, requestedScopes } = args;
  // Who logged in: the web app's rule (people/me, else the id_token's sub, else userinfo), so a person gets one id.
  const { resolvePerson } = await import('../../webex/person.js');
  const { person } = await resolvePerson({
    apiBase: integration.apiBase,
    tokens,
    claims: args.claims,
    signal: args.signal,
  });
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
