/**
 * The admin dashboard `/connections`: the connections a page at a time (with every connection's count by status),
 * each with its person, scopes, status, last refresh and expiries, actions (refresh, delete, authorize again when
 * `needs_reauth`) and a small timeline of its expiries and refreshes drawn as inline SVG (presentation attributes
 * only: the CSP allows no inline styles, and no CDN is used).
 */
import type { Connection } from '../../vault/types.js';
import { html, type SafeHtml } from '../html.js';
import { reauthAction } from './reauth.js';

const DAY = 86_400_000;

/** What the dashboard shows. */
export interface AdminConnectionsModel {
  /** One page of the connections, oldest first. */
  connections: Connection[];
  /** Every connection's count by status (not just this page's). */
  counts: Record<Connection['status'], number>;
  /** How many connections come before this page. */
  offset: number;
  /** The links to the next and previous pages, when there are. */
  nextHref?: string | undefined;
  previousHref?: string | undefined;
  now: number;
  csrf: string;
  keepaliveDays: number;
  /** A short status line after an action. */
  notice?: string | undefined;
  /** Who owns what: owner id → a label (the account's email, or "local operator"). */
  owners: Map<string, string>;
  /** A key id stored data was recently met under that this server's ring lacks (a rotation elsewhere). */
  missingKeyId?: string | undefined;
}

/** The banner while this server lacks a key stored data is encrypted under. */
function missingKeyBanner(keyId: string): SafeHtml {
  return html`<section class="card error" role="alert" id="key-missing">
<h2>Encryption key "${keyId}" is not loaded</h2>
<p>Stored data is encrypted under key <code>${keyId}</code>, which this server's key ring lacks (another process rotated to it), so requests that need it get 503.
Load the new ring: with <code>WEBEX_AUTH_KEYS_FILE</code>, update the file and send SIGHUP (<code>kill -HUP &lt;pid&gt;</code>); else restart with the new <code>WEBEX_AUTH_KEYS</code>.</p>
</section>`;
}

const fmt = (ms: number | undefined) => (ms ? new Date(ms).toISOString().replace('T', ' ').slice(0, 16) : '—');

function days(ms: number, now: number): string {
  const d = (ms - now) / DAY;
  if (Math.abs(d) < 1) return d >= 0 ? `in ${Math.round((ms - now) / 3_600_000)} h` : 'expired';
  return d >= 0 ? `in ${Math.round(d)} d` : `${Math.round(-d)} d ago`;
}

/**
 * The timeline of one connection: from its creation to its refresh-token expiry, with the last refresh, the access
 * token's expiry, the keep-alive window (the last `keepaliveDays` before the refresh token dies) and now.
 */
export function timelineSvg(c: Connection, now: number, keepaliveDays: number): SafeHtml {
  const W = 320;
  const H = 44;
  const start = Math.min(c.createdAt, now);
  const end = Math.max(c.refreshExpiresAt, now, c.accessExpiresAt) + DAY;
  const x = (t: number) => (8 + ((t - start) / (end - start)) * (W - 16)).toFixed(1);
  const keepFrom = c.refreshExpiresAt - keepaliveDays * DAY;
  const dot = (t: number | undefined, fill: string, label: string) =>
    t ? html`<circle cx="${x(t)}" cy="22" r="4" fill="${fill}"><title>${label} ${fmt(t)}</title></circle>` : '';
  const tick = (t: number, stroke: string, label: string) =>
    html`<line x1="${x(t)}" x2="${x(t)}" y1="10" y2="34" stroke="${stroke}" stroke-width="2"><title>${label} ${fmt(t)}</title></line>`;
  return html`<svg class="timeline" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="Timeline: created ${fmt(c.createdAt)}, last refresh ${fmt(c.lastRefreshAt)}, access token expires ${fmt(c.accessExpiresAt)}, refresh token expires ${fmt(c.refreshExpiresAt)}">
<line x1="8" x2="${W - 8}" y1="22" y2="22" stroke="#999" stroke-width="1"/>
<rect x="${x(keepFrom)}" y="16" width="${Math.max(0, Number(x(c.refreshExpiresAt)) - Number(x(keepFrom))).toFixed(1)}" height="12" fill="#f5d48a"><title>keep-alive window (last ${keepaliveDays} days)</title></rect>
${tick(c.accessExpiresAt, '#2a7ae2', 'access token expires')}
${tick(c.refreshExpiresAt, '#c0392b', 'refresh token expires')}
${dot(c.createdAt, '#555', 'created')}
${dot(c.lastRefreshAt, '#27ae60', 'last refresh')}
<line x1="${x(now)}" x2="${x(now)}" y1="4" y2="40" stroke="#000" stroke-dasharray="2 2"><title>now</title></line>
<text x="8" y="42" font-size="9" fill="#555">${fmt(c.createdAt).slice(0, 10)}</text>
<text x="${W - 8}" y="42" font-size="9" fill="#555" text-anchor="end">${fmt(c.refreshExpiresAt).slice(0, 10)}</text>
</svg>`;
}

