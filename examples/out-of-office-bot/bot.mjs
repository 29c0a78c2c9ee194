// An out-of-office bot for a Webex *person*. It gets the person's access token from the webex-auth token broker (so it
// never handles a refresh token), registers a Webex webhook for the person's direct messages, and answers each sender
// **as a bot** (BOT_TOKEN) with an out-of-office reply, at most once per sender per cool-down. The person's token
// needs only `spark:messages_read` (and `openid`, so the broker knows who the person is).
//
//   BROKER_URL=http://localhost:8080 BROKER_API_KEY=wak_… CONNECTION_ID=conn_… BOT_TOKEN=… \
//   PUBLIC_URL=https://ooo.example.com PORT=8787 OOO_MESSAGE="I'm out of the office until Monday." \
//   node examples/out-of-office-bot/bot.mjs
//
// MODE=poll polls the person's direct spaces instead (for hosts Webex cannot reach; needs spark:rooms_read);
// REPLY_AS=person answers as the person (needs spark:messages_write). Plain JavaScript (ESM) on purpose: it runs with
// `node`, no build step.
import { randomBytes } from 'node:crypto';
import { BotError, request, sleep } from './http.mjs';
import { startReceiver } from './receiver.mjs';
import { ensureWebhook } from './webhook.mjs';

export { BotError } from './http.mjs';

/**
 * @typedef {object} BotOptions
 * @property {string} brokerUrl Base URL of the webex-auth server, e.g. `http://localhost:8080`.
 * @property {string} apiKey A broker API key (`wak_…`) made for `connectionId`.
 * @property {string} connectionId The connection (integration + person) the bot works for.
 * @property {string} [botToken] The bot's access token; required unless `replyAs` is `person`.
 * @property {'bot' | 'person'} [replyAs] Who answers (default `bot`; `person` needs spark:messages_write).
 * @property {'webhook' | 'poll'} [mode] Default `webhook`.
 * @property {string} [apiBase] Webex API base (default `https://webexapis.com/v1`).
 * @property {string} [message] The reply text.
 * @property {number} [cooldownMs] Minimum time between two replies to one sender (default 24 h).
 * @property {string} [publicUrl] Where Webex reaches this bot (default `http://<host>:<port>`, fine for the emulator).
 * @property {string} [receiverPath] Default `/webhooks/webex`.
 * @property {string} [host] Where the receiver listens (default `127.0.0.1`).
 * @property {number} [port] Default 0 (a free port).
 * @property {string} [webhookName] Default `out-of-office bot`: the bot finds its webhook by name and target URL.
 * @property {string} [webhookSecret] Default: random per start (the reused webhook gets it by PUT).
 * @property {number} [pollIntervalMs] MODE=poll: default 30 s.
 * @property {number} [since] MODE=poll: only messages created after this epoch ms are answered (default: start).
 * @property {typeof fetch} [fetch]
 * @property {(line: string) => void} [log]
 */

/**
 * The part of a delivery the bot reads.
 * @typedef {{ id: string, roomId?: string, roomType?: string, personId?: string, personEmail?: string }} MessageData
 */

const DEFAULT_MESSAGE = 'Thanks for your message. I am out of the office and will reply when I am back.';
/** Message ids remembered against a second delivery of the same event. */
const SEEN_LIMIT = 10_000;

/**
 * Creates the bot. `start()` begins (webhook mode: listen, register; poll mode: poll), `stop()` ends, `done` resolves
 * when it stopped (with the error that stopped it, if one did), `settled()` waits for the deliveries in hand.
 * @param {BotOptions} options
 */
