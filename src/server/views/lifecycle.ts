/**
 * The refresh-lifecycle card of the connection page: where the person stands against Webex's live-token cap, a failing
 * refresh's back-off, the refresh timeline, and "Revoke at Webex". No secret is ever shown.
 */
import { capCount, type TokenCapStatus } from '../../vault/cap.js';
import type { RefreshRecord } from '../../vault/history.js';
import { html, type SafeHtml } from '../html.js';
import type { StoredConnection } from '../ports.js';
import { connectionPath } from './paths.js';

/** What the card needs. */
export interface LifecycleModel {
  connection: StoredConnection;
  tokenCap: TokenCapStatus | undefined;
  history: RefreshRecord[];
  csrf: string;
  now: number;
}

const when = (ms: number) =>
  new Date(ms)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, ' UTC');

function capLine(cap: TokenCapStatus): SafeHtml {
  const webex = cap.webex ? html` (Webex counts ${cap.webex.accessTokens}, read ${when(cap.webex.checkedAt)})` : '';
  const base = html`${capCount(cap.used, cap.cap)} of ${cap.cap} live access tokens (${cap.percent} %; minted by this broker: ${capCount(cap.minted, cap.cap)})${webex}`;
  if (cap.refusing) {
    return html`<p class="notice" id="token-cap" role="status">${base}. Forced refreshes are refused at ${cap.refuseAt} % so Webex's cap is never reached; the current token is still served while valid, and keep-alive refreshes still run.</p>`;
  }
  if (cap.warning) return html`<p class="notice" id="token-cap">${base}: nearing Webex's cap.</p>`;
  return html`<p id="token-cap">${base}.</p>`;
}

/** The lifecycle card. */
export function lifecycleCard(m: LifecycleModel): SafeHtml {
  const c = m.connection;
  const path = connectionPath(c.id);
  const failing = c.refreshFailing
    ? html`<p class="notice" id="refresh-failing" role="status">Refreshes are failing since ${when(c.failingSince ?? m.now)} (${c.refreshFailures} in a row, last status ${c.lastErrorStatus ?? 'none'}). The connection stays active; the next attempt is at ${when(c.nextAttemptAt ?? m.now)}.</p>`
    : '';
  const reason =
    c.status === 'needs_reauth'
      ? html`<p class="notice">Needs re-authorization: ${c.needsReauthReason ?? 'refresh_refused'}.</p>`
      : '';
  return html`<section class="card" id="lifecycle">
<h2>Refreshes</h2>
${m.tokenCap ? capLine(m.tokenCap) : ''}
${failing}${reason}
${
  m.history.length
    ? html`<table class="timeline" id="refresh-history"><thead><tr><th>When</th><th>Why</th><th>Outcome</th><th>Status</th><th>Took</th></tr></thead><tbody>
${m.history.map((h) => html`<tr><td>${when(h.at)}</td><td>${h.kind}</td><td>${h.outcome}${h.error ? html` <code>${h.error}</code>` : ''}</td><td>${h.status ?? ''}</td><td>${h.durationMs} ms</td></tr>`)}
</tbody></table>`
    : html`<p class="muted" id="refresh-history">No refresh yet.</p>`
}
<h2>Revoke at Webex</h2>
<p class="muted">Deletes this grant at Webex through a connected admin of the person's org (scopes identity:tokens_read and identity:tokens_write): its tokens stop working everywhere.</p>
<form method="post" action="${path}/revoke-at-webex"><input type="hidden" name="_csrf" value="${m.csrf}"><button type="submit" class="danger" id="revoke-at-webex">Revoke at Webex</button></form>
</section>`;
}
