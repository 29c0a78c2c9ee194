/**
 * The one escaping template helper of the web app. Every page is built with the `html` tagged template, which escapes
 * every interpolated value unless it is {@link SafeHtml} — the result of another `html` template or of {@link raw},
 * which only trusted code may call with a literal it wrote itself. Arrays are joined, `null`/`undefined`/`false`
 * render nothing.
 *
 * Pages leave here as one-byte strings: any character outside ASCII and the C1 controls, in a template's own text or
 * in a value, is written as a numeric character reference (`·` as `&#183;`), which a browser shows the same. A string
 * with one such character is a two-byte string in V8, and measuring and UTF-8-encoding a page then costs about three
 * times as much (~60 µs instead of ~20 µs for the 11 KB connection page).
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

// U+0080-U+009F are left as they are: a browser reads `&#128;`-`&#159;` as Windows-1252 characters (`&#133;` is
// "…"), not as the control character sent; they are Latin-1, so a page keeping one stays a one-byte string.
const NEEDS_ESCAPE = /[&<>"'`\u00a0-\uffff]/;
/** A character escaped in a value: the five of HTML and the backquote, and any character outside ASCII but C1. */
const ESCAPED = /[&<>"'`]|[\u00a0-\u{10ffff}]/gu;
/** A character outside ASCII but C1 (whole code points: a surrogate pair is one character, one reference). */
const NON_ASCII = /[\u00a0-\u{10ffff}]/gu;
const HAS_NON_ASCII = /[\u0080-\uffff]/;

const reference = (c: string): string => ESCAPES[c] ?? `&#${c.codePointAt(0)};`;

/**
 * `text` (all Latin-1: ASCII, and C1 controls left as they are) as a one-byte string. A `replace` on a string that
 * held a character outside Latin-1 answers a two-byte string even when none is left, and one such piece makes the
 * whole page two-byte again.
 */
const oneByte = (text: string): string => Buffer.from(text, 'latin1').toString('latin1');

/**
 * Escapes a string for use in HTML text and in quoted attribute values; characters outside ASCII and the C1 controls
 * become numeric character references (see the module comment).
 */
export function escapeHtml(value: string): string {
  // Most values (ids, scope names, tokens) have nothing to escape: one test instead of a replace with a callback.
  if (!NEEDS_ESCAPE.test(value)) return value;
  const escaped = value.replace(ESCAPED, reference);
  return HAS_NON_ASCII.test(value) ? oneByte(escaped) : escaped;
}

/** Each template's text with characters outside ASCII as references, made once per template (call site). */
const asciiTexts = new WeakMap<TemplateStringsArray, readonly string[]>();

function asciiText(strings: TemplateStringsArray): readonly string[] {
  let text = asciiTexts.get(strings);
  if (!text) {
    const converted = strings.map((s) => oneByte((s ?? '').replace(NON_ASCII, reference)));
    text = converted.some((s, i) => s !== strings[i]) ? converted : strings;
    asciiTexts.set(strings, text);
  }
  return text;
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
export function html(template: TemplateStringsArray, ...values: HtmlValue[]): SafeHtml {
  const strings = asciiText(template);
  let out = strings[0] ?? '';
  for (let i = 0; i < values.length; i++) out += render(values[i]) + (strings[i + 1] ?? '');
  return new SafeHtml(out);
}

/** Marks trusted, code-written HTML as safe. Never pass it anything that came from a request or from Webex. */
export function raw(trusted: string): SafeHtml {
  return new SafeHtml(trusted);
}
