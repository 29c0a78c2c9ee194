/**
 * The result page of a connection: the person, granted vs requested scopes, the masked token pair with reveal and
 * copy, expiry times, Refresh now, Try it, copy as curl / .env / JSON, the recent calls through the proxy, and Delete.
 */

import type { TokenCapStatus } from '../../vault/cap.js';
import type { RefreshRecord } from '../../vault/history.js';
import type { RecentProxyCall } from '../../vault/proxy-calls.js';
import type { Connection } from '../../vault/types.js';
import { html, type SafeHtml } from '../html.js';
import type { RevealedTokens, StoredConnection } from '../ports.js';
import type { TryResult } from '../session.js';
import { missingScopes, TRY_CALL_IDS, TRY_CALLS, type TryCall, type TryCallId } from '../try-calls.js';
import { lifecycleCard } from './lifecycle.js';
import { connectionPath } from './paths.js';
import { reauthAction } from './reauth.js';
import { authorizeButton } from './space.js';

/** "in 13 days", "in 5 hours", "2 minutes ago". */
export function relativeTime(targetMs: number, nowMs: number): string {
  const diff = targetMs - nowMs;
  const abs = Math.abs(diff);
  const units: [number, string][] = [
    [86_400_000, 'day'],
    [3_600_000, 'hour'],
    [60_000, 'minute'],
    [1000, 'second'],
  ];
  let text = 'now';
  for (const [size, name] of units) {
    if (abs >= size) {
      const n = Math.floor(abs / size);
      text = `${n} ${name}${n === 1 ? '' : 's'}`;
      break;
    }
  }
  if (text === 'now') return 'now';
  return diff >= 0 ? `in ${text}` : `${text} ago`;
}

/** Shows the first 6 and last 4 characters of a token. */
export function maskToken(token: string): string {
  return token.length <= 12 ? '••••' : `${token.slice(0, 6)}••••••••${token.slice(-4)}`;
}

/** What the page needs. */
export interface ConnectionModel {
  csrf: string;
  connection: StoredConnection;
  tokens: RevealedTokens | undefined;
  apiBase: string;
  now: number;
  tryResult: TryResult | undefined;
  notice?: string;
  /** Load the person's avatar (off in demo mode: the emulator's avatar URLs lead nowhere). */
  showAvatar: boolean;
  /** The person's standing against Webex's live-token cap (the lifecycle card). */
  tokenCap?: TokenCapStatus | undefined;
  /** The newest refreshes (the lifecycle card's timeline). */
  history?: RefreshRecord[];
  /** The newest calls through the broker's proxy, newest first (the "Recent calls" card); undefined: no call log. */
  recentCalls?: RecentProxyCall[] | undefined;
}

/** The "Recent calls" card: the connection's newest calls through the proxy (never a body or token). */
function recentCallsCard(calls: RecentProxyCall[]): SafeHtml {
  const when = (at: number) =>
    new Date(at)
      .toISOString()
      .replace('T', ' ')
      .replace(/\.\d+Z$/, ' UTC');
  return html`<section class="card" id="recent-calls">
<h2>Recent calls</h2>
<p class="muted">Calls made as this connection through the broker's proxy (<code>/api/v1/connections/…/proxy/…</code>), newest first; ids in paths show as <code>{id}</code>.</p>
${
  calls.length
    ? html`<table><thead><tr><th>When</th><th>Method</th><th>Path</th><th>Status</th><th>Duration</th><th>TrackingID</th></tr></thead><tbody>
${calls.map((c) => html`<tr><td>${when(c.at)}</td><td>${c.method}</td><td><code>${c.template}</code></td><td class="${c.status < 400 ? 'status-ok' : 'status-bad'}">${c.status}</td><td>${Math.round(c.durationMs)} ms</td><td><code>${c.trackingId ?? ''}</code></td></tr>`)}
</tbody></table>`
    : html`<p class="muted" id="no-recent-calls">No calls through the proxy yet.</p>`
}
</section>`;
}

