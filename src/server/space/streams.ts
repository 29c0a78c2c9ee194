/**
 * Server-sent event streams of the space page (`GET /space/events`): each open stream belongs to an owner and reads
 * one connection's feed. Bounded per owner and overall, kept alive by a comment line every `heartbeatMs`, and
 * forgotten as soon as the browser goes away.
 */
import type { ServerResponse } from 'node:http';

/** Limits of the open streams. */
export interface StreamLimits {
  /** Open streams per owner (tabs of one person). */
  perOwner: number;
  /** Open streams in this process. */
  total: number;
  /** A comment line is written this often, so proxies and browsers keep an idle stream open. */
  heartbeatMs: number;
}

/** The defaults: a few tabs per person, a few hundred in all, a heartbeat every 15 s. */
export const STREAM_LIMITS: StreamLimits = { perOwner: 5, total: 200, heartbeatMs: 15_000 };

interface Stream {
  ownerId: string;
  feed: string;
  res: ServerResponse;
}

/** Why a stream was not opened. */
export type StreamRefusal = 'owner-limit' | 'total-limit';

/** One `event:`/`data:` frame (data on one line: JSON has no raw line breaks). */
export function sseFrame(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** The open streams, by feed (a connection id). */
export class EventStreams {
  readonly #streams = new Set<Stream>();
  #heartbeat: NodeJS.Timeout | undefined;

  constructor(
    readonly limits: StreamLimits = STREAM_LIMITS,
    /** Called when the last stream of a feed closed. */
    private readonly onIdle: (feed: string) => void = () => {},
  ) {}

  /** Whether `ownerId` may open one more stream (checked before the response is taken over). */
  refusal(ownerId: string): StreamRefusal | undefined {
    if (this.#streams.size >= this.limits.total) return 'total-limit';
    let mine = 0;
    for (const s of this.#streams) if (s.ownerId === ownerId) mine++;
    return mine >= this.limits.perOwner ? 'owner-limit' : undefined;
  }

  /**
   * Starts the event stream on `res` (headers written here) for `ownerId`, reading `feed`; it is forgotten when the
   * response closes. Call {@link refusal} first.
   * @returns false when the browser had already gone (its `close` came before this call): nothing is kept.
   */
  open(ownerId: string, feed: string, res: ServerResponse): boolean {
    // A response whose browser left while the route awaited would never see `close` again: kept, it would count
    // against the limits for good (a client that connects and drops at once could fill them).
    if (res.destroyed) {
      if (!this.has(feed)) this.onIdle(feed);
      return false;
    }
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      'content-security-policy': "default-src 'none'",
      'referrer-policy': 'no-referrer',
      // A buffering proxy (nginx) would hold events back.
      'x-accel-buffering': 'no',
    });
    // After a dropped connection the browser tries again in 5 s.
    res.write('retry: 5000\n\n');
    const stream: Stream = { ownerId, feed, res };
    this.#streams.add(stream);
    res.on('close', () => {
      this.#streams.delete(stream);
      if (this.#streams.size === 0) this.#stopHeartbeat();
      if (!this.has(feed)) this.onIdle(feed);
    });
    this.#heartbeat ??= setInterval(() => {
      for (const s of this.#streams) s.res.write(': ping\n\n');
    }, this.limits.heartbeatMs).unref();
    return true;
  }

  /** Whether any stream reads `feed`. */
  has(feed: string): boolean {
    for (const s of this.#streams) if (s.feed === feed) return true;
    return false;
  }

  /** How many streams are open. */
  get size(): number {
    return this.#streams.size;
  }

  /** Sends `event` with `data` to every stream of `feed`. */
  send(feed: string, event: string, data: unknown): void {
    const frame = sseFrame(event, data);
    for (const s of this.#streams) if (s.feed === feed) s.res.write(frame);
  }

  /** Sends `event` to one response (the `ready` event of a new stream). */
  sendTo(res: ServerResponse, event: string, data: unknown): void {
    res.write(sseFrame(event, data));
  }

  /** Ends every stream (the server is closing). */
  closeAll(): void {
    for (const s of [...this.#streams]) s.res.end();
    this.#streams.clear();
    this.#stopHeartbeat();
  }

  #stopHeartbeat(): void {
    if (this.#heartbeat) clearInterval(this.#heartbeat);
    this.#heartbeat = undefined;
  }
}
