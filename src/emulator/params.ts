/**
 * Request parameters: a form parser that keeps repeated fields (so duplicates can be refused), and the merge of query
 * string and form body that the token endpoint needs (many Webex samples send every parameter in the query string).
 */
import { parse as parseQuery } from 'node:querystring';

/** Parsed form or query fields; a repeated field becomes an array. */
export type Fields = Record<string, string | string[]>;

/**
 * Parses `application/x-www-form-urlencoded` (`+` is a space), keeping repeated fields as arrays. node:querystring
 * does exactly this and is faster than URLSearchParams on the token endpoint's hot path.
 */
export function parseForm(body: string): Fields {
  const parsed = parseQuery(body);
  const out: Fields = Object.create(null);
  for (const k in parsed) {
    const v = parsed[k];
    if (v !== undefined) out[k] = v;
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
    const fields = source as Record<string, unknown>;
    for (const k in fields) {
      if (!Object.hasOwn(fields, k)) continue;
      const v = fields[k];
      if (typeof v !== 'string' || params[k] !== undefined) {
        const why = Array.isArray(v) || params[k] !== undefined ? 'is repeated' : 'must be a string';
        return { ok: false, reason: `Parameter ${k.slice(0, 50)} ${why}.` };
      }
      if (v.length > MAX_PARAM_LENGTH) return { ok: false, reason: `Parameter ${k.slice(0, 50)} is too long.` };
      params[k] = v;
    }
  }
  return { ok: true, params };
}
