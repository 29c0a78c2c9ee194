/** How a connection is shown: the JSON shape of `--json` and the text lines, shared by status, list, whoami, refresh. */
import type { Connection } from '../../vault/types.js';
import { formatCountdown } from './format.js';
import type { Styles } from './output.js';

/** A connection as printed with `--json` (no token material; times as ISO 8601). */
export function connectionJson(c: Connection): Record<string, unknown> {
  const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());
  return {
    id: c.id,
    integrationId: c.integrationId,
    person: { id: c.personId, email: c.personEmail, displayName: c.displayName },
    status: c.status,
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
  if (c.status === 'needs_reauth') return s.red('needs_reauth');
  if (c.refreshExpiresAt <= now) return s.red('expired');
  return c.accessExpiresAt <= now ? s.yellow('active (access token expired; refreshes on use)') : s.green('active');
}

/** The multi-line text block of one connection, as `status` prints it. */
export function connectionBlock(
  c: Connection,
  now: number,
  s: Styles,
  tokens?: { access: string; refresh: string },
): string {
  const lines = [
    `${s.bold(c.displayName)}${c.personEmail ? ` <${c.personEmail}>` : ''}  ${s.dim(c.id)}`,
    `  status:         ${statusWord(c, now, s)}`,
    `  access token:   ${tokens ? `${tokens.access}  ` : ''}expires ${formatCountdown(c.accessExpiresAt, now)}`,
    `  refresh token:  ${tokens ? `${tokens.refresh}  ` : ''}expires ${formatCountdown(c.refreshExpiresAt, now)}`,
    `  scopes:         ${c.scopes.join(' ') || '(none)'}`,
  ];
  const missing = c.requestedScopes.filter((x) => !c.scopes.includes(x));
  if (missing.length) lines.push(`  not granted:    ${s.yellow(missing.join(' '))}`);
  if (c.lastError) lines.push(`  last error:     ${c.lastError}`);
  if (c.status === 'needs_reauth') lines.push(`  ${s.yellow('→ run `webex-auth login` to authorize again')}`);
  return `${lines.join('\n')}\n`;
}
