/**
 * How a connection is shown: the JSON shape of `--json` and the text lines, shared by status, list, whoami, refresh;
 * and how its owner is (the local operator, or a team member who authorized it on the web).
 */
import { type Connection, type ConnectionKind, LOCAL_OPERATOR, type Vault } from '../../vault/types.js';
import { formatExpiry } from './format.js';
import type { Styles } from './output.js';
import { terminalSafe } from './terminal-safe.js';

/** The emails of the accounts that own connections or keys, by account id (see {@link ownerEmails}). */
export type OwnerEmails = ReadonlyMap<string, string>;

/** Looks up the email of each account among `ownerIds` (the local operator has none; unknown ids are left out). */
export async function ownerEmails(vault: Pick<Vault, 'accounts'>, ownerIds: Iterable<string>): Promise<OwnerEmails> {
  const emails = new Map<string, string>();
  const accounts = [...new Set(ownerIds)].filter((id) => id !== LOCAL_OPERATOR);
  await Promise.all(
    accounts.map(async (id) => {
      const account = await vault.accounts.get(id);
      if (account) emails.set(id, account.email);
    }),
  );
  return emails;
}

/** An owner as printed: `local operator`, else the account id and, when known, its email (terminal-safe). */
export function ownerText(ownerId: string, emails: OwnerEmails = new Map()): string {
  if (ownerId === LOCAL_OPERATOR) return 'local operator';
  const email = emails.get(ownerId);
  return terminalSafe(email ? `${ownerId} (${email})` : ownerId);
}

/** An owner as printed with `--json`: its id, the text {@link ownerText} shows, and the account's email if known. */
export function ownerJson(ownerId: string, emails: OwnerEmails = new Map()): Record<string, unknown> {
  return { id: ownerId, label: ownerText(ownerId, emails), email: emails.get(ownerId) };
}

/** A connection as printed with `--json` (no token material; times as ISO 8601). */
export function connectionJson(c: Connection, owners?: OwnerEmails): Record<string, unknown> {
  const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());
  return {
    id: c.id,
    owner: ownerJson(c.ownerId, owners),
    integrationId: c.integrationId,
    kind: c.kind ?? 'integration',
    person: { id: c.personId, email: c.personEmail, displayName: c.displayName },
    ...(c.orgId ? { orgId: c.orgId } : {}),
    ...(c.appId ? { appId: c.appId, fetcherConnectionId: c.fetcherConnectionId } : {}),
    status: c.status,
    ...(c.needsReauthReason ? { needsReauthReason: c.needsReauthReason } : {}),
    scopes: c.scopes,
    requestedScopes: c.requestedScopes,
    accessExpiresAt: iso(c.accessExpiresAt),
    refreshExpiresAt: iso(c.refreshExpiresAt),
    lastRefreshAt: iso(c.lastRefreshAt),
    lastError: c.lastError,
    createdAt: iso(c.createdAt),
    updatedAt: iso(c.updatedAt),
  };
}

/** The status word, coloured: green active, red needs_reauth, yellow when the access token has expired. */
export function statusWord(c: Connection, now: number, s: Styles): string {
  if (c.status === 'needs_reauth') return s.red(`needs_reauth (${c.needsReauthReason ?? 'refresh_refused'})`);
  if (c.refreshExpiresAt <= now) return s.red('expired');
  return c.accessExpiresAt <= now ? s.yellow('active (access token expired; refreshes on use)') : s.green('active');
}

/** The multi-line text block of one connection, as `status` prints it (Webex text made terminal-safe). */
export function connectionBlock(
  c: Connection,
  now: number,
  s: Styles,
  tokens?: { access: string; refresh: string },
  owners?: OwnerEmails,
): string {
  const safe = terminalSafe;
  const lines = [
    `${s.bold(safe(c.displayName))}${c.personEmail ? ` <${safe(c.personEmail)}>` : ''}  ${s.dim(c.id)}`,
    `  owner:          ${ownerText(c.ownerId, owners)}`,
    `  kind:           ${kindText(c)}`,
    `  status:         ${statusWord(c, now, s)}`,
    `  access token:   ${tokens ? `${tokens.access}  ` : ''}${formatExpiry(c.accessExpiresAt, now)}`,
    `  refresh token:  ${tokens ? `${tokens.refresh}  ` : ''}${formatExpiry(c.refreshExpiresAt, now)}`,
    `  scopes:         ${safe(c.scopes.join(' ')) || '(none)'}`,
  ];
  const missing = c.requestedScopes.filter((x) => !c.scopes.includes(x));
  if (missing.length) lines.push(`  not granted:    ${s.yellow(safe(missing.join(' ')))}`);
  if (c.lastError) lines.push(`  last error:     ${safe(c.lastError)}`);
  if (c.status === 'needs_reauth') lines.push(`  ${s.yellow(`→ ${REAUTH_HINT[c.kind ?? 'integration']}`)}`);
  return `${lines.join('\n')}\n`;
}

/** What to do about a connection that needs re-authorization, per kind. */
const REAUTH_HINT: Record<ConnectionKind, string> = {
  integration: 'run `webex-auth login` to authorize again',
  service_app: 'have an admin authorize the app in Control Hub, then run `webex-auth service-app add` again',
  bot: "store the bot's new token with `webex-auth bot add`",
};

/** The kind of a connection, with its app and org for a Service App (terminal-safe). */
export function kindText(c: Connection): string {
  const kind = c.kind ?? 'integration';
  if (kind !== 'service_app') return kind;
  return terminalSafe(`service_app ${c.appId ?? ''} in org ${c.orgId ?? '?'}`);
}