function secret(id: string, label: string, value: string): SafeHtml {
  return html`<code class="secret" id="${id}" data-value="${value}" data-masked="${maskToken(value)}" data-shown="false">${maskToken(value)}</code>
<button type="button" class="small" data-reveal="${id}" aria-pressed="false" aria-label="Reveal ${label}">Reveal</button>
<button type="button" class="small" data-copy="${id}" aria-label="Copy ${label}">Copy</button>`;
}

function expiry(at: number, now: number): SafeHtml {
  const iso = new Date(at)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, ' UTC');
  return html`<time datetime="${new Date(at).toISOString()}">${iso}</time> <span class="${at > now ? 'muted' : 'status-bad'}">(${at > now ? 'expires' : 'expired'} ${relativeTime(at, now)})</span>`;
}

function tryPanel(r: TryResult, csrf: string, granted: string[], kind: Connection['kind']): SafeHtml {
  const ok = r.status >= 200 && r.status < 300;
  const fix = r.requiredScopes ?? [];
  return html`<div class="try-result" id="try-result">
<p><strong>${r.label}</strong> → <span class="${ok ? 'status-ok' : 'status-bad'}" id="try-status">HTTP ${r.status}</span> in ${Math.round(r.durationMs)} ms${r.trackingId ? html` · <span class="muted">TrackingID ${r.trackingId}</span>` : ''}</p>
${
  r.status === 403
    ? html`<div class="notice" id="try-explanation"><strong>Missing scope.</strong> This call needs ${fix.length ? fix.map((s, i) => html`${i ? ' or ' : ''}<code>${s}</code>`) : 'a scope this token does not have'}; the token was granted ${granted.length ? granted.map((s, i) => html`${i ? ', ' : ''}<code>${s}</code>`) : 'no scopes'}.
${fix[0] && (kind ?? 'integration') === 'integration' ? html`<p>${authorizeButton(csrf, [...new Set([...granted, fix.find((s) => s !== 'spark:all') ?? fix[0]])], `Authorize again with ${fix.find((s) => s !== 'spark:all') ?? fix[0]}`)}</p>` : ''}</div>`
    : ''
}
<pre>${JSON.stringify(r.body, null, 2)}</pre></div>`;
}

/** One Try-it call: a button, greyed with "needs <scope>" when the granted scopes do not allow it. */
function tryButton(id: TryCallId, path: string, csrf: string, granted: string[], email: string): SafeHtml {
  const call: TryCall = TRY_CALLS[id];
  const missing = missingScopes(call, granted);
  const noEmail = call.withOwnEmail === true && email === '';
  const note = missing.length
    ? html`needs ${missing.map((s, i) => html`${i ? ' and ' : ''}<code>${s}</code>`)}`
    : noEmail
      ? html`needs your email (<code>spark:people_read</code>)`
      : html`${call.what}`;
  return html`<li class="try-call${missing.length || noEmail ? ' unavailable' : ''}" data-endpoint="${id}"><form method="post" action="${path}/try" class="inline"><input type="hidden" name="_csrf" value="${csrf}"><input type="hidden" name="endpoint" value="${id}"><button type="submit" id="try-${id}"${missing.length ? html` class="muted"` : ''}${noEmail ? html` disabled` : ''} aria-describedby="try-${id}-note">${call.label}</button></form> <span class="muted" id="try-${id}-note">${note}</span></li>`;
}

