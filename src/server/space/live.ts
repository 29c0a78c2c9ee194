/**
 * The live space page: new messages of the demo space pushed to every open `/space/events` stream of the connection
 * the page shows, without a reload.
 *
 * Fed by Webex webhooks when Webex can reach this server (demo mode: the emulator is on loopback; or a `PUBLIC_URL`
 * on https), registered with the person's token at `POST /space/webhook` and signed with a secret of its own (derived from a
 * random key of this process); on a delivery the message is read by id with the same token. Otherwise — or when Webex refuses the
 * webhook — by polling the space with the person's token every `pollMs` while at least one stream is open.
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import { WebexClient } from '../../webex/client.js';
import { type Message, messageSchema } from '../../webex/schemas.js';
import type { ServerContext } from '../context.js';
import { messageItem } from '../views/space.js';
import { spaceMessage } from './messages.js';
import { EventStreams, STREAM_LIMITS, type StreamLimits } from './streams.js';
import { type Delivery, ensureSpaceWebhook, WebhookSetupError } from './webhooks.js';

/** How a feed learns of new messages. */
export type FeedMode = 'webhook' | 'polling';

/** Options of {@link SpaceLive}. */
export interface SpaceLiveOptions {
  ctx: ServerContext;
  log: FastifyBaseLogger;
  /** Where Webex can deliver the webhook (`…/space/webhook`), or undefined when it cannot reach this server. */
  webhookTarget: () => string | undefined;
  /** Polling interval in ms (default 3000). */
  pollMs?: number;
  limits?: StreamLimits;
}

/** Messages fetched per poll (newest first); more new ones between two polls than this show on reload. */
const POLL_PAGE = 20;
/** Message ids remembered per feed, to send each message once. */
const SEEN_MAX = 500;

interface Feed {
  connectionId: string;
  mode: FeedMode;
  seen: Set<string>;
  timer?: NodeJS.Timeout;
  /** Polling: whether the first look at the space (what the page already shows) was taken. */
  baselined: boolean;
  polling: boolean;
}

/** The live feeds and their streams; one per app. */
export class SpaceLive {
  /**
   * This process's key of the webhooks' secrets: each webhook is signed with its own secret derived from it (a person
   * can read their webhook's secret back from `GET /webhooks`; with one shared secret they could sign deliveries for
   * everyone's). A restart registers the same webhooks again with new ones.
   */
  readonly #secretKey = randomBytes(32);
  readonly streams: EventStreams;
  readonly #options: SpaceLiveOptions;
  readonly #feeds = new Map<string, Feed>();
  readonly #starting = new Map<string, Promise<Feed>>();
  /** Webhook id → connection id. */
  readonly #webhooks = new Map<string, string>();
  #warnedWebhook = false;
  #warnedPoll = false;

  constructor(options: SpaceLiveOptions) {
    this.#options = options;
    this.streams = new EventStreams(options.limits ?? STREAM_LIMITS, (feed) => this.#idle(feed));
  }

  /** Starts (or joins) the feed of `connectionId`; resolves once it runs, with how it learns of messages. */
  async attach(connectionId: string): Promise<FeedMode> {
    const running = this.#feeds.get(connectionId);
    if (running) return running.mode;
    let starting = this.#starting.get(connectionId);
    if (!starting) {
      starting = this.#start(connectionId).finally(() => this.#starting.delete(connectionId));
      this.#starting.set(connectionId, starting);
    }
    return (await starting).mode;
  }

  /** Handles a verified webhook delivery: reads the message with the webhook's connection token and pushes it. */
  async delivered(delivery: Delivery): Promise<void> {
    const connectionId = this.#webhooks.get(delivery.id);
    const feed = connectionId ? this.#feeds.get(connectionId) : undefined;
    const { spaceId } = this.#options.ctx.config;
    if (!feed || delivery.resource !== 'messages' || delivery.event !== 'created') return;
    if (delivery.data.roomId !== spaceId || feed.seen.has(delivery.data.id)) return;
    try {
      const client = await this.#client(feed.connectionId);
      const res = await client.request('GET', `/messages/${encodeURIComponent(delivery.data.id)}`);
      const message = messageSchema.safeParse(res.body);
      if (res.status !== 200 || !message.success || message.data.roomId !== spaceId) return;
      await this.#push(feed, message.data);
    } catch (error) {
      this.#options.log.warn(
        { err: { name: (error as Error).name } },
        'space demo: a delivered message could not be read',
      );
    }
  }

