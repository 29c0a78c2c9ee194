/**
 * Which integration `login` runs with and which scopes it asks for: from `--auth-url` (the portal's "OAuth
 * Authorization URL"), flags, the configuration, or the CLI's integration already in the store, in that order.
 */
import type { Config } from '../../config.js';
import type { Integration } from '../../oauth/types.js';
import { CONFIGURED_OWNER, type IntegrationRecord, LOCAL_OPERATOR, type Vault } from '../../vault/types.js';
import { loadCliConfig, type Overrides } from '../context.js';
import { CliError, type CommandIO, EXIT } from '../io.js';
import { readSecret } from '../ui/prompt.js';

/** The scope asked for when nothing says otherwise: least privilege that still lets `whoami` name the person. */
export const DEFAULT_SCOPES = ['spark:people_read'];

/** Login flags that choose the integration. */
export interface TargetFlags {
  'client-id'?: string;
  'client-secret'?: string;
  'redirect-uri'?: string;
  'auth-url'?: string;
  scopes?: string;
  port?: string;
}

/** The resolved login target. */
export interface LoginTarget {
  config: Config;
  integration: Integration;
  scopes: string[];
}

function withPort(redirectUri: string, port: string | undefined): string {
  if (port === undefined) return redirectUri;
  if (!/^\d{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65535) {
    throw new CliError(`invalid --port "${port.slice(0, 20)}": expected 1-65535`, EXIT.usage);
  }
  const url = new URL(redirectUri);
  url.port = port;
  return url.toString();
}

/** The IO with no client id in the environment (to load the rest of the configuration while a secret is missing). */
function withoutClient(io: CommandIO): CommandIO {
  return { ...io, env: { ...io.env, WEBEX_CLIENT_ID: undefined, CLIENT_ID: undefined } };
}

/** The configuration of a login, plus what `--auth-url` said and a client id still missing its secret. */
export interface ResolvedConfig {
  config: Config;
  pastedScopes?: string[] | undefined;
  needSecretFor?: string | undefined;
}

/** Loads the configuration with the login flags; asks for a missing client secret when it can. */
export async function resolveConfig(io: CommandIO, flags: TargetFlags): Promise<ResolvedConfig> {
  const overrides: Overrides = {
    WEBEX_CLIENT_ID: flags['client-id'],
    WEBEX_CLIENT_SECRET: flags['client-secret'],
    WEBEX_REDIRECT_URI: flags['redirect-uri'],
    WEBEX_SCOPES: flags.scopes,
  };
  let pastedScopes: string[] | undefined;
  if (flags['auth-url'] !== undefined) {
    const { parseAuthorizationUrl } = await import('../../server/paste.js');
    // The configured API base is accepted too, so that a URL from a local emulator or a custom base works.
    const base = (await loadCliConfig(withoutClient(io))).apiBase;
    const pasted = parseAuthorizationUrl(flags['auth-url'], [new URL(base).origin]);
    if (!pasted.ok) throw new CliError(`--auth-url: ${pasted.message}`, EXIT.usage);
    overrides.WEBEX_CLIENT_ID = pasted.integration.clientId;
    overrides.WEBEX_REDIRECT_URI ??= pasted.integration.redirectUri;
    overrides.WEBEX_API_BASE = pasted.integration.apiBase;
    pastedScopes = pasted.integration.scopes;
  }
  try {
    return { config: await loadCliConfig(io, overrides), pastedScopes };
  } catch (error) {
    const missingSecret =
      error instanceof Error &&
      (error as { setting?: string }).setting === 'WEBEX_CLIENT_SECRET' &&
      !flags['client-secret'];
    if (!missingSecret) throw error;
    // Try the config without the client id (for the store), and find the secret there or ask for it.
    const config = await loadCliConfig(withoutClient(io), { ...overrides, WEBEX_CLIENT_ID: undefined });
    return {
      config,
      pastedScopes,
      needSecretFor: overrides.WEBEX_CLIENT_ID ?? io.env.WEBEX_CLIENT_ID ?? io.env.CLIENT_ID,
    };
  }
}

/**
 * The integrations the CLI may take a secret from: the configured one (which `login` stores) and the local
 * operator's (rows from before owners). Integrations team members brought on the web are theirs, never used here.
 */
const CLI_OWNERS = [CONFIGURED_OWNER, LOCAL_OPERATOR];

/** The CLI's stored integration with this client id and API base, if any (the configured row first). */
async function findOwn(vault: Vault, clientId: string, apiBase: string): Promise<IntegrationRecord | undefined> {
  for (const owner of CLI_OWNERS) {
    const found = await vault.integrations.findByClientId(clientId, apiBase, owner);
    if (found) return found;
  }
  return undefined;
}

/** The CLI's most recently stored integration, if any. */
async function latestOwn(vault: Vault): Promise<IntegrationRecord | undefined> {
  const own = (await Promise.all(CLI_OWNERS.map((owner) => vault.integrations.list(owner)))).flat();
  return own.sort((a, b) => b.createdAt - a.createdAt)[0];
}

/** Reads a client secret from the terminal (the caller has said what is wanted). */
async function askSecret(io: CommandIO, signal: AbortSignal): Promise<string> {
  io.stderr.write('Client secret (from your integration at developer.webex.com; not shown): ');
  const line = (await readSecret(io.stdin, signal))?.trim();
  io.stderr.write('\n');
  if (!line)
    throw new CliError('no client secret given', EXIT.usage, 'Pass --client-secret or set WEBEX_CLIENT_SECRET.');
  return line;
}

/**
 * Resolves the integration (with its secret) and the scopes to request.
 * @throws {CliError} exit 2 when no integration is configured or a secret is missing and cannot be asked for.
 */
export async function resolveTarget(
  io: CommandIO,
  flags: TargetFlags,
  vault: Vault,
  resolved: ResolvedConfig,
  signal: AbortSignal,
): Promise<LoginTarget> {
  const { config } = resolved;
  const { parseScopes, validateScopes } = await import('../../oauth/scopes.js');
  let clientId = config.clientId ?? resolved.needSecretFor;
  let clientSecret = config.clientSecret;
  let redirectUri = config.redirectUri;
  let apiBase = config.apiBase;
  let storedScopes: string[] = [];
  const explicitRedirect = Boolean(
    flags['redirect-uri'] ?? flags['auth-url'] ?? io.env.WEBEX_REDIRECT_URI ?? io.env.REDIRECT_URI,
  );
  const stored = clientId ? await findOwn(vault, clientId, apiBase) : await latestOwn(vault);
  if (stored && (!clientId || !clientSecret)) {
    const full = await vault.getIntegrationWithSecret(stored.id);
    if (full) {
      clientId = full.clientId;
      clientSecret ??= full.clientSecret;
      apiBase = full.apiBase;
      if (!explicitRedirect) redirectUri = full.redirectUri;
      storedScopes = full.scopes;
    }
  }
  if (!clientId) {
    throw new CliError(
      'no Webex integration configured',
      EXIT.usage,
      "Set WEBEX_CLIENT_ID and WEBEX_CLIENT_SECRET (or pass --client-id/--client-secret, or --auth-url '<OAuth Authorization URL>').",
    );
  }
  if (!clientSecret) {
    if (!io.isTTY) {
      throw new CliError(
        `no client secret for integration ${clientId.slice(0, 12)}…`,
        EXIT.usage,
        'Pass --client-secret or set WEBEX_CLIENT_SECRET.',
      );
    }
    clientSecret = await askSecret(io, signal);
  }
  const wanted = flags.scopes
    ? parseScopes(flags.scopes)
    : resolved.pastedScopes?.length
      ? resolved.pastedScopes
      : config.scopes.length
        ? config.scopes
        : storedScopes.length
          ? storedScopes
          : DEFAULT_SCOPES;
  const scopes = validateScopes(wanted);
  return {
    config,
    integration: { clientId, clientSecret, redirectUri: withPort(redirectUri, flags.port), apiBase },
    scopes,
  };
}
