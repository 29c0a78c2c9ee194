/**
 * What a connection that needs re-authorization offers, by its kind: a person's integration grant is authorized
 * again (`/oauth/start` with its requested scopes); a Service App is fetched again through the Service App form
 * (`/identities`, filled with its app, org and fetching connection — its client secret is typed again); a bot's token
 * is added again. A Service App or bot has no authorization flow of its own: "Authorize again" would make a person's
 * grant instead.
 */
import type { Connection } from '../../vault/types.js';
import { html, type SafeHtml } from '../html.js';

/** The action that brings connection `c` back, as a button or link. */
export function reauthAction(
  c: Pick<Connection, 'kind' | 'appId' | 'orgId' | 'fetcherConnectionId' | 'requestedScopes'>,
  csrf: string,
): SafeHtml {
  if (c.kind === 'service_app') {
    const query = new URLSearchParams();
    if (c.appId) query.set('appId', c.appId);
    if (c.orgId) query.set('orgId', c.orgId);
    if (c.fetcherConnectionId) query.set('fetcher', c.fetcherConnectionId);
    return html`<a class="button reauth" href="/identities?${query.toString()}#add-service-app">Fetch again</a>`;
  }
  if (c.kind === 'bot') return html`<a class="button reauth" href="/identities#add-bot">Add the bot token again</a>`;
  return html`<form method="post" action="/oauth/start" class="inline"><input type="hidden" name="_csrf" value="${csrf}"><input type="hidden" name="scopes" value="${c.requestedScopes.join(' ')}"><button type="submit" class="reauth">Authorize again</button></form>`;
}
