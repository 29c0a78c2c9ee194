/**
 * Checking what `webex-auth api` was asked to send before any token is read: the endpoint (a path under the
 * connection's API base, or a full URL only when it is under that base: the access token is sent nowhere else), the
 * method, and the extra headers (never `Authorization`).
 */
import { CliError, EXIT } from '../io.js';
import { terminalSafe } from '../ui/terminal-safe.js';

/** The methods `api` sends (those the REST client allows). */
export const API_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD'] as const;

/** Headers the client sets itself or that would change where or how the request goes. */
const RESERVED_HEADERS = new Set([
  'authorization',
  'host',
  'cookie',
  'connection',
  'content-length',
  'transfer-encoding',
  'keep-alive',
  'upgrade',
  'te',
  'trailer',
  'expect',
  'proxy-authorization',
  'proxy-connection',
]);

/** An HTTP field name (RFC 9110 token). */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** The base without a trailing slash, and its path (`/v1`). */
function baseParts(apiBase: string): { base: URL; basePath: string } {
  const base = new URL(apiBase.replace(/\/+$/, ''));
  return { base, basePath: base.pathname.replace(/\/+$/, '') };
}

/** Whether `url` is at or under the API base (same origin, path under the base path). */
function underBase(url: URL, base: URL, basePath: string): boolean {
  return url.origin === base.origin && (url.pathname === basePath || url.pathname.startsWith(`${basePath}/`));
}

/**
 * The endpoint as a path relative to the API base, with its query string (`/people/me`, `/rooms?max=2`): from a
 * relative path (`people/me`, `/rooms`, `/v1/rooms`) or a full URL under the base; a fragment is dropped.
 * @throws {CliError} exit 2 for a URL outside the base (another host, scheme, port or path), or control characters.
 */
export function endpointPath(endpoint: string, apiBase: string): string {
  const { base, basePath } = baseParts(apiBase);
  const outside = (shown: string) =>
    new CliError(
      `${shown} is not under the connection's API base ${apiBase}; the access token is sent nowhere else`,
      EXIT.usage,
      `Give a path such as people/me, or a full URL that starts with ${apiBase}/.`,
    );
  if (endpoint.trim() === '' || /[\u0000-\u001f\u007f\\]/.test(endpoint)) {
    throw new CliError(
      'the endpoint is empty or has control characters or a backslash',
      EXIT.usage,
      'Give a path such as people/me or rooms?max=2.',
    );
  }
  let url: URL;
  if (/^[a-z][a-z0-9+.-]*:/i.test(endpoint) || endpoint.startsWith('//')) {
    try {
      url = new URL(endpoint, base);
    } catch {
      throw outside('the URL');
    }
    // Only the origin and path are shown: a query string may carry anything.
    if (!underBase(url, base, basePath)) throw outside(terminalSafe(`${url.origin}${url.pathname}`).slice(0, 200));
  } else {
    let rel = endpoint.startsWith('/') ? endpoint : `/${endpoint}`;
    // `/v1/rooms` names the same endpoint as `/rooms` (the REST client drops a repeated base path too).
    if (basePath && (rel === basePath || rel.startsWith(`${basePath}/`) || rel.startsWith(`${basePath}?`))) {
      rel = rel.slice(basePath.length) || '/';
    }
    url = new URL(`${base.origin}${basePath}${rel.startsWith('/') ? '' : '/'}${rel}`);
    // `..` segments resolve away: what is left must still be under the base.
    if (!underBase(url, base, basePath)) throw outside(terminalSafe(url.pathname).slice(0, 200));
  }
  const path = url.pathname.slice(basePath.length) || '/';
  if (path.startsWith('//')) throw outside(terminalSafe(url.pathname).slice(0, 200));
  return `${path}${url.search}`;
}

/** The method in upper case. @throws {CliError} exit 2 for one the REST client does not send. */
export function apiMethod(value: string): (typeof API_METHODS)[number] {
  const method = value.toUpperCase();
  const known = API_METHODS.find((m) => m === method);
  if (!known) {
    throw new CliError(
      `unknown method "${terminalSafe(value).slice(0, 20)}"`,
      EXIT.usage,
      `Use -X with one of ${API_METHODS.join(', ')}.`,
    );
  }
  return known;
}

/**
 * `-H 'Name: value'` arguments as a header record. Values are never echoed in an error (they may be secrets).
 * @throws {CliError} exit 2 for a malformed header, or one the client sets itself (Authorization above all).
 */
export function parseHeaders(args: readonly string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const arg of args) {
    const colon = arg.indexOf(':');
    const name = (colon > 0 ? arg.slice(0, colon) : '').trim();
    const value = arg.slice(colon + 1).trim();
    if (!TOKEN.test(name) || /[\u0000-\u0008\u000a-\u001f\u007f]/.test(value)) {
      throw new CliError(
        `-H "${terminalSafe(name || arg.slice(0, 30)).slice(0, 60)}": expected 'Name: value' on one line`,
        EXIT.usage,
        "Write -H 'Name: value', e.g. -H 'Accept: application/json'.",
      );
    }
    if (name.toLowerCase() === 'authorization') {
      throw new CliError(
        '-H cannot set Authorization: the access token is the connection’s',
        EXIT.usage,
        'Pick the connection with --connection <id|email> instead.',
      );
    }
    if (RESERVED_HEADERS.has(name.toLowerCase())) {
      throw new CliError(
        `-H cannot set ${name}: the HTTP client sets it`,
        EXIT.usage,
        'Leave it out; the request sets it itself.',
      );
    }
    headers[name.toLowerCase()] = value;
  }
  return headers;
}