/** The body of the result page. */
export function connectionView(m: ConnectionModel): SafeHtml {
  const c = m.connection;
  const email = c.person.email ?? c.person.emails?.[0] ?? '';
  const missing = c.requestedScopes.filter((s) => !c.scopes.includes(s));
  const t = m.tokens;
  const initial = (c.person.displayName.trim()[0] ?? '?').toUpperCase();
  const avatarOk = c.person.avatar && /^https?:\/\//.test(c.person.avatar);
  const path = connectionPath(c.id);
  const curl = t ? `curl -H "Authorization: Bearer ${t.accessToken}" ${m.apiBase}/people/me` : '';
  const env = t ? `WEBEX_ACCESS_TOKEN=${t.accessToken}\nWEBEX_REFRESH_TOKEN=${t.refreshToken}\n` : '';
  const json = t
    ? JSON.stringify(
        {
          access_token: t.accessToken,
          refresh_token: t.refreshToken,
          expires_at: new Date(t.expiresAt).toISOString(),
          refresh_token_expires_at: new Date(t.refreshExpiresAt).toISOString(),
          scopes: c.scopes,
        },
        null,
        2,
      )
    : '';
  return html`${m.notice ? html`<p class="notice" role="status">${m.notice}</p>` : ''}
<section class="card">
<div class="person">
<div class="avatar" aria-hidden="true"><span>${initial}</span>${m.showAvatar && avatarOk ? html`<img src="${c.person.avatar}" alt="">` : ''}</div>
<div><h1 id="person-name">${c.person.displayName}</h1><div class="muted">${email || 'Reading the name and email needs spark:people_read.'}</div>
<div>${c.status === 'active' ? html`<span class="badge ok">active</span>` : html`<span class="badge missing">${c.status}</span> ${reauthAction(c, m.csrf)}`}</div></div>
</div>
</section>
<section class="card">
<h2>Scopes</h2>
<p>Granted: ${c.scopes.map((s) => html`<span class="badge ok">${s}</span> `)}</p>
<p class="muted">Requested: ${c.requestedScopes.join(' ')}</p>
${missing.length ? html`<p class="notice">Requested but not granted: ${missing.map((s) => html`<code>${s}</code> `)} — is it registered on the integration?</p>` : ''}
</section>
<section class="card">
<h2>Token pair</h2>
${
  t
    ? html`<dl class="kv">
<dt>Access token</dt><dd>${secret('access-token', 'access token', t.accessToken)}</dd>
<dt>Expires</dt><dd>${expiry(t.expiresAt, m.now)}</dd>
<dt>Refresh token</dt><dd>${secret('refresh-token', 'refresh token', t.refreshToken)}</dd>
<dt>Expires</dt><dd>${expiry(t.refreshExpiresAt, m.now)}</dd>
</dl>
<div class="row">
<form method="post" action="${path}/refresh" class="inline"><input type="hidden" name="_csrf" value="${m.csrf}"><button type="submit" id="refresh">Refresh now</button></form>
<span class="muted">Refreshing mints a new access token; the old one stays valid until it expires.</span>
</div>
<h2>Copy</h2>
<div class="row">
<button type="button" data-copy="copy-curl">Copy as curl</button>
<button type="button" data-copy="copy-env">Copy as .env</button>
<button type="button" data-copy="copy-json">Copy as JSON</button>
</div>
<span hidden id="copy-curl" data-value="${curl}"></span><span hidden id="copy-env" data-value="${env}"></span><span hidden id="copy-json" data-value="${json}"></span>`
    : html`<p class="muted">The tokens of this connection cannot be shown.</p>`
}
</section>
${lifecycleCard({ connection: c, tokenCap: m.tokenCap, history: m.history ?? [], csrf: m.csrf, now: m.now })}
${m.recentCalls ? recentCallsCard(m.recentCalls) : ''}
<section class="card" id="try">
<h2>Try it</h2>
<p class="muted">Common read calls, made with this connection's access token. Calls the granted scopes do not allow are greyed; trying one shows Webex's refusal and the scope that fixes it.</p>
<ul class="try-calls">${TRY_CALL_IDS.map((id) => tryButton(id, path, m.csrf, c.scopes, email))}</ul>
${m.tryResult ? tryPanel(m.tryResult, m.csrf, c.scopes, c.kind) : ''}
</section>
<section class="card">
<h2>Delete</h2>
<p class="muted">Forget this connection here (the token pair stays valid at Webex until it expires).</p>
<form method="post" action="${path}/delete"><input type="hidden" name="_csrf" value="${m.csrf}"><button type="submit" class="danger" id="delete">Delete connection</button></form>
</section>`;
}
