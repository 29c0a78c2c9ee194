/** The page frame every page shares: header, the demo-mode banner, main content, footer. */
import { html, type SafeHtml } from '../html.js';

/** What the frame needs to know about the app and the request. */
export interface LayoutContext {
  /** Demo mode: every page says tokens come from the local emulator. */
  demo: boolean;
  /** A label of where tokens come from (Webex, Webex for Government, …). */
  modeLabel: string;
  /** Whether the page is served over https with a self-signed certificate. */
  selfSigned?: boolean;
  /** `local` (one local operator, no sign-in) or `team` (Sign in with Webex). */
  accessMode: 'local' | 'team';
}

/** What the frame shows about the person asking. */
export interface Viewer {
  /** The signed-in account (team mode). */
  account?: { displayName: string; email: string } | undefined;
  admin: boolean;
  /** The CSRF token of the sign-out form. */
  csrf: string;
}

/** The header's mode text: who this server serves. */
export function accessModeLabel(mode: 'local' | 'team'): string {
  return mode === 'team' ? 'Team mode: Sign in with Webex' : 'Local mode: one local operator, no sign-in';
}

function viewerBar(ctx: LayoutContext, viewer: Viewer | undefined): SafeHtml | string {
  if (!viewer) return '';
  if (ctx.accessMode === 'local')
    return html`<a href="/keys">Keys</a> <a href="/webhooks">Webhooks</a> <a href="/audit">Audit</a>${viewer.admin ? html` <a href="/connections">Dashboard</a>` : ''}`;
  if (!viewer.account) return '';
  return html`<span class="who">${viewer.account.displayName} (${viewer.account.email})${viewer.admin ? ' · admin' : ''}</span>
<a href="/keys">Keys</a> <a href="/webhooks">Webhooks</a> <a href="/audit">Audit</a>${viewer.admin ? html` <a href="/connections">Dashboard</a>` : ''}
<form method="post" action="/signout" class="inline"><input type="hidden" name="_csrf" value="${viewer.csrf}"><button type="submit" id="signout">Sign out</button></form>`;
}

/** The text of the demo-mode banner (for sessions using the emulator's demo integration). */
export const DEMO_BANNER = 'Demo mode — tokens come from the local Webex emulator, not from Webex';

/**
 * The demo-mode banner of a session that brought its own integration (/configure): only the configured one is
 * certainly the emulator's; the home page says where the brought one's tokens come from.
 */
export const DEMO_BANNER_BROUGHT = "Demo mode — the configured integration is the local Webex emulator's";

/**
 * Renders a whole HTML document. `brought`: the request's session uses an integration it brought, not the configured
 * (in demo mode, the emulator's) one. `canonical`: the page's own address when it is answered at another one (the
 * OAuth callback answers with the connection page); app.js puts it in the address bar.
 */
export function layout(
  ctx: LayoutContext,
  title: string,
  body: SafeHtml,
  viewer?: Viewer,
  brought = false,
  canonical?: string,
): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${title} · webex-auth</title>
<link rel="stylesheet" href="/static/style.css">${
    canonical
      ? html`
<link rel="canonical" href="${canonical}">`
      : ''
  }
<script src="/static/app.js" defer></script>
</head>
<body>
${ctx.demo ? html`<div class="banner" role="status">${brought ? DEMO_BANNER_BROUGHT : DEMO_BANNER}</div>` : ''}
<header class="top"><a class="brand" href="/">webex-auth</a><span class="mode">${ctx.modeLabel}</span><span class="access-mode" data-mode="${ctx.accessMode}">${accessModeLabel(ctx.accessMode)}</span>${viewerBar(ctx, viewer)}</header>
<main>
${body}
</main>
<footer><a href="/">Home</a> · <a href="/space">Space demo</a> · <a href="/healthz">Health</a></footer>
</body>
</html>
`.value;
}