  /**
   * The secret that signs the deliveries of webhook `webhookId`, when it is one this process registered (the receiver
   * checks a delivery's signature with it; any other id is refused).
   */
  webhookSecret(webhookId: string): string | undefined {
    const connectionId = this.#webhooks.get(webhookId);
    return connectionId === undefined ? undefined : this.#secretOf(connectionId);
  }

  /** The webhook secret of `connectionId`'s feed. */
  #secretOf(connectionId: string): string {
    return createHmac('sha256', this.#secretKey).update(connectionId).digest('hex');
  }

  /** Stops every feed and ends every stream (the server is closing). */
  close(): void {
    for (const feed of this.#feeds.values()) clearInterval(feed.timer);
    this.#feeds.clear();
    this.streams.closeAll();
  }

  async #client(connectionId: string): Promise<WebexClient> {
    const { accessToken } = await this.#options.ctx.vault.connections.getFreshToken(connectionId, 60);
    return new WebexClient({ apiBase: this.#options.ctx.config.apiBase, accessToken, fetch: this.#options.ctx.fetch });
  }

  async #start(connectionId: string): Promise<Feed> {
    const feed: Feed = { connectionId, mode: 'polling', seen: new Set(), baselined: false, polling: false };
    const target = this.#options.webhookTarget();
    const spaceId = this.#options.ctx.config.spaceId;
    if (target && spaceId) {
      try {
        const client = await this.#client(connectionId);
        const id = await ensureSpaceWebhook(client, {
          targetUrl: target,
          spaceId,
          secret: this.#secretOf(connectionId),
        });
        this.#webhooks.set(id, connectionId);
        feed.mode = 'webhook';
      } catch (error) {
        // Logged once per process, with the step and status only: never the token, the secret or Webex's answer.
        if (!this.#warnedWebhook) {
          this.#warnedWebhook = true;
          const detail =
            error instanceof WebhookSetupError
              ? { step: error.step, status: error.status }
              : { err: { name: (error as Error).name } };
          this.#options.log.warn(detail, 'space demo: webhook registration failed; polling instead');
        }
      }
    }
    if (feed.mode === 'polling') {
      await this.#poll(feed);
      feed.timer = setInterval(() => void this.#poll(feed), this.#options.pollMs ?? 3000);
      feed.timer.unref();
    }
    // The last stream may have closed while the feed was starting.
    if (!this.streams.has(connectionId)) clearInterval(feed.timer);
    else this.#feeds.set(connectionId, feed);
    return feed;
  }

  /** One look at the space: the first marks what is there as seen, later ones push what is new. */
  async #poll(feed: Feed): Promise<void> {
    const spaceId = this.#options.ctx.config.spaceId;
    if (!spaceId || feed.polling) return;
    feed.polling = true;
    try {
      const client = await this.#client(feed.connectionId);
      const recent: Message[] = [];
      for await (const m of client.listMessages({ roomId: spaceId, max: POLL_PAGE })) {
        recent.push(m);
        if (recent.length >= POLL_PAGE) break;
      }
      if (!feed.baselined) {
        for (const m of recent) this.#remember(feed, m.id);
        feed.baselined = true;
        return;
      }
      for (const m of recent.reverse()) if (!feed.seen.has(m.id)) await this.#push(feed, m);
    } catch (error) {
      if (!this.#warnedPoll) {
        this.#warnedPoll = true;
        const status = (error as { status?: unknown }).status;
        this.#options.log.warn(
          { err: { name: (error as Error).name, ...(typeof status === 'number' ? { status } : {}) } },
          'space demo: polling the space failed',
        );
      }
    } finally {
      feed.polling = false;
    }
  }

  async #push(feed: Feed, m: Message): Promise<void> {
    if (feed.seen.has(m.id)) return;
    this.#remember(feed, m.id);
    const item = messageItem(await spaceMessage(m));
    this.streams.send(feed.connectionId, 'message', { id: m.id, html: item.value });
  }

  #remember(feed: Feed, id: string): void {
    feed.seen.add(id);
    if (feed.seen.size > SEEN_MAX) {
      const oldest = feed.seen.values().next().value;
      if (oldest !== undefined) feed.seen.delete(oldest);
    }
  }

  /** The last stream of a feed closed: stop polling (a webhook stays registered, its deliveries are then ignored). */
  #idle(connectionId: string): void {
    const feed = this.#feeds.get(connectionId);
    if (!feed) return;
    clearInterval(feed.timer);
    this.#feeds.delete(connectionId);
  }
}
