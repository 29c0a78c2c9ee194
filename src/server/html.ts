/**
 * The one escaping template helper of the web app. Every page is built with the `html` tagged template, which escapes
 * every interpolated value unless it is {@link SafeHtml} — the result of another `html` template or of {@link raw},
 * which only trusted code may call with a literal it wrote itself. Arrays are joined, `null`/`undefined`/`false`
 * render nothing.
 */

/** A fragment of HTML that is already safe to emit as is. */
export class SafeHtml {
  constructor(
    /** The HTML text. */
    readonly value: string,
  ) {}
  toString(): string {
    return this.value;
  }
}

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
  '`': '&#96;',
};

const NEEDS_ESCAPE = /[&<>"'`]/;

/** Escapes a string for use in HTML text and in quoted attribute values. */
export function escapeHtml(value: string): string {
  // Most values (ids, scope names, tokens) have nothing to escape: one test instead of a replace with a callback.
  if (!NEEDS_ESCAPE.test(value)) return value;
  return value.replace(/[&<>"'`]/g, (c) => ESCAPES[c] ?? c);
}

/** A value an `html` template may interpolate. */
export type HtmlValue = SafeHtml | string | number | boolean | null | undefined | readonly HtmlValue[];

function render(value: HtmlValue): string {
  if (value === null || value === undefined || value === false) return '';
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return value.map(render).join('');
  return escapeHtml(String(value));
}

/** The escaping tagged template: `html\`<p>${name}</p>\`` escapes `name`. */
export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): SafeHtml {
  let out = strings[0] ?? '';
  for (let i = 0; i < values.length; i++) out += render(values[i]) + (strings[i + 1] ?? '');
  return new SafeHtml(out);
}

/** Marks trusted, code-written HTML as safe. Never pass it anything that came from a request or from Webex. */
export function raw(trusted: string): SafeHtml {
  return new SafeHtml(trusted);
}
