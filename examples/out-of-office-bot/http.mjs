// HTTP for the out-of-office bot: one call to the broker or to Webex, with Retry-After honoured on 429/503 and every
// refusal turned into a BotError that says what to do — a 403 on the person's token names the scope it lacks.

/**
 * The scope the person's token needs for each call this bot makes. Webex's 403 body does not name it, so the bot does.
 * @type {ReadonlyArray<[method: string, pathPrefix: string, scope: string]>}
 */
const SCOPE_OF_CALL = [
  ['GET', '/rooms', 'spark:rooms_read'],
  ['GET', '/messages', 'spark:messages_read'],
  ['POST', '/messages', 'spark:messages_write'],
  // A webhook on `messages` needs a token that can read messages.
  ['POST', '/webhooks', 'spark:messages_read'],
];

/** Tries per call when Webex or the broker answers 429/503 (the first try included). */
const ATTEMPTS = 3;

/** Whose credential a call uses: decides what a refusal means. */
/** @typedef {'person' | 'bot' | 'broker'} Who */

/** A refused or failed call. `fatal`: the bot cannot go on (retrying would only be refused again). */
export class BotError extends Error {
  /**
   * @param {string} message
   * @param {{ status?: number, code?: string, retryAfter?: number, fatal?: boolean }} [details]
   */
  constructor(message, details = {}) {
    super(message);
    this.name = 'BotError';
    /** @type {number | undefined} HTTP status */
    this.status = details.status;
    /** @type {string | undefined} the broker's problem+json `code` */
    this.code = details.code;
    /** @type {number | undefined} seconds, from Retry-After */
    this.retryAfter = details.retryAfter;
    this.fatal = details.fatal ?? false;
  }
}

/**
 * The scope the person's token lacks when `method path` is refused, if this bot knows it.
 * @param {string} method
 * @param {string} path e.g. `/messages/Y2lz…?max=1`
 */
export function scopeFor(method, path) {
  const bare = path.split('?')[0] ?? path;
  const hit = SCOPE_OF_CALL.find(([m, prefix]) => m === method && (bare === prefix || bare.startsWith(`${prefix}/`)));
  return hit?.[2];
}

/**
 * Seconds to wait from a Retry-After header (seconds or an HTTP date), if any.
 * @param {Headers} headers
 */
function retryAfterOf(headers) {
  const raw = headers.get('retry-after');
  if (!raw) return undefined;
  const seconds = /^\d+$/.test(raw) ? Number(raw) : (Date.parse(raw) - Date.now()) / 1000;
  return Number.isFinite(seconds) ? Math.max(1, Math.ceil(seconds)) : undefined;
}

/**
 * Waits `ms`, or less when `signal` aborts.
 * @param {number} ms
 * @param {AbortSignal} [signal]
 */
export function sleep(ms, signal) {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve(undefined);
    const done = () => {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve(undefined);
    };
    const t = setTimeout(done, ms);
    signal?.addEventListener('abort', done);
  });
}

/**
 * The error for a non-2xx answer.
 * @param {Response} res
 * @param {{ who: Who, method: string, path: string }} call
 */
async function errorOf(res, { who, method, path }) {
  const what = `${method} ${path.split('?')[0]}`;
  const retryAfter = retryAfterOf(res.headers);
  /** @type {{ code?: unknown, detail?: unknown, message?: unknown }} */
  let body = {};
  try {
    body = await res.json();
  } catch {
    // not JSON: the status says enough
  }
  const code = typeof body.code === 'string' ? body.code : undefined;
  const status = res.status;
  if (who === 'broker') {
    if (code === 'needs_reauth')
      return new BotError('the person must authorize again in webex-auth (the broker says needs_reauth)', {
        status,
        code,
        fatal: true,
      });
    const detail = typeof body.detail === 'string' ? `: ${body.detail}` : '';
    // A wrong key or connection is not fixed by asking again; a 429/503 is.
    const fatal = status === 401 || status === 403 || status === 404;
    return new BotError(`the broker refused the token (HTTP ${status}${code ? ` ${code}` : ''})${detail}`, {
      status,
      code,
      retryAfter,
      fatal,
    });
  }
  if (who === 'person' && status === 403) {
    const scope = scopeFor(method, path);
    const lacks = scope ? `the person's token lacks ${scope}` : "the person's token lacks a scope it needs";
    return new BotError(`${what} was refused: ${lacks} — authorize again with it in webex-auth`, {
      status,
      fatal: true,
    });
  }
  if (status === 401) {
    const whose = who === 'bot' ? 'BOT_TOKEN' : "the person's token (from the broker)";
    return new BotError(`${what} was refused: Webex does not accept ${whose} (HTTP 401)`, { status, fatal: true });
  }
  const message = typeof body.message === 'string' ? `: ${body.message.slice(0, 200)}` : '';
  return new BotError(`${what} failed: HTTP ${status}${message}`, { status, retryAfter });
}

/**
 * Makes one call, trying again after Retry-After (else 1 s, 2 s) while the answer is 429 or 503, at most
 * {@link ATTEMPTS} times. Returns the parsed JSON body (undefined for 204) and the headers (for `Link`).
 * @param {{ fetch: typeof fetch, signal?: AbortSignal, log: (line: string) => void }} io
 * @param {{ who: Who, method: string, url: string, path: string, token: string, body?: unknown }} call
 * @returns {Promise<{ body: any, headers: Headers }>}
 */
export async function request(io, call) {
  for (let attempt = 1; ; attempt++) {
    /** @type {RequestInit} */
    const init = {
      method: call.method,
      headers: {
        authorization: `Bearer ${call.token}`,
        ...(call.body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(call.body === undefined ? {} : { body: JSON.stringify(call.body) }),
      ...(io.signal ? { signal: io.signal } : {}),
    };
    let res;
    try {
      res = await io.fetch(call.url, init);
    } catch (error) {
      if (io.signal?.aborted) throw error;
      const { cause } = /** @type {{ cause?: { code?: string, message?: string } }} */ (error);
      const why = cause?.code ?? cause?.message ?? 'network error';
      throw new BotError(
        `${call.method} ${call.path.split('?')[0]}: could not reach ${new URL(call.url).host} (${why})`,
      );
    }
    if (res.ok) {
      const text = await res.text();
      return { body: text ? JSON.parse(text) : undefined, headers: res.headers };
    }
    const error = await errorOf(res, call);
    const busy = res.status === 429 || res.status === 503;
    if (!busy || error.fatal || attempt >= ATTEMPTS || io.signal?.aborted) throw error;
    const wait = (error.retryAfter ?? 2 ** (attempt - 1)) * 1000;
    io.log(`${call.method} ${call.path.split('?')[0]}: HTTP ${res.status}, trying again in ${wait / 1000} s`);
    await sleep(wait, io.signal);
  }
}

/**
 * The `rel="next"` URL of a `Link` header, if any.
 * @param {string | null} link
 */
export function nextLink(link) {
  if (!link) return undefined;
  for (const part of link.split(',')) {
    const m = /<([^>]+)>\s*;\s*rel="?next"?/.exec(part);
    if (m) return m[1];
  }
  return undefined;
}
