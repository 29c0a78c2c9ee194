/** The team-mode landing page (Sign in with Webex) and the local-mode admin-token form. */
import { html, type SafeHtml } from '../html.js';

/** What the landing page shows to a visitor who has not signed in. */
export interface LandingModel {
  csrf: string;
  modeDescription: string;
  /** Why the visitor is here: sent from a page that needs sign-in, or just signed out. */
  notice?: 'required' | 'signed-out' | undefined;
  /** Sign-in restrictions to mention (domains), so a refused person knows before trying. */
  allowedDomains: string[];
}

/** The landing page of team mode. */
export function landingView(m: LandingModel): SafeHtml {
  const notice =
    m.notice === 'required'
      ? html`<p class="notice" role="status">Sign in to continue: this server is shared by a team.</p>`
      : m.notice === 'signed-out'
        ? html`<p class="notice" role="status">You are signed out.</p>`
        : '';
  return html`<section class="card">
<h1>Webex tokens for your team</h1>
${notice}
<p>${m.modeDescription}</p>
<p>This server keeps Webex token pairs alive for the people and bots of a team. Sign in with your Webex account to
connect, see and manage your own connections and broker keys.</p>
${m.allowedDomains.length ? html`<p class="muted">Sign-in is open to ${m.allowedDomains.map((d) => `@${d}`).join(', ')} accounts.</p>` : ''}
<form method="post" action="/signin"><input type="hidden" name="_csrf" value="${m.csrf}"><button type="submit" class="primary" id="signin">Sign in with Webex</button></form>
</section>`;
}

/** The form that asks for ADMIN_TOKEN once (local mode with ADMIN_TOKEN set); `next` is a path of this app. */
export function adminUnlockView(m: { csrf: string; next: string; message?: string | undefined }): SafeHtml {
  return html`<section class="card">
<h1>Admin token required</h1>
<p>This server has an ADMIN_TOKEN: enter it once to use the admin pages in this browser.</p>
${m.message ? html`<p class="notice error" role="alert">${m.message}</p>` : ''}
<form method="post" action="/admin/unlock">
<input type="hidden" name="_csrf" value="${m.csrf}"><input type="hidden" name="next" value="${m.next}">
<label for="admin-token">Admin token</label> <input type="password" id="admin-token" name="token" autocomplete="off" required>
<button type="submit" class="primary">Unlock</button>
</form>
</section>`;
}

/** A path of this app to return to: only `/…` (not `//…`, which leaves the site); anything else is `/`. */
export function localPath(next: unknown): string {
  return typeof next === 'string' && /^\/(?![/\\])[\x21-\x7e]{0,500}$/.test(next) ? next : '/';
}
