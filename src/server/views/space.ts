/**
 * The space demo page: the space's messages, newest last, and a composer — all through the person's token. With
 * JavaScript, /static/space.js keeps the list live from `GET /space/events`; without it the page still works.
 */
import { html, type SafeHtml } from '../html.js';

/** One message as shown; `body` is already safe HTML (space/markdown.ts). */
export interface SpaceMessage {
  id: string;
  who: string;
  created: string;
  body: SafeHtml;
}

/** What the space page shows. */
export type SpaceModel =
  | { kind: 'unconfigured' }
  | { kind: 'needs-connection'; csrf: string; scopes: string[] }
  | { kind: 'problem'; csrf: string; title: string; explanation: string; scopes: string[] }
  | { kind: 'space'; csrf: string; title: string; person: string; messages: SpaceMessage[] };

/**
 * A form that starts an authorization with `scopes`; with `returnTo` (a local path), the person lands there after
 * authorizing instead of on the connection page.
 */
export function authorizeButton(csrf: string, scopes: string[], label: string, returnTo?: string): SafeHtml {
  return html`<form method="post" action="/oauth/start" class="inline">
<input type="hidden" name="_csrf" value="${csrf}"><input type="hidden" name="scopes" value="${scopes.join(' ')}">${
    returnTo ? html`<input type="hidden" name="return_to" value="${returnTo}">` : ''
  }
<button type="submit" class="primary">${label}</button></form>`;
}

/** One message of the list (also sent, as is, to live pages). */
export function messageItem(m: SpaceMessage): SafeHtml {
  return html`<li data-id="${m.id}"><div class="who">${m.who} · ${m.created}</div><div class="body">${m.body}</div></li>`;
}

/** The body of the space page. */
export function spaceView(m: SpaceModel): SafeHtml {
  if (m.kind === 'unconfigured') {
    return html`<section class="card"><h1>Space demo</h1>
<p>The space demo needs a bot that adds people to a space: set <code>BOT_TOKEN</code> (the bot’s access token) and
<code>SPACE_ID</code> (a space the bot is in). Demo mode sets both up by itself.</p></section>`;
  }
  if (m.kind === 'needs-connection') {
    return html`<section class="card"><h1>Space demo</h1>
<p>Authorize first: the bot then adds you to the demo space, and this page shows it through your token.</p>
<p>${authorizeButton(m.csrf, m.scopes, 'Authorize for the space demo', '/space')}</p>
<p class="muted">Scopes: <code>${m.scopes.join(' ')}</code></p></section>`;
  }
  if (m.kind === 'problem') {
    return html`<section class="card error"><h1>${m.title}</h1><p>${m.explanation}</p>
<p>${authorizeButton(m.csrf, m.scopes, 'Authorize again with the needed scopes', '/space')}</p></section>`;
  }
  return html`<section class="card"><h1>${m.title}</h1>
<p class="muted">Shown through ${m.person}’s token. <span id="live-status" role="status"></span></p>
<ul class="messages" id="messages" data-events="/space/events">${
    m.messages.length ? m.messages.map(messageItem) : html`<li class="muted" id="no-messages">No messages yet.</li>`
  }</ul>
<form method="post" action="/space/messages">
<input type="hidden" name="_csrf" value="${m.csrf}">
<label for="message-text">Message <span class="muted">(markdown)</span></label>
<textarea id="message-text" name="text" required maxlength="7000" rows="2"></textarea>
<p><button type="submit" class="primary" id="send">Send</button></p>
</form></section>
<script src="/static/space.js" defer></script>`;
}