export function createOutOfOfficeBot(options) {
  const apiBase = (options.apiBase ?? 'https://webexapis.com/v1').replace(/\/+$/, '');
  const brokerUrl = options.brokerUrl.replace(/\/+$/, '');
  const replyAs = options.replyAs ?? 'bot';
  const mode = options.mode ?? 'webhook';
  const text = options.message ?? DEFAULT_MESSAGE;
  const cooldownMs = options.cooldownMs ?? 24 * 3_600_000;
  const receiverPath = options.receiverPath ?? '/webhooks/webex';
  const host = options.host ?? '127.0.0.1';
  const secret = options.webhookSecret ?? randomBytes(24).toString('base64url');
  const log = options.log ?? (() => {});
  const since = options.since ?? Date.now();
  const controller = new AbortController();
  const io = { fetch: options.fetch ?? globalThis.fetch, signal: controller.signal, log };

  /** Ids of the person (from the broker, and the webhook's `createdBy`): their own messages get no reply. */
  const ownIds = new Set();
  /** @type {string | undefined} the bot's own person id */
  let botId;
  /** @type {Map<string, number>} sender → when the bot last answered them */
  const repliedAt = new Map();
  /** @type {Set<string>} message ids already handled */
  const seen = new Set();
  /** @type {{ close: () => Promise<void> } | undefined} */
  let receiver;
  /** @type {import('./webhook.mjs').Webhook | undefined} */
  let webhook;
  let work = Promise.resolve();
  let stopped = false;
  /** @type {(error: Error | undefined) => void} */
  let finish = () => {};
  /** @type {Promise<Error | undefined>} */
  const done = new Promise((resolve) => {
    finish = resolve;
  });
  const counts = { deliveries: 0, replies: 0, ignored: 0 };

  /** @type {{ token: string, until: number } | undefined} */
  let cached;

  /** The person's fresh access token (the broker refreshes it when needed), kept for a minute. */
  async function personToken() {
    if (cached && Date.now() < cached.until) return cached.token;
    const path = `/api/v1/connections/${encodeURIComponent(options.connectionId)}/token?min_validity=300`;
    const { body } = await request(io, {
      who: 'broker',
      method: 'GET',
      url: `${brokerUrl}${path}`,
      path: '/api/v1/connections/{id}/token',
      token: options.apiKey,
    });
    if (body?.person?.id) ownIds.add(body.person.id);
    cached = { token: String(body.access_token), until: Date.now() + 60_000 };
    return cached.token;
  }

  /**
   * A Webex call with the person's token.
   * @type {import('./webhook.mjs').WebexCall}
   */
  async function asPerson(method, path, body) {
    // `path` may be a `Link` header's absolute URL (pagination): the person's token goes nowhere but `apiBase`.
    const url = path.startsWith('http') ? path : `${apiBase}${path}`;
    if (!url.startsWith(`${apiBase}/`))
      throw new BotError(`refusing to send the person's token to ${new URL(url).host}`);
    const shown = url.slice(apiBase.length);
    const token = await personToken();
    return request(io, { who: 'person', method, url, path: shown, token, body });
  }

  /**
   * A Webex call with the bot's token.
   * @param {string} method @param {string} path @param {unknown} [body]
   */
  function asBot(method, path, body) {
    return request(io, { who: 'bot', method, url: `${apiBase}${path}`, path, token: String(options.botToken), body });
  }

  /**
   * Answers `sender` unless it was answered within the cool-down.
   * @param {{ id?: string, email?: string, roomId?: string }} sender
   */
  async function answer(sender) {
    const key = sender.id ?? sender.email ?? '';
    const last = repliedAt.get(key);
    if (last !== undefined && Date.now() - last < cooldownMs) {
      counts.ignored++;
      log(`not answering ${sender.email ?? 'a sender'} again within the cool-down`);
      return false;
    }
    if (replyAs === 'bot') await asBot('POST', '/messages', { toPersonEmail: sender.email, text });
    else await asPerson('POST', '/messages', { roomId: sender.roomId, text });
    repliedAt.set(key, Date.now());
    counts.replies++;
    log(`answered ${sender.email ?? 'a sender'} as the ${replyAs}`);
    return true;
  }

  /** @param {string} id */
  function firstSight(id) {
    if (seen.has(id)) return false;
    seen.add(id);
    const oldest = seen.values().next().value;
    if (seen.size > SEEN_LIMIT && oldest !== undefined) seen.delete(oldest);
    return true;
  }

  /**
   * Handles one verified delivery.
   * @param {Record<string, any>} delivery
   */
  async function handleDelivery(delivery) {
    counts.deliveries++;
    /** @type {MessageData} */
    const data = delivery.data;
    const ours = webhook && delivery.id === webhook.id;
    if (!ours || delivery.resource !== 'messages' || delivery.event !== 'created' || typeof data?.id !== 'string') {
      counts.ignored++;
      return;
    }
    const fromSelf = ownIds.has(data.personId) || (botId !== undefined && data.personId === botId);
    if (data.roomType !== 'direct' || fromSelf || !firstSight(data.id)) {
      counts.ignored++;
      return;
    }
    let sender = { id: data.personId, email: data.personEmail, roomId: data.roomId };
    // Deliveries carry the sender and space; the message itself is read only when they do not.
    if (!sender.id || !sender.email || !sender.roomId) {
      const { body } = await asPerson('GET', `/messages/${encodeURIComponent(data.id)}`);
      sender = { id: body.personId, email: body.personEmail, roomId: body.roomId };
      if (ownIds.has(sender.id)) return;
    }
    await answer(sender);
  }

  /**
   * Stops for good after an error that asking again would not fix (a refused scope, needs_reauth, a bad key).
   * @param {unknown} error
   */
  function failed(error) {
    if (error instanceof BotError && error.fatal) {
      log(`stopping: ${error.message}`);
      void stop(error);
      return;
    }
    log(`could not answer: ${error instanceof Error ? error.message : String(error)}`);
  }

  /** @param {Record<string, unknown>} delivery */
  function enqueue(delivery) {
    if (stopped) return;
    work = work.then(() => handleDelivery(delivery)).catch(failed);
  }

  /**
   * Polls once: answers new direct messages. Returns how many replies it sent.
   */
  async function pollOnce() {
    const { body: rooms } = await asPerson('GET', '/rooms?type=direct&sortBy=lastactivity&max=50');
    let replies = 0;
    for (const room of rooms.items ?? []) {
      if (room.lastActivity && Date.parse(room.lastActivity) < since) continue;
      const { body } = await asPerson('GET', `/messages?roomId=${encodeURIComponent(room.id)}&max=20`);
      /** @type {Array<{ id: string, personId: string, personEmail: string, created: string }>} */
      const items = body.items ?? [];
      const fresh = items.filter(
        (m) => !ownIds.has(m.personId) && m.personId !== botId && Date.parse(m.created) >= since && firstSight(m.id),
      );
      const newest = fresh[0];
      if (newest && (await answer({ id: newest.personId, email: newest.personEmail, roomId: room.id }))) replies++;
    }
    return replies;
  }

  async function pollLoop() {
    const interval = options.pollIntervalMs ?? 30_000;
    while (!stopped) {
      let wait = interval;
      try {
        await pollOnce();
      } catch (error) {
        if (error instanceof BotError && error.fatal) return failed(error);
        if (error instanceof BotError && error.retryAfter) wait = Math.max(interval, error.retryAfter * 1000);
        failed(error);
      }
      await sleep(wait, controller.signal);
    }
  }

  /**
   * Starts: checks BOT_TOKEN, gets the person, then listens and registers the webhook (or begins polling).
   * Throws a BotError when something refuses (nothing is left running then).
   * @returns {Promise<{ targetUrl?: string, webhookId?: string }>}
   */
  async function start() {
    try {
      if (replyAs === 'bot') {
        if (!options.botToken) throw new BotError('BOT_TOKEN is not set (or set REPLY_AS=person)', { fatal: true });
        botId = (await asBot('GET', '/people/me')).body.id;
      }
      await personToken();
      if (mode === 'poll') {
        void pollLoop();
        return {};
      }
      const listening = await startReceiver({
        path: receiverPath,
        secret,
        host,
        port: options.port ?? 0,
        log,
        onDelivery: enqueue,
      });
      receiver = listening;
      const origin = (
        options.publicUrl ?? `http://${host.includes(':') ? `[${host}]` : host}:${listening.port}`
      ).replace(/\/+$/, '');
      const want = {
        name: options.webhookName ?? 'out-of-office bot',
        targetUrl: `${origin}${receiverPath}`,
        resource: 'messages',
        event: 'created',
        filter: 'roomType=direct',
        secret,
      };
      webhook = await ensureWebhook(asPerson, want, log);
      if (webhook.createdBy) ownIds.add(webhook.createdBy);
      log(`listening on port ${listening.port}; Webex delivers to ${want.targetUrl}`);
      return { targetUrl: want.targetUrl, webhookId: webhook.id };
    } catch (error) {
      await stop(error instanceof Error ? error : new Error(String(error)));
      throw error;
    }
  }

  /**
   * Stops listening and polling (the webhook stays registered, for the next start to reuse).
   * @param {Error} [error] what stopped it, for `done`
   */
  async function stop(error) {
    if (stopped) return;
    stopped = true;
    controller.abort();
    await receiver?.close();
    finish(error);
  }

  return {
    start,
    stop: () => stop(),
    /** Resolves when the bot stopped: with the error that stopped it, or undefined. */
    done,
    /** Waits until every delivery received so far is handled. */
    async settled() {
      let current;
      do {
        current = work;
        await current;
      } while (current !== work);
    },
    pollOnce,
    counts,
  };
}

