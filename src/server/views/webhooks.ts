/**
 * The webhooks page `/webhooks`: the lifecycle-event endpoints the viewer may see (URL, what it receives, its last
 * deliveries with a Redeliver button, delete), a form to add one, and the page that shows a new endpoint's secret
 * once. Admins also see the deliveries to the operator's `WEBHOOK_URL`. Everything goes through the `html` helper.
 */
import { VAULT_EVENTS } from '../../vault/types.js';
import type { WebhookDelivery, WebhookEndpoint } from '../../vault/webhook-types.js';
import { html, type SafeHtml } from '../html.js';

/** A connection as the page names it. */
export interface WebhookConnection {
  id: string;
  name: string;
}

/** One endpoint with its recent deliveries. */
export interface WebhookEntry {
  endpoint: WebhookEndpoint;
  deliveries: WebhookDelivery[];
  /** The owner's label (admins only). */
  owner?: string | undefined;
}

/** What the page shows. */
export interface WebhooksModel {
  csrf: string;
  entries: WebhookEntry[];
  /** The operator's `WEBHOOK_URL` deliveries (admins, when it is set). */
  operator?: { url: string; deliveries: WebhookDelivery[] } | undefined;
  /** The connections the viewer may scope an endpoint to. */
  connections: WebhookConnection[];
  /** Whether the viewer may add an endpoint (a script with the admin token owns nothing). */
  canCreate: boolean;
  notice?: string | undefined;
  error?: string | undefined;
  form?: { url: string; connectionId: string; description: string } | undefined;
}

const fmt = (ms: number | undefined) => (ms ? new Date(ms).toISOString().replace('T', ' ').slice(0, 19) : '');

function deliveryTable(deliveries: WebhookDelivery[], csrf: string): SafeHtml {
  if (!deliveries.length) return html`<p class="muted">No deliveries yet.</p>`;
  return html`<table class="deliveries">
<thead><tr><th>When</th><th>Event</th><th>webhook-id</th><th>Attempts</th><th>Result</th><th></th></tr></thead>
<tbody>${deliveries.map(
    (d) => html`<tr data-delivery-id="${d.id}">
<td>${fmt(d.createdAt)}</td><td><code>${d.type}</code></td><td><code class="muted">${d.eventId}</code></td>
<td>${String(d.attempts)}</td>
<td>${
      d.deliveredAt
        ? html`<span class="badge ok">${d.lastStatus ? String(d.lastStatus) : 'delivered'}</span>`
        : d.attempts === 0
          ? html`<span class="badge">pending</span>`
          : html`<span class="badge missing">${d.lastError ?? 'failed'}</span>`
    }</td>
<td><form method="post" action="/webhooks/deliveries/${encodeURIComponent(d.id)}/redeliver" class="inline"><input type="hidden" name="_csrf" value="${csrf}"><button type="submit" class="small redeliver">Redeliver</button></form></td>
</tr>`,
  )}</tbody></table>`;
}

function endpointCard(e: WebhookEntry, m: WebhooksModel): SafeHtml {
  const ep = e.endpoint;
  const scope = ep.connectionId
    ? html`the events of connection <strong>${m.connections.find((c) => c.id === ep.connectionId)?.name ?? ep.connectionId}</strong>`
    : html`every event of your connections and keys`;
  return html`<section class="card webhook" id="webhook-${ep.id}" data-webhook-id="${ep.id}">
<h2><code>${ep.url}</code></h2>
<dl class="kv">
${e.owner ? html`<dt>Owner</dt><dd class="owner">${e.owner}</dd>` : ''}
<dt>Receives</dt><dd>${scope}</dd>
${ep.description ? html`<dt>Note</dt><dd>${ep.description}</dd>` : ''}
<dt>Created</dt><dd>${fmt(ep.createdAt)}</dd>
</dl>
<h3>Last deliveries</h3>
${deliveryTable(e.deliveries, m.csrf)}
<form method="post" action="/webhooks/${encodeURIComponent(ep.id)}/delete" class="inline"><input type="hidden" name="_csrf" value="${m.csrf}"><button type="submit" class="danger delete">Delete</button></form>
</section>`;
}

function createForm(m: WebhooksModel): SafeHtml {
  if (!m.canCreate) return html``;
  const f = m.form;
  return html`<section class="card" id="create"><h2>Add an endpoint</h2>
${m.error ? html`<p class="notice" role="alert" id="webhook-error">${m.error}</p>` : ''}
<form method="post" action="/webhooks">
<input type="hidden" name="_csrf" value="${m.csrf}">
<label for="webhook-url">URL <span class="muted">(https, on a public address)</span></label>
<input type="url" id="webhook-url" name="url" maxlength="2000" required value="${f?.url ?? ''}" placeholder="https://hooks.example.com/webex-auth">
<label for="webhook-connection">Events of</label>
<select id="webhook-connection" name="connection">
<option value="">all my connections and keys</option>
${m.connections.map((c) => html`<option value="${c.id}"${f?.connectionId === c.id ? html` selected` : ''}>${c.name}</option>`)}
</select>
<label for="webhook-description">Note <span class="muted">(optional)</span></label>
<input type="text" id="webhook-description" name="description" maxlength="100" value="${f?.description ?? ''}">
<p><button type="submit" class="primary" id="create-webhook">Add endpoint</button></p>
</form></section>`;
}

/** The body of `/webhooks`. */
export function webhooksView(m: WebhooksModel): SafeHtml {
  return html`${m.notice ? html`<p class="notice" role="status" id="webhook-notice">${m.notice}</p>` : ''}
<section class="card">
<h1>Webhooks</h1>
<p>Lifecycle events of your connections and keys, sent as <a href="https://www.standardwebhooks.com">Standard Webhooks</a>
(headers <code>webhook-id</code>, <code>webhook-timestamp</code>, <code>webhook-signature</code>): verify them with the
endpoint's secret and the <code>standardwebhooks</code> library. A retry or a redelivery keeps its <code>webhook-id</code>.
Events: ${VAULT_EVENTS.map((t) => html`<code>${t}</code> `)}</p>
</section>
${m.entries.length ? html`<div id="webhooks">${m.entries.map((e) => endpointCard(e, m))}</div>` : html`<p class="muted" id="no-webhooks">No endpoints yet.</p>`}
${
  m.operator
    ? html`<section class="card" id="operator-webhook"><h2>Operator <code>WEBHOOK_URL</code></h2>
<p><code>${m.operator.url}</code> receives every event.</p>
${deliveryTable(m.operator.deliveries, m.csrf)}</section>`
    : ''
}
${createForm(m)}`;
}

/** The page that shows a new endpoint's secret, once. */
export function webhookCreatedView(endpoint: WebhookEndpoint, secret: string): SafeHtml {
  return html`<section class="card" id="new-webhook-card">
<h1>Endpoint added</h1>
<p class="notice" role="status">Copy the secret now: this is the only time it is shown. It is stored encrypted.</p>
<dl class="kv">
<dt>URL</dt><dd><code>${endpoint.url}</code></dd>
<dt>Secret</dt><dd><code class="secret" id="new-secret" data-value="${secret}">${secret}</code> <button type="button" class="small" id="copy-secret" data-copy="new-secret">Copy</button></dd>
</dl>
<pre><code>import { Webhook } from 'standardwebhooks';
const event = new Webhook(process.env.WEBHOOK_SECRET).verify(rawBody, headers); // throws when forged or altered</code></pre>
<p><a href="/webhooks">Back to the webhooks</a></p>
</section>`;
}
