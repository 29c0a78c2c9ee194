/**
 * The page `/identities`: the viewer's bots and Service Apps (kind, org, status and its reason) with two forms — add a
 * bot (its token, pasted, never echoed back) and add a Service App (application id, client id/secret, org, and the
 * integration connection that fetches its tokens). Everything goes through the `html` helper.
 */
import type { Connection } from '../../vault/types.js';
import { html, type SafeHtml } from '../html.js';
import { connectionPath } from './paths.js';

/** A connection that can fetch Service App tokens (holds `spark:applications_token`). */
export interface FetcherChoice {
  id: string;
  name: string;
  email: string;
}

/** What the service-app form last held (never the secret). */
export interface ServiceAppFormValues {
  appId: string;
  clientId: string;
  orgId: string;
  fetcherConnectionId: string;
}

/** What the identities page shows. */
export interface IdentitiesModel {
  csrf: string;
  /** The viewer's bot and Service App connections. */
  connections: Connection[];
  fetchers: FetcherChoice[];
  /** Whether this server receives Service App events (onboards new orgs by itself). */
  receivesEvents: boolean;
  notice?: string | undefined;
  botError?: string | undefined;
  appError?: string | undefined;
  appForm?: ServiceAppFormValues | undefined;
}

function row(c: Connection): SafeHtml {
  const state =
    c.status === 'active'
      ? html`<span class="badge ok">active</span>`
      : html`<span class="badge missing">needs re-authorization</span> <code>${c.needsReauthReason ?? 'refresh_refused'}</code>`;
  return html`<li class="identity" data-kind="${c.kind ?? 'integration'}" data-connection-id="${c.id}">
<a href="${connectionPath(c.id)}">${c.displayName}</a> <span class="badge">${c.kind ?? 'integration'}</span> ${state}
${c.orgId ? html`<span class="muted">org <code>${c.orgId}</code></span>` : ''}</li>`;
}

function botForm(m: IdentitiesModel): SafeHtml {
  return html`<section class="card" id="add-bot"><h2>Add a bot</h2>
<p class="muted">Paste the bot's access token from developer.webex.com. It is checked with <code>people/me</code>
(it must be a bot's), stored encrypted, and served by the token API and the proxy; it does not expire.</p>
${m.botError ? html`<p class="notice" role="alert" id="bot-error">${m.botError}</p>` : ''}
<form method="post" action="/identities/bots" autocomplete="off">
<input type="hidden" name="_csrf" value="${m.csrf}">
<label for="bot-token">Bot access token</label>
<input type="password" id="bot-token" name="token" required maxlength="4096" autocomplete="off" spellcheck="false">
<button type="submit">Add bot</button>
</form></section>`;
}

function appForm(m: IdentitiesModel): SafeHtml {
  const f = m.appForm;
  if (!m.fetchers.length) {
    return html`<section class="card" id="add-service-app"><h2>Add a Service App</h2>
<p class="muted">A Service App's tokens are fetched through one of your integration connections holding
<code>spark:applications_token</code>: <a href="/">authorize one</a> with that scope first.</p></section>`;
  }
  return html`<section class="card" id="add-service-app"><h2>Add a Service App</h2>
<p class="muted">An admin must have authorized the app in the org (Control Hub).${
    m.receivesEvents
      ? ' This server hears when it is authorized in another org and adds that org by itself.'
      : ' This server cannot receive Webex events (no https PUBLIC_URL): add each org here.'
  }</p>
${m.appError ? html`<p class="notice" role="alert" id="app-error">${m.appError}</p>` : ''}
<form method="post" action="/identities/service-apps" autocomplete="off">
<input type="hidden" name="_csrf" value="${m.csrf}">
<label for="app-id">Application id</label>
<input type="text" id="app-id" name="appId" required maxlength="300" value="${f?.appId ?? ''}">
<label for="app-client-id">Client id</label>
<input type="text" id="app-client-id" name="clientId" required maxlength="256" value="${f?.clientId ?? ''}">
<label for="app-client-secret">Client secret</label>
<input type="password" id="app-client-secret" name="clientSecret" required maxlength="256" autocomplete="off">
<label for="app-org">Org id <span class="muted">(as Control Hub shows it, or its REST id)</span></label>
<input type="text" id="app-org" name="orgId" required maxlength="200" value="${f?.orgId ?? ''}">
<label for="app-fetcher">Fetched through</label>
<select id="app-fetcher" name="fetcherConnectionId">${m.fetchers.map(
    (c) =>
      html`<option value="${c.id}"${f?.fetcherConnectionId === c.id ? html` selected` : ''}>${c.name} (${c.email})</option>`,
  )}</select>
<button type="submit">Add Service App</button>
</form></section>`;
}

/** The identities page. */
export function identitiesView(m: IdentitiesModel): SafeHtml {
  return html`<h1>Bots and Service Apps</h1>
${m.notice ? html`<p class="notice" role="status">${m.notice}</p>` : ''}
<section class="card" id="identities"><h2>Yours</h2>${
    m.connections.length
      ? html`<ul class="identities">${m.connections.map(row)}</ul>`
      : html`<p class="muted">No bot or Service App yet.</p>`
  }</section>
${botForm(m)}
${appForm(m)}`;
}
