/**
 * The `{path}` of `/api/v1/connections/{id}/proxy/{path}`, checked before anything else looks at it (SECURITY.md,
 * "Webex proxy"): read from the raw request line (not from a router-decoded parameter, so no decoding happens twice),
 * split on `/`, and refused when a segment is empty, `.` or `..` (also percent-encoded), holds an encoded `/` or `\`
 * (`%2F`, `%5C`), a backslash, a control character, or an invalid escape. What passes is forwarded byte for byte as
 * sent; the key's path limits are checked against the decoded form, which is what Webex routes on.
 */

/** A checked proxy path. */
export interface ProxyPath {
  /** The path as sent (percent-encoded), without a leading slash: what is appended to the API base. */
  raw: string;
  /** Its segments decoded, joined with `/`: what a key's path prefixes are compared with. */
  decoded: string;
  /** The query string as sent, with its `?` (empty when none). */
  search: string;
}

/** Why a path was refused (a sentence for the problem's detail; never echoes the path). */
export type PathRefusal = { refused: string };

const CONTROL = /[\u0000-\u001f\u007f]/;
const EMPTY_SEGMENT = 'The path may not contain empty segments (// or a trailing /).';
const DOT_SEGMENT = 'The path may not contain . or .. segments.';

/**
 * Checks the part of `url` (a raw request URL) after `prefix` (`/api/v1/connections/{id}/proxy/`).
 * @returns the checked path, or why it is refused.
 */
export function parseProxyPath(url: string, prefix: string): ProxyPath | PathRefusal {
  const q = url.indexOf('?');
  const pathPart = q === -1 ? url : url.slice(0, q);
  const search = q === -1 ? '' : url.slice(q);
  if (!pathPart.startsWith(prefix)) return { refused: 'The path must follow /proxy/.' };
  const raw = pathPart.slice(prefix.length);
  if (raw === '') return { refused: 'Name the Webex API path after /proxy/, such as /proxy/people/me.' };
  if (raw.includes('\\') || CONTROL.test(raw) || CONTROL.test(search)) {
    return { refused: 'The path may not contain backslashes or control characters.' };
  }
  if (!raw.includes('%')) {
    // Nothing to decode (most calls): each segment is as sent, and backslashes and control characters were refused
    // above, so only empty and dot segments remain to refuse — with the same answers, in the same order, as below.
    for (const segment of raw.split('/')) {
      if (segment === '') return { refused: EMPTY_SEGMENT };
      if (segment === '.' || segment === '..') return { refused: DOT_SEGMENT };
    }
    return { raw, decoded: raw, search };
  }
  const decoded: string[] = [];
  for (const segment of raw.split('/')) {
    if (segment === '') return { refused: EMPTY_SEGMENT };
    let text: string;
    try {
      text = decodeURIComponent(segment);
    } catch {
      return { refused: 'The path holds an invalid percent-escape.' };
    }
    if (text === '.' || text === '..') return { refused: DOT_SEGMENT };
    if (text.includes('/') || text.includes('\\')) {
      return { refused: 'The path may not contain encoded slashes or backslashes (%2F, %5C).' };
    }
    if (CONTROL.test(text)) return { refused: 'The path may not contain control characters.' };
    decoded.push(text);
  }
  return { raw, decoded: decoded.join('/'), search };
}

/** Whether `path` (decoded) is one of `prefixes` or below one (`rooms` allows `rooms` and `rooms/…`, not `roomsX`). */
export function pathAllowed(path: string, prefixes: readonly string[] | undefined): boolean {
  if (!prefixes) return true;
  return prefixes.some((p) => path === p || path.startsWith(`${p}/`));
}

/**
 * The path as a metrics label: each segment that is not a plain word (a Webex id, a UUID, a number, an email) becomes
 * `{id}`, so `rooms/Y2lz…/meetingInfo` is counted as `rooms/{id}/meetingInfo` and labels stay few.
 */
export function pathTemplate(decoded: string): string {
  return decoded
    .split('/')
    .map((s) => (/^[A-Za-z][A-Za-z_-]{0,31}$/.test(s) ? s : '{id}'))
    .join('/');
}
