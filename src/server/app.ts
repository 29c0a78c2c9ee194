/**
 * The web app and token broker: `buildApp(config)` returns a ready Fastify instance without listening;
 * `listen()` is separate so tests use `app.inject()` and the CLI's `serve` listens.
 */
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Config } from '../config.js';
import { createLogger } from '../log.js';

/** Options of {@link buildApp} beyond the configuration. */
export interface BuildAppOptions {
  /** Logger to use (default: a redacting pino logger at `config.logLevel`). */
  logger?: ReturnType<typeof createLogger>;
}

/** Builds the web app + broker for `config`. */
export async function buildApp(config: Config, options: BuildAppOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: (options.logger ??
      createLogger({ level: config.logLevel, name: 'webex-auth' })) as FastifyBaseLogger,
    disableRequestLogging: false,
    bodyLimit: 64 * 1024,
  });
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async () => ({ status: 'ready' }));
  return app;
}

/** Starts listening; resolves to the base URL. */
export async function listen(app: FastifyInstance, config: Pick<Config, 'port' | 'host'>): Promise<string> {
  await app.listen({ port: config.port, host: config.host });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  return `http://${host === '127.0.0.1' ? 'localhost' : host}:${port}`;
}
