/**
 * Per-request loggers that are only made when something is logged (the whole app uses them, see app.ts).
 *
 * Fastify makes a pino child logger for every request (`{ reqId }` bindings). With the redaction paths of src/log.ts
 * (wildcards included), pino runs those bindings through its redactor on every child: ~6 % of the broker token
 * route's CPU in bench/broker.mjs. The token route logs nothing on success at its level (see broker.ts), so each child
 * of the app's logger is a stand-in that checks the level and makes the real child — same bindings, same options, same
 * redaction — on the first line actually written (an error, or every line at LOG_LEVEL=debug).
 */
import {
  type FastifyBaseLogger,
  type FastifyReply,
  type FastifyRequest,
  LogController,
  type RouteShorthandOptions,
} from 'fastify';

type ChildLoggerFactory = NonNullable<RouteShorthandOptions['childLoggerFactory']>;
type Bindings = Parameters<ChildLoggerFactory>[1];
type ChildOptions = Parameters<ChildLoggerFactory>[2];
/** pino's own `child` method, called with the parent as `this`. */
type MakeChild = (this: FastifyBaseLogger, bindings: Bindings, options?: ChildOptions) => FastifyBaseLogger;
type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';

/** pino's numeric levels (a parent without `levels` is treated as logging everything). */
const levelValues = (logger: FastifyBaseLogger): Record<string, number> | undefined =>
  (logger as FastifyBaseLogger & { levels?: { values: Record<string, number> } }).levels?.values;

/** The stand-in: methods on the prototype, so making one per request costs one small object. */
class LazyChildLogger {
  private made: FastifyBaseLogger | undefined;

  constructor(
    private readonly parent: FastifyBaseLogger,
    private readonly makeChild: MakeChild,
    private readonly bindings: Bindings,
    private readonly options: ChildOptions,
  ) {}

  private real(): FastifyBaseLogger {
    this.made ??= this.makeChild.call(this.parent, this.bindings, this.options);
    return this.made;
  }

  /** Whether a line at `level` would be written (pino's `isLevelEnabled`, without making the child). */
  isLevelEnabled(level: string): boolean {
    if (this.made !== undefined)
      return (this.made as { isLevelEnabled?: (l: string) => boolean }).isLevelEnabled?.(level) ?? true;
    const values = levelValues(this.parent);
    const threshold = values?.[this.options.level ?? this.parent.level];
    return !values || threshold === undefined || (values[level] ?? 0) >= threshold;
  }

  private write(level: Level, args: unknown[]): void {
    if (this.made === undefined && !this.isLevelEnabled(level)) return;
    const child = this.real();
    (child[level] as (...a: unknown[]) => void).apply(child, args);
  }

  get level(): string {
    return this.made?.level ?? this.options.level ?? this.parent.level;
  }
  set level(level: string) {
    this.real().level = level;
  }
  fatal(...args: unknown[]) {
    this.write('fatal', args);
  }
  error(...args: unknown[]) {
    this.write('error', args);
  }
  warn(...args: unknown[]) {
    this.write('warn', args);
  }
  info(...args: unknown[]) {
    this.write('info', args);
  }
  debug(...args: unknown[]) {
    this.write('debug', args);
  }
  trace(...args: unknown[]) {
    this.write('trace', args);
  }
  silent() {}
  child(bindings: Bindings, options?: ChildOptions): FastifyBaseLogger {
    return this.real().child(bindings, options);
  }
}

/**
 * Makes each child of `logger` (the app's own logger, `app.log`, right after `Fastify()`) a stand-in that makes the
 * real pino child on its first enabled log call. Children of a real child made later are lazy too (they inherit the
 * method, which uses its receiver as the parent).
 *
 * This changes the logger rather than giving Fastify a `childLoggerFactory`: with any factory but its default, Fastify
 * also validates every request's logger (`validateLogger` in its logger-factory.js: an array and a closure per request).
 */
export function makeChildLoggersLazy(logger: FastifyBaseLogger): void {
  const makeChild = logger.child as MakeChild;
  logger.child = function lazyChild(this: FastifyBaseLogger, bindings: Bindings, options?: ChildOptions) {
    return new LazyChildLogger(this, makeChild, bindings, options ?? {}) as unknown as FastifyBaseLogger;
  } as FastifyBaseLogger['child'];
}

/** Whether `log` would write an `info` line (a logger without `isLevelEnabled` is taken to write everything). */
function infoEnabled(log: FastifyBaseLogger): boolean {
  return (log as { isLevelEnabled?: (level: string) => boolean }).isLevelEnabled?.('info') ?? true;
}

/**
 * Fastify's per-request lines ("incoming request", "request completed") only when the request's logger writes `info`:
 * Fastify builds their arguments and calls the logger on every request even when the route's level drops them, and
 * the broker's token route logs at `warn` (broker.ts). Lines that would be written are unchanged, and a request that
 * ended in an error is still logged (at `error`, as Fastify does).
 */
class QuietLogController extends LogController {
  override incomingRequest(request: FastifyRequest, reply: FastifyReply, metadata?: Record<string, unknown>): void {
    if (infoEnabled(request.log)) super.incomingRequest(request, reply, metadata);
  }
  override requestCompleted(
    error: Error | null | undefined,
    request: FastifyRequest,
    reply: FastifyReply,
    metadata?: Record<string, unknown>,
  ): void {
    if (error || infoEnabled(reply.log)) super.requestCompleted(error, request, reply, metadata);
  }
}

/** A Fastify `logController` that skips the per-request lines a request's logger level would drop anyway. */
export function quietLogController(): LogController {
  return new QuietLogController();
}
