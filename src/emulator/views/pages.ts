/** The emulator's HTML pages: login + consent, device verification, and the error page. */
import { scopeInfo } from '../../scopes/catalog.js';
import { html, layout } from './html.js';

/** The error page (unknown client, unregistered redirect URI, expired request…). */
export function errorPage(title: string, message: string): string {
  return layout(title, html`<h1>${title}</h1><p class="error">${message}</p>`);
}

function scopeList(scopes: string[]) {
  return scopes.map((s) => html`<li><code>${s}</code> — ${scopeInfo(s)?.meaning ?? 'Access your Webex data'}</li>`);
}

/** Fields of the login + consent page. */
export interface ConsentView {
  /** Id of the pending authorization (hidden field `request`). */
  requestId: string;
  appName: string;
  scopes: string[];
  email?: string;
  error?: string;
  /** Seeded people to accept as with one click (display name + email), so nobody has to know the seed. */
  people?: readonly { displayName: string; email: string }[];
}

/** One small form per seeded person: its button submits that person's email with `decision=accept`, no script. */
function peopleForms(requestId: string, people: readonly { displayName: string; email: string }[]) {
  if (!people.length) return '';
  return html`<h2>Seeded people</h2><p>Accept as one of the emulator's people:</p><ul class="people">${people.map(
    (p) => html`<li><form method="post" action="/v1/authorize"><input type="hidden" name="request" value="${requestId}">
<input type="hidden" name="decision" value="accept"><button type="submit" name="email" value="${p.email}">${p.displayName} (${p.email})</button></form></li>`,
  )}</ul>`;
}

/** The login + consent page: `name="email"` and two `name="decision"` buttons (design.md). */
export function consentPage(v: ConsentView): string {
  return layout(
    'Sign in to Webex',
    html`<h1>Sign in to Webex</h1>
<p><strong>${v.appName}</strong> would like to:</p><ul>${scopeList(v.scopes)}</ul>
${v.error ? html`<p class="error" role="alert">${v.error}</p>` : ''}
<form method="post" action="/v1/authorize">
<input type="hidden" name="request" value="${v.requestId}">
<label for="email">Email address</label><input id="email" type="email" name="email" autocomplete="username" value="${v.email ?? ''}" required>
<div class="buttons"><button type="submit" name="decision" value="accept">Accept</button>
<button type="submit" name="decision" value="decline" formnovalidate>Decline</button></div></form>
${peopleForms(v.requestId, v.people ?? [])}`,
  );
}

/** Fields of the device verification page. */
export interface DeviceView {
  userCode?: string;
  email?: string;
  error?: string;
  done?: string;
}

/** The device grant's verification page (`/v1/device/verify`): `user_code`, `email` and the two `decision` buttons. */
export function devicePage(v: DeviceView): string {
  if (v.done) return layout('Device sign-in', html`<h1>Device sign-in</h1><p>${v.done}</p>`);
  return layout(
    'Activate a device',
    html`<h1>Activate a device</h1>
${v.error ? html`<p class="error" role="alert">${v.error}</p>` : ''}
<form method="post" action="/v1/device/verify">
<label for="user_code">Code shown on the device</label><input id="user_code" type="text" name="user_code" value="${v.userCode ?? ''}" required>
<label for="email">Email address</label><input id="email" type="email" name="email" value="${v.email ?? ''}" required>
<div class="buttons"><button type="submit" name="decision" value="accept">Accept</button>
<button type="submit" name="decision" value="decline" formnovalidate>Decline</button></div></form>`,
  );
}
