/**
 * A per-request logger that is only made when something is logged (the whole app uses it, see app.ts).
 *
 * Fastify makes a pino child logger for every request (`{ reqId }` bindings). With the redaction paths of src/log.ts
 * (wildcards included), pino runs those bindings through its redactor on every child: ~6 % of the broker token
 * route's CPU in bench/broker.mjs. The token route logs nothing on success at its level (see broker.ts), so this
 * factory returns a stand-in that checks the level and makes the real child — same bindings, same options, same
 * redaction — on the first line actually written (an error, or every line at LOG_LEVEL=debug).
 */
import type { FastifyBaseLogger, RouteShorthandOptions } from 'fastify';

type ChildLoggerFactory = NonNullable<RouteShorthandOptions['childLoggerFactory']>;
type Bindings = Parameters<ChildLoggerFactory>[1];
type ChildOptions = Parameters<ChildLoggerFactory>[2];
type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';

/** pino's numeric levels (a parent without `levels` is treated as logging everything). */
const levelValues = (logger: FastifyBaseLogger): Record<string, number> | undefined =>
  (logger as FastifyBaseLogger & { levels?: { values: Record<string, number> } }).levels?.values;

/** The stand-in: methods on the prototype, so making one per request costs one small object. */
class LazyChildLogger {
  private made: FastifyBaseLogger | undefined;

  constructor(
    private readonly parent: FastifyBaseLogger,
    private readonly bindings: Bindings,
    private readonly options: ChildOptions,
  ) {}

  private real(): FastifyBaseLogger {
    this.made ??= this.parent.child(this.bindings, this.options);
    return this.made;
  }

  private write(level: Level, args: unknown[]): void {
    if (this.made === undefined) {
      const values = levelValues(this.parent);
      const threshold = values?.[this.options.level ?? this.parent.level];
      if (values && threshold !== undefined && (values[level] ?? 0) < threshold) return;
    }
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

/** A Fastify `childLoggerFactory` that defers pino's child creation to the first enabled log call. */
export const lazyChildLogger: ChildLoggerFactory = (logger, bindings, options) =>
  new LazyChildLogger(logger, bindings, options) as unknown as FastifyBaseLogger;