/**
 * Reads the program's settings from the environment; exits with a one-line error when one is missing or malformed.
 * @param {NodeJS.ProcessEnv} env
 * @returns {BotOptions}
 */
function optionsFromEnv(env) {
  /** @param {string} line */
  const usage = (line) => {
    console.error(`out-of-office bot: ${line} (see examples/out-of-office-bot/README.md)`);
    process.exit(2);
  };
  for (const name of ['BROKER_URL', 'BROKER_API_KEY', 'CONNECTION_ID'])
    if (!env[name]) usage(`${name} is not set; create an API key in webex-auth (/keys or \`webex-auth keys create\`)`);
  const mode = env.MODE ?? 'webhook';
  if (mode !== 'webhook' && mode !== 'poll') usage('MODE must be webhook or poll');
  const replyAs = env.REPLY_AS ?? 'bot';
  if (replyAs !== 'bot' && replyAs !== 'person') usage('REPLY_AS must be bot or person');
  if (replyAs === 'bot' && !env.BOT_TOKEN) usage('BOT_TOKEN is not set (the bot answers with it; or REPLY_AS=person)');
  const port = Number(env.PORT ?? 8787);
  if (!Number.isInteger(port) || port < 0 || port > 65535) usage('PORT must be a port number');
  const hours = Number(env.COOLDOWN_HOURS ?? 24);
  if (!(hours >= 0)) usage('COOLDOWN_HOURS must be a number of hours');
  const pollSeconds = Number(env.POLL_SECONDS ?? 30);
  if (!(pollSeconds >= 1)) usage('POLL_SECONDS must be at least 1');
  if (env.PUBLIC_URL && !/^https?:\/\/[^/]/.test(env.PUBLIC_URL)) usage('PUBLIC_URL must be an http(s) URL');
  return {
    brokerUrl: String(env.BROKER_URL),
    apiKey: String(env.BROKER_API_KEY),
    connectionId: String(env.CONNECTION_ID),
    botToken: env.BOT_TOKEN,
    replyAs: /** @type {'bot' | 'person'} */ (replyAs),
    mode: /** @type {'webhook' | 'poll'} */ (mode),
    apiBase: env.WEBEX_API_BASE,
    message: env.OOO_MESSAGE,
    cooldownMs: hours * 3_600_000,
    publicUrl: env.PUBLIC_URL,
    host: env.HOST ?? (env.PUBLIC_URL ? '0.0.0.0' : '127.0.0.1'),
    port,
    webhookSecret: env.WEBHOOK_SECRET,
    pollIntervalMs: pollSeconds * 1000,
    log: (line) => console.error(`[out-of-office] ${line}`),
  };
}

// Run as a program.
if (import.meta.url === `file://${process.argv[1]}`) {
  const bot = createOutOfOfficeBot(optionsFromEnv(process.env));
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => void bot.stop());
  try {
    await bot.start();
  } catch (error) {
    console.error(`[out-of-office] could not start: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
  console.error('[out-of-office] running; Ctrl-C stops');
  const error = await bot.done;
  process.exit(error ? 1 : 0);
}