function row(c: Connection, m: AdminConnectionsModel): SafeHtml {
  const base = `/admin/connections/${encodeURIComponent(c.id)}`;
  const csrf = html`<input type="hidden" name="_csrf" value="${m.csrf}">`;
  return html`<section class="card" id="connection-${c.id}">
<h2>${c.displayName} <span class="muted">${c.personEmail}</span> ${
    c.status === 'active'
      ? html`<span class="badge ok">active</span>`
      : html`<span class="badge missing">${c.status}</span> <code class="reason">${c.needsReauthReason ?? 'refresh_refused'}</code>`
  }</h2>
<dl class="kv">
<dt>Connection</dt><dd><code>${c.id}</code></dd>
<dt>Kind</dt><dd class="kind">${c.kind ?? 'integration'}${c.appId ? html` <span class="muted">app <code>${c.appId}</code></span>` : ''}${
    c.orgId && c.kind === 'service_app' ? html` <span class="muted">org <code>${c.orgId}</code></span>` : ''
  }</dd>
<dt>Owner</dt><dd class="owner">${m.owners.get(c.ownerId) ?? c.ownerId}</dd>
<dt>Scopes</dt><dd>${c.scopes.map((s) => html`<span class="badge ok">${s}</span> `)}</dd>
<dt>Last refresh</dt><dd>${fmt(c.lastRefreshAt)}${c.lastError ? html` <span class="badge missing">${c.lastError}</span>` : ''}</dd>
<dt>Access token</dt><dd>expires ${fmt(c.accessExpiresAt)} (${days(c.accessExpiresAt, m.now)})</dd>
<dt>Refresh token</dt><dd>expires ${fmt(c.refreshExpiresAt)} (${days(c.refreshExpiresAt, m.now)})</dd>
</dl>
${timelineSvg(c, m.now, m.keepaliveDays)}
<div class="row">
<form method="post" action="${base}/refresh" class="inline">${csrf}<button type="submit">Refresh now</button></form>
<form method="post" action="${base}/delete" class="inline">${csrf}<button type="submit" class="danger">Delete</button></form>
${c.status === 'needs_reauth' ? reauthAction(c, m.csrf) : ''}
</div>
</section>`;
}

/** The dashboard body. */
export function adminConnectionsView(m: AdminConnectionsModel): SafeHtml {
  const byStatus = m.counts;
  const total = byStatus.active + byStatus.needs_reauth;
  const shown = m.connections.length ? html` Showing ${m.offset + 1}–${m.offset + m.connections.length}.` : '';
  const pages =
    m.nextHref || m.previousHref
      ? html`<nav class="pages">${m.previousHref ? html`<a href="${m.previousHref}" rel="prev">Previous connections</a> ` : ''}${m.nextHref ? html`<a href="${m.nextHref}" rel="next">Next connections</a>` : ''}</nav>`
      : '';
  return html`${m.missingKeyId ? missingKeyBanner(m.missingKeyId) : ''}${m.notice ? html`<p class="notice" role="status">${m.notice}</p>` : ''}
<section class="card">
<h1>Connections</h1>
<p>${total} connection${total === 1 ? '' : 's'}: ${byStatus.active} active, ${byStatus.needs_reauth} needing re-authorization.${shown}
Keep-alive refreshes a connection when its refresh token has less than ${m.keepaliveDays} days left.</p>
</section>
${m.connections.length ? m.connections.map((c) => row(c, m)) : html`<p class="muted">${total ? 'No connections on this page.' : html`No connections yet. <a href="/">Authorize one</a>.`}</p>`}${pages}`;
}
