/**
 * Fastify's `childLoggerFactory` for the web app: each request's child logger (`request.log`, bound to the request
 * id) is created on its first log call at an enabled level, not for every request. Creating a pino child serialises
 * its bindings through the redaction of log.ts, which cost ~2 % of the server's CPU per OAuth flow although nothing
 * was logged (LOG_LEVEL=warn or silent). What is logged, and its redaction, is unchanged.
 */
import type { FastifyBaseLogger } from 'fastify';

type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';
type ChildOptions = Parameters<FastifyBaseLogger['child']>[1];
type LogArgs = Parameters<FastifyBaseLogger['info']>;

/** A request logger that becomes `parent.child(bindings, options)` when first needed. */
class LazyChildLogger {
  readonly #parent: FastifyBaseLogger & { isLevelEnabled(level: string): boolean };
  readonly #bindings: Record<string, unknown>;
  readonly #options: ChildOptions;
  #child: FastifyBaseLogger | undefined;

  constructor(
    parent: FastifyBaseLogger & { isLevelEnabled(level: string): boolean },
    bindings: Record<string, unknown>,
    options: ChildOptions,
  ) {
    this.#parent = parent;
    this.#bindings = bindings;
    this.#options = options;
  }

  #real(): FastifyBaseLogger {
    this.#child ??= this.#parent.child(this.#bindings, this.#options);
    return this.#child;
  }

  #log(level: Level, args: LogArgs): void {
    // The parent's level is read at each call, so a level changed at run time applies to requests in flight too.
    if (!this.#child && !this.#parent.isLevelEnabled(level)) return;
    const real = this.#real();
    (real[level] as (...a: LogArgs) => void).apply(real, args);
  }

  get level(): string {
    return this.#child?.level ?? this.#parent.level;
  }

  set level(level: string) {
    this.#real().level = level;
  }

  isLevelEnabled(level: string): boolean {
    const child = this.#child as (FastifyBaseLogger & { isLevelEnabled?(l: string): boolean }) | undefined;
    return child?.isLevelEnabled ? child.isLevelEnabled(level) : this.#parent.isLevelEnabled(level);
  }

  bindings(): Record<string, unknown> {
    return (this.#real() as unknown as { bindings(): Record<string, unknown> }).bindings();
  }

  child(bindings: Record<string, unknown>, options?: ChildOptions): FastifyBaseLogger {
    return this.#real().child(bindings, options);
  }

  fatal(...args: LogArgs): void {
    this.#log('fatal', args);
  }
  error(...args: LogArgs): void {
    this.#log('error', args);
  }
  warn(...args: LogArgs): void {
    this.#log('warn', args);
  }
  info(...args: LogArgs): void {
    this.#log('info', args);
  }
  debug(...args: LogArgs): void {
    this.#log('debug', args);
  }
  trace(...args: LogArgs): void {
    this.#log('trace', args);
  }
  silent(): void {}
}

/**
 * The factory to pass as Fastify's `childLoggerFactory`. A logger without pino's `isLevelEnabled` gets ordinary
 * children.
 */
export function lazyChildLoggerFactory(
  logger: FastifyBaseLogger,
  bindings: Record<string, unknown>,
  options: ChildOptions,
): FastifyBaseLogger {
  const parent = logger as FastifyBaseLogger & { isLevelEnabled?(level: string): boolean };
  if (typeof parent.isLevelEnabled !== 'function') return logger.child(bindings, options);
  return new LazyChildLogger(
    parent as FastifyBaseLogger & { isLevelEnabled(level: string): boolean },
    bindings,
    options,
  ) as unknown as FastifyBaseLogger;
}
