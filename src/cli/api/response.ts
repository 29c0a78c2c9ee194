/**
 * What `webex-auth api` prints of Webex's answers: the status line and headers (`-i`), the body (JSON indented on a
 * terminal, compact into a pipe; other text as is), pages merged into one `items` list (`--paginate`), and a failed
 * call as one error line with the tracking id plus what to do — for a 403, the scope the call needs.
 */
import { retryAfterOf, toSeconds } from '../../oauth/retry-after.js';
import { scopesForEndpoint, sparkAllCovers } from '../../scopes/catalog.js';
import { errorDescription, WebexApiError } from '../../webex/errors.js';
import { CliError, EXIT } from '../io.js';
import { terminalSafe } from '../ui/terminal-safe.js';

/** One answer, read whole. */
export interface Answer {
  status: number;
  statusText: string;
  headers: Headers;
  /** The body parsed as JSON, or the text when it is not JSON; `undefined` when empty. */
  body: unknown;
  /** Whether {@link body} is parsed JSON. */
  json: boolean;
}

/** Reads a response whole: JSON when it parses as JSON, else its text. */
export async function readAnswer(response: Response): Promise<Answer> {
  const text = await response.text();
  let body: unknown = text === '' ? undefined : text;
  let json = false;
  if (text !== '') {
    try {
      body = JSON.parse(text);
      json = true;
    } catch {
      // not JSON: printed as text
    }
  }
  return { status: response.status, statusText: response.statusText, headers: response.headers, body, json };
}

/** `text` safe for a terminal line by line (newlines kept), or as is into a pipe or file. */
function forOutput(text: string, tty: boolean): string {
  return tty ? text.split('\n').map(terminalSafe).join('\n') : text;
}

/** The status line and headers as `gh api -i` prints them, then a blank line. */
export function headerBlock(answer: Answer, tty: boolean): string {
  const lines = [`HTTP/1.1 ${answer.status} ${answer.statusText}`.trimEnd()];
  for (const [name, value] of answer.headers) lines.push(`${name}: ${value}`);
  return `${lines.map((l) => forOutput(l, tty)).join('\n')}\n\n`;
}

/** The body as printed: JSON indented on a terminal and compact otherwise (one line per answer); '' when empty. */
export function bodyText(body: unknown, json: boolean, tty: boolean): string {
  if (body === undefined) return '';
  if (json) return `${tty ? JSON.stringify(body, null, 2) : JSON.stringify(body)}\n`;
  const text = String(body);
  return forOutput(text.endsWith('\n') ? text : `${text}\n`, tty);
}

/**
 * The pages of a `--paginate` run as one answer: Webex lists are `{"items": [...]}`, so the items are concatenated
 * into the first page's object (JSON arrays are concatenated too, as gh does); `undefined` when the pages are not
 * lists, then each page is printed as it is.
 */
export function mergePages(bodies: unknown[]): unknown {
  if (bodies.every(Array.isArray)) return (bodies as unknown[][]).flat();
  const lists = bodies.every(
    (b) => b !== null && typeof b === 'object' && Array.isArray((b as { items?: unknown }).items),
  );
  if (!lists) return undefined;
  const items = bodies.flatMap((b) => (b as { items: unknown[] }).items);
  return { ...(bodies[0] as object), items };
}

/** The connection's scopes, for the 403 explanation. */
export interface ScopeContext {
  granted: readonly string[];
}

/** Whether `granted` allows `scope` (itself, or `spark:all` for a user-level spark: scope). */
function grants(granted: readonly string[], scope: string): boolean {
  return granted.includes(scope) || (granted.includes('spark:all') && sparkAllCovers(scope));
}

/** What to do about a 403: the scope the call needs and the login that adds it, or the role it may lack. */
function forbiddenHint(method: string, path: string, granted: readonly string[]): { why: string; hint: string } {
  const needed = scopesForEndpoint(method, path);
  if (needed.length === 0) {
    return {
      why: 'the access token lacks a scope this call needs, or the person a role or licence',
      hint: 'See the endpoint at developer.webex.com for its scope, then run `webex-auth login --scopes "<scopes>"`.',
    };
  }
  const either = needed.length > 1 ? ` (or ${needed.slice(1).join(', ')})` : '';
  if (needed.some((s) => grants(granted, s))) {
    return {
      why: `the connection has the scope it needs (${needed[0]}${either}): the person lacks a role or licence`,
      hint: 'Ask a Webex admin for the role or licence this call needs.',
    };
  }
  const add = needed.find((s) => s !== 'spark:all') ?? (needed[0] as string);
  const scopes = [...granted, add].join(' ');
  return {
    why: `it needs the scope ${needed[0]}${either}, which this connection lacks`,
    hint: `Run \`webex-auth login --scopes "${scopes}"\` to authorize again with it (the integration must have it registered).`,
  };
}

/**
 * The error for a failed call: one line `Webex METHOD /path failed with HTTP N: …` with the tracking id, a line
 * saying what to do, and the exit code (4 for a rejected access token, else 1).
 */
export function answerError(method: string, path: string, answer: Answer, scope: ScopeContext): CliError {
  const trackingId =
    answer.headers.get('trackingid') ??
    (answer.json && typeof (answer.body as { trackingId?: unknown })?.trackingId === 'string'
      ? (answer.body as { trackingId: string }).trackingId
      : undefined);
  const retryAfterMs = retryAfterOf(answer);
  const retryAfter = retryAfterMs === undefined ? undefined : toSeconds(retryAfterMs);
  let description = answer.json ? errorDescription(answer.body) : undefined;
  let hint: string;
  let code: 1 | 4 = EXIT.failure;
  if (answer.status === 403) {
    const forbidden = forbiddenHint(method, path, scope.granted);
    description = forbidden.why;
    hint = forbidden.hint;
  } else if (answer.status === 401) {
    code = EXIT.authNeeded;
    hint = 'Webex rejected the access token: run `webex-auth refresh`, or `webex-auth login` if that does not help.';
  } else if (answer.status === 429) {
    hint = retryAfter ? `Wait ${retryAfter} s (Retry-After), then try again.` : 'Wait a moment, then try again.';
  } else if (answer.status === 404) {
    hint = 'Check the path and the ids in it (developer.webex.com lists the endpoints).';
  } else if (answer.status >= 500) {
    hint = 'Webex failed; try again later, and quote the tracking id if it persists.';
  } else {
    hint = 'Check the method, the fields and the body against the endpoint at developer.webex.com.';
  }
  const e = new WebexApiError({ method, path, status: answer.status, trackingId, description, retryAfter });
  const tracking = trackingId ? ` (tracking id ${trackingId})` : '';
  return new CliError(terminalSafe(`${e.message}${tracking}`), code, hint);
}
