/** The one escaping template helper of the emulator's pages: every interpolated value is HTML-escaped. */

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

/** Markup that is already safe (built by {@link html}). */
export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

/** Tagged template: interpolations are escaped unless they are {@link SafeHtml} (or arrays of it). */
export function html(strings: TemplateStringsArray, ...values: unknown[]): SafeHtml {
  let out = strings[0] ?? '';
  values.forEach((v, i) => {
    if (v instanceof SafeHtml) out += v.value;
    else if (Array.isArray(v)) out += v.map((x) => (x instanceof SafeHtml ? x.value : escapeHtml(x))).join('');
    else if (v !== undefined && v !== null && v !== false) out += escapeHtml(v);
    out += strings[i + 1] ?? '';
  });
  return new SafeHtml(out);
}

const STYLE = `body{font-family:system-ui,sans-serif;background:#f4f5f7;margin:0;color:#121212}
main{max-width:28rem;margin:3rem auto;background:#fff;border-radius:12px;padding:2rem;box-shadow:0 2px 8px #0002}
h1{font-size:1.3rem}.note{font-size:.8rem;color:#555;background:#fff7d6;padding:.4rem .6rem;border-radius:6px}
label{display:block;margin:1rem 0 .3rem}input[type=email],input[type=text]{width:100%;padding:.5rem;box-sizing:border-box}
.buttons{display:flex;gap:.5rem;margin-top:1.2rem}button{padding:.55rem 1.2rem;border-radius:20px;border:1px solid #888;cursor:pointer}
button[value=accept]{background:#0a7d3b;color:#fff;border-color:#0a7d3b}.error{color:#b00020}ul{padding-left:1.2rem}
h2{font-size:1rem;margin-top:1.6rem}.people{list-style:none;padding:0}.people li{margin:.3rem 0}.people button{width:100%;text-align:left}`;

/** A whole page around `body`. */
export function layout(title: string, body: SafeHtml): string {
  return html`<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${title}</title><style>${new SafeHtml(STYLE)}</style></head><body><main><p class="note">Webex emulator (webex-auth) — a local stand-in for Webex, not Webex itself.</p>${body}</main></body></html>`
    .value;
}
