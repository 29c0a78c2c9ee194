/**
 * Request parameters: a form parser that keeps repeated fields (so duplicates can be refused), and the merge of query
 * string and form body that the token endpoint needs (many Webex samples send every parameter in the query string).
 */

/** Parsed form or query fields; a repeated field becomes an array. */
export type Fields = Record<string, string | string[]>;

/** Parses `application/x-www-form-urlencoded` (`+` is a space), keeping repeated fields as arrays. */
export function parseForm(body: string): Fields {
  const out: Fields = Object.create(null);
  for (const [k, v] of new URLSearchParams(body)) {
    const prev = out[k];
    if (prev === undefined) out[k] = v;
    else if (Array.isArray(prev)) prev.push(v);
    else out[k] = [prev, v];
  }
  return out;
}

/** The longest value any single parameter may have. */
export const MAX_PARAM_LENGTH = 4096;

/** Merged single-valued parameters, or the reason they were refused. */
export type ParamResult = { ok: true; params: Record<string, string> } | { ok: false; reason: string };

/**
 * Merges query and body fields into single values. A field given twice (in either place or in both) or longer than
 * {@link MAX_PARAM_LENGTH} is refused, as RFC 6749 §3.1 requires.
 */
export function singleParams(...sources: unknown[]): ParamResult {
  const params: Record<string, string> = Object.create(null);
  for (const source of sources) {
    if (source === undefined || source === null) continue;
    if (typeof source !== 'object') return { ok: false, reason: 'The request body could not be read.' };
    for (const [k, v] of Object.entries(source as Record<string, unknown>)) {
      if (Array.isArray(v) || k in params) return { ok: false, reason: `Parameter ${k.slice(0, 50)} is repeated.` };
      if (typeof v !== 'string') return { ok: false, reason: `Parameter ${k.slice(0, 50)} must be a string.` };
      if (v.length > MAX_PARAM_LENGTH) return { ok: false, reason: `Parameter ${k.slice(0, 50)} is too long.` };
      params[k] = v;
    }
  }
  return { ok: true, params };
}
