/**
 * Message bodies as HTML, rendered on the server from a message's `markdown` (else its `text`).
 *
 * Why markdown-it: it is well kept and widely used, follows CommonMark (what Webex's own markdown is close to), and
 * turns raw HTML off by an option (`html: false`: `<img onerror=…>` stays text) rather than by a sanitizer pass
 * after the fact. On top of that: only http(s) links survive (`validateLink`; `javascript:`, `data:`, relative and
 * every other link stays text), images are off (no remote fetch, no tracking pixel), and every link opens in a new
 * tab with `rel="noopener noreferrer nofollow"`.
 *
 * markdown-it is loaded on the first message rendered, not at start-up (bench/startup.mjs).
 */
import type { MarkdownIt } from 'markdown-it';
import { escapeHtml, html, SafeHtml } from '../html.js';

let renderer: Promise<MarkdownIt> | undefined;

/** Only absolute http(s) URLs may become links. */
export function allowedLink(url: string): boolean {
  return /^https?:\/\/[^\s]/i.test(url.trim());
}

async function load(): Promise<MarkdownIt> {
  const { default: MarkdownItCtor } = await import('markdown-it');
  const md = new MarkdownItCtor('default', { html: false, linkify: true, breaks: true, typographer: false });
  md.disable('image');
  md.validateLink = allowedLink;
  const defaultLinkOpen = md.renderer.rules.link_open;
  md.renderer.rules.link_open = (tokens, idx, options, env, self) => {
    const token = tokens[idx];
    if (token) {
      token.attrSet('rel', 'noopener noreferrer nofollow');
      token.attrSet('target', '_blank');
    }
    return defaultLinkOpen ? defaultLinkOpen(tokens, idx, options, env, self) : self.renderToken(tokens, idx, options);
  };
  return md;
}

/** The shared renderer (made once). */
function markdownIt(): Promise<MarkdownIt> {
  renderer ??= load().catch((error: unknown) => {
    renderer = undefined;
    throw error;
  });
  return renderer;
}

/** What a message body is made of. */
export interface MessageBody {
  markdown?: string | undefined;
  text?: string | undefined;
}

/**
 * The body of a message as safe HTML: its `markdown` through markdown-it, else its `text` escaped (line breaks kept).
 */
export async function renderMessageBody(m: MessageBody): Promise<SafeHtml> {
  if (typeof m.markdown === 'string' && m.markdown.trim() !== '') {
    return new SafeHtml((await markdownIt()).render(m.markdown));
  }
  const text = typeof m.text === 'string' ? m.text : '';
  return html`<p>${new SafeHtml(escapeHtml(text).replace(/\r?\n/g, '<br>'))}</p>`;
}
