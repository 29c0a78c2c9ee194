/** The bring-your-own-credentials form, with paste-to-configure. The client secret is never rendered back. */
import { html, type SafeHtml } from '../html.js';

/** Values to prefill (never the secret). */
export interface ByoModel {
  csrf: string;
  clientId?: string;
  redirectUri: string;
  scopes?: string;
  /** A sentence about the pasted URL or the form (escaped). */
  message?: string;
  /** Whether `message` reports a success. */
  messageOk?: boolean;
  /** Whether to show the "your own integration" form open (when no integration is configured). */
  primary: boolean;
  /** The API base the pasted URL pointed at. */
  apiBase?: string;
  /** The demo's loopback emulator base, offered as a third choice (demo mode only). */
  emulatorApiBase?: string | undefined;
  /** Whether this browser already brought an integration (offers to forget it). */
  brought?: boolean;
}

/** The body section with the paste box and the credentials form. */
export function byoView(m: ByoModel): SafeHtml {
  const open = m.primary || m.message !== undefined;
  return html`<section class="card" id="byo"><details${open ? html` open` : ''}>
<summary><h2 class="inline">${m.primary ? 'Use your Webex integration' : 'Use your own Webex integration instead'}</h2></summary>
<p class="muted">Register an integration at <a href="https://developer.webex.com/my-apps" rel="noreferrer">developer.webex.com</a>, then paste its “OAuth Authorization URL” to fill the form.</p>
${m.message ? html`<p class="notice" role="alert">${m.message}</p>` : ''}
<form method="post" action="/configure/paste">
<input type="hidden" name="_csrf" value="${m.csrf}">
<label for="authorize-url">OAuth Authorization URL</label>
<textarea id="authorize-url" name="url" rows="3" placeholder="https://webexapis.com/v1/authorize?client_id=…"></textarea>
<p><button type="submit">Fill from URL</button></p>
</form>
<form method="post" action="/configure" autocomplete="off">
<input type="hidden" name="_csrf" value="${m.csrf}">
<label for="client-id">Client ID</label>
<input type="text" id="client-id" name="clientId" required maxlength="200" value="${m.clientId ?? ''}">
<label for="client-secret">Client Secret</label>
<input type="password" id="client-secret" name="clientSecret" required maxlength="200" autocomplete="new-password">
<div class="muted">Sent to this server only and stored encrypted; never shown again.</div>
<label for="byo-redirect">Redirect URI</label>
<input type="url" id="byo-redirect" name="redirectUri" required maxlength="2000" value="${m.redirectUri}">
<label for="byo-scopes">Scopes registered on the integration (space-separated)</label>
<input type="text" id="byo-scopes" name="scopes" maxlength="4000" value="${m.scopes ?? ''}">
<fieldset><legend>Webex</legend>
<label class="option"><input type="radio" name="apiBase" value="https://webexapis.com/v1"${m.apiBase !== 'https://api-usgov.webex.com/v1' && (m.apiBase === undefined || m.apiBase !== m.emulatorApiBase) ? html` checked` : ''}> Webex (webexapis.com)</label>
<label class="option"><input type="radio" name="apiBase" value="https://api-usgov.webex.com/v1"${m.apiBase === 'https://api-usgov.webex.com/v1' ? html` checked` : ''}> Webex for Government (FedRAMP)</label>
${
  m.emulatorApiBase
    ? html`<label class="option"><input type="radio" name="apiBase" value="${m.emulatorApiBase}"${m.apiBase === m.emulatorApiBase ? html` checked` : ''}> The Webex emulator of this demo (${m.emulatorApiBase})</label>`
    : ''
}</fieldset>
<p><button type="submit" class="primary">Save and continue</button></p>
</form>
${
  m.brought
    ? html`<form method="post" action="/configure/forget"><input type="hidden" name="_csrf" value="${m.csrf}"><button type="submit">Forget my integration in this browser</button></form>`
    : ''
}
</details></section>`;
}
