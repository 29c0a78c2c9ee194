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
}

/** The text of the demo-mode banner. */
export const DEMO_BANNER = 'Demo mode — tokens come from the local Webex emulator, not from Webex';

/** Renders a whole HTML document. */
export function layout(ctx: LayoutContext, title: string, body: SafeHtml): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${title} · webex-auth</title>
<link rel="stylesheet" href="/static/style.css">
<script src="/static/app.js" defer></script>
</head>
<body>
${ctx.demo ? html`<div class="banner" role="status">${DEMO_BANNER}</div>` : ''}
<header class="top"><a class="brand" href="/">webex-auth</a><span class="mode">${ctx.modeLabel}</span></header>
<main>
${body}
</main>
<footer><a href="/">Home</a> · <a href="/space">Space demo</a> · <a href="/healthz">Health</a></footer>
</body>
</html>
`.value;
}
