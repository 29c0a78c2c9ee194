/**
 * The audit log page `/audit`: newest first, 50 a page, times in UTC, an action filter (a GET form: it changes
 * nothing), and a link to older entries. Every value is escaped by the `html` helper: display names and emails come
 * from Webex.
 */
import { AUDIT_ACTIONS, actorText } from '../../vault/audit.js';
import type { AuditAction, AuditEntry } from '../../vault/types.js';
import { html, type SafeHtml } from '../html.js';

/** What the page shows. */
export interface AuditPageModel {
  entries: AuditEntry[];
  /** An admin sees every entry; a member the entries of their things and of their own actions. */
  everyone: boolean;
  /** The action filter in force. */
  action: AuditAction | undefined;
  /** The link to the next (older) page, when there is one. */
  olderHref: string | undefined;
  /** Whether this is a later page (a link back to the newest is shown). */
  paged: boolean;
  retentionDays: number;
}

/** An epoch-ms time as `YYYY-MM-DD HH:MM:SS UTC`. */
export function utc(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

function row(e: AuditEntry): SafeHtml {
  return html`<tr class="audit-entry" data-action="${e.action}">
<td><time datetime="${new Date(e.at).toISOString()}">${utc(e.at)}</time></td>
<td class="actor">${actorText(e.actor)}</td>
<td><code>${e.action}</code></td>
<td>${e.target ? html`<code>${e.target}</code>` : ''}</td>
<td>${e.address ?? ''}</td>
<td class="detail">${e.detail ?? ''}</td>
</tr>`;
}

/** The page body. */
export function auditView(m: AuditPageModel): SafeHtml {
  const options = AUDIT_ACTIONS.map(
    (a) => html`<option value="${a}"${a === m.action ? html` selected` : ''}>${a}</option>`,
  );
  return html`<section class="card">
<h1>Audit log</h1>
<p>${m.everyone ? 'Every entry' : 'Entries about your connections, keys and integrations, and your own actions'}, newest first; times in UTC. Entries are kept ${m.retentionDays} days.</p>
<form method="get" action="/audit" class="inline">
<label for="audit-action">Action</label>
<select id="audit-action" name="action"><option value="">all</option>${options}</select>
<button type="submit">Filter</button>
</form>
</section>
${
  m.entries.length
    ? html`<table class="audit">
<thead><tr><th>Time</th><th>Who</th><th>Action</th><th>Target</th><th>Address</th><th>Detail</th></tr></thead>
<tbody>
${m.entries.map(row)}
</tbody>
</table>`
    : html`<p class="muted">No entries${m.action ? html` for <code>${m.action}</code>` : ''}.</p>`
}
<p>${m.paged ? html`<a href="/audit${m.action ? `?action=${encodeURIComponent(m.action)}` : ''}">Newest</a> ` : ''}${
    m.olderHref ? html`<a href="${m.olderHref}" rel="next">Older entries</a>` : ''
  }</p>`;
}
