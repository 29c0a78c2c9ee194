/** The error page: what happened, why, and what to do, with a "Try again" button. */
import { html, type SafeHtml } from '../html.js';

/** What an error page says. Plain text; it is escaped. */
export interface ErrorInfo {
  status: number;
  title: string;
  explanation: string;
  action: string;
  /** Webex's own error code, shown for support (escaped). */
  code?: string;
  /** Where "Try again" leads (default: home). Always a path of this app. */
  retryHref?: string;
}

/** The body of an error page. */
export function errorView(info: ErrorInfo): SafeHtml {
  const retry = info.retryHref?.startsWith('/') && !info.retryHref.startsWith('//') ? info.retryHref : '/';
  return html`<section class="card error" aria-labelledby="error-title">
<h1 id="error-title">${info.title}</h1>
<p class="explanation">${info.explanation}</p>
<p class="action"><strong>What to do:</strong> ${info.action}</p>
${info.code ? html`<p class="muted">Error code: <code>${info.code}</code> · HTTP ${info.status}</p>` : ''}
<p><a class="button primary" href="${retry}">Try again</a></p>
</section>`;
}
