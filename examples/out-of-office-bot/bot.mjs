// An out-of-office bot for a Webex *person*: it gets that person's access token from the webex-auth token broker
// (so it never handles a refresh token), looks at the person's direct spaces, and answers each new direct message
// with an out-of-office reply, at most once per space per cool-down period.
//
//   BROKER_URL=http://localhost:8080 BROKER_API_KEY=wak_… CONNECTION_ID=conn_… \
//   OOO_MESSAGE="I'm out of the office until Monday." node examples/out-of-office-bot/bot.mjs
//
// Plain JavaScript (ESM) on purpose: it runs with `node`, no build step.

/**
 * @typedef {object} BotOptions
 * @property {string} brokerUrl Base URL of the webex-auth server, e.g. `http://localhost:8080`.
 * @property {string} apiKey A broker API key (`wak_…`) made for `connectionId`.
 * @property {string} connectionId The connection (integration + person) the bot speaks for.
 * @property {string} [apiBase] Webex API base (default `https://webexapis.com/v1`).
 * @property {string} [message] The reply text.
 * @property {number} [cooldownMs] Minimum time between two replies in one space (default 24 h).
 * @property {number} [since] Only messages created after this epoch ms are answered (default: start time).
 * @property {typeof fetch} [fetch]
 * @property {(line: string) => void} [log]
 */

/** A broker or Webex answer that is not a success. */
export class BotError extends Error {
  /**
   * @param {string} message
   * @param {number} status
   * @param {string | undefined} code problem+json `code` (broker) if any
   * @param {number | undefined} retryAfter seconds
   */
  constructor(message, status, code, retryAfter) {
    super(message);
    this.name = 'BotError';
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
  }
}

/**
 * Creates the bot. `pollOnce()` answers what is new and returns how many replies it sent; `run()` polls until aborted.
 * @param {BotOptions} options
 */
export function createOutOfOfficeBot(options) {
  const apiBase = (options.apiBase ?? 'https://webexapis.com/v1').replace(/\/+$/, '');
  const brokerUrl = options.brokerUrl.replace(/\/+$/, '');
  const message = options.message ?? 'Thanks for your message. I am out of the office and will reply when I am back.';
  const cooldownMs = options.cooldownMs ?? 24 * 3_600_000;
  const doFetch = options.fetch ?? globalThis.fetch;
  const log = options.log ?? (() => {});
  const since = options.since ?? Date.now();
  /** @type {Map<string, number>} space id → when we last replied there */
  const repliedAt = new Map();
  /** @type {Set<string>} message ids already handled */
  const handled = new Set();

  /** @param {Response} res */
  async function fail(res, what) {
    const retry = Number(res.headers.get('retry-after'));
    let code;
    try {
      code = (await res.json()).code;
    } catch {
      code = undefined;
    }
    return new BotError(
      `${what}: HTTP ${res.status}${code ? ` (${code})` : ''}`,
      res.status,
      code,
      retry > 0 ? retry : undefined,
    );
  }

  /** A fresh access token for the person, from the broker (it refreshes when needed). */
  async function token() {
    const res = await doFetch(
      `${brokerUrl}/api/v1/connections/${encodeURIComponent(options.connectionId)}/token?min_validity=300`,
      { headers: { authorization: `Bearer ${options.apiKey}` } },
    );
    if (!res.ok) throw await fail(res, 'broker token');
    return /** @type {{ access_token: string, person: { id: string, email: string } }} */ (await res.json());
  }

  /** @param {string} accessToken @param {string} path @param {RequestInit} [init] */
  async function webex(accessToken, path, init = {}) {
    const res = await doFetch(path.startsWith('http') ? path : `${apiBase}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json', ...init.headers },
    });
    if (!res.ok) throw await fail(res, `Webex ${init.method ?? 'GET'} ${path.split('?')[0]}`);
    return res.json();
  }

  async function pollOnce() {
    const { access_token: accessToken, person } = await token();
    const rooms = /** @type {{ items: Array<{ id: string, lastActivity?: string }> }} */ (
      await webex(accessToken, '/rooms?type=direct&sortBy=lastactivity&max=50')
    );
    let replies = 0;
    for (const room of rooms.items) {
      if (room.lastActivity && Date.parse(room.lastActivity) < since) continue;
      const { items } = /** @type {{ items: Array<{ id: string, personId: string, created: string }> }} */ (
        await webex(accessToken, `/messages?roomId=${encodeURIComponent(room.id)}&max=20`)
      );
      const fresh = items.filter(
        (m) => m.personId !== person.id && Date.parse(m.created) >= since && !handled.has(m.id),
      );
      for (const m of fresh) handled.add(m.id);
      if (fresh.length === 0) continue;
      const last = repliedAt.get(room.id);
      if (last !== undefined && Date.now() - last < cooldownMs) continue;
      await webex(accessToken, '/messages', {
        method: 'POST',
        body: JSON.stringify({ roomId: room.id, text: message }),
      });
      repliedAt.set(room.id, Date.now());
      replies++;
      log(`replied in a direct space (${fresh.length} new message${fresh.length === 1 ? '' : 's'})`);
    }
    return replies;
  }

  /**
   * Polls every `intervalMs` until `signal` aborts. Backs off on 429/503 (Retry-After); stops when the broker says
   * the person must authorize again.
   * @param {{ intervalMs?: number, signal?: AbortSignal }} [opts]
   */
  async function run(opts = {}) {
    const interval = opts.intervalMs ?? 30_000;
    while (!opts.signal?.aborted) {
      let wait = interval;
      try {
        await pollOnce();
      } catch (err) {
        if (err instanceof BotError && err.code === 'needs_reauth') {
          log('the person must authorize again in webex-auth; stopping');
          return;
        }
        if (err instanceof BotError && err.retryAfter) wait = Math.max(interval, err.retryAfter * 1000);
        log(`poll failed: ${err instanceof Error ? err.message : String(err)}`);
      }
      await new Promise((resolve) => {
        const t = setTimeout(resolve, wait);
        opts.signal?.addEventListener('abort', () => {
          clearTimeout(t);
          resolve(undefined);
        });
      });
    }
  }

  return { pollOnce, run };
}

// Run as a program.
if (import.meta.url === `file://${process.argv[1]}`) {
  const env = process.env;
  for (const name of ['BROKER_URL', 'BROKER_API_KEY', 'CONNECTION_ID']) {
    if (!env[name]) {
      console.error(`${name} is not set. Create an API key with \`webex-auth keys create\` and see README.md.`);
      process.exit(2);
    }
  }
  const controller = new AbortController();
  process.on('SIGINT', () => controller.abort());
  const bot = createOutOfOfficeBot({
    brokerUrl: env.BROKER_URL,
    apiKey: env.BROKER_API_KEY,
    connectionId: env.CONNECTION_ID,
    apiBase: env.WEBEX_API_BASE,
    message: env.OOO_MESSAGE,
    log: (line) => console.error(`[out-of-office] ${line}`),
  });
  console.error('[out-of-office] running; Ctrl-C stops');
  await bot.run({ intervalMs: Number(env.POLL_SECONDS ?? 30) * 1000, signal: controller.signal });
}
