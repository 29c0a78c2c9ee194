/**
 * Logging through pino, with every secret-bearing path redacted. Libraries (oauth/, webex/) never log;
 * the server, the CLI and the emulator create a logger here.
 */
import pino, { type DestinationStream, type Logger } from 'pino';

/** Every field name that can carry a secret, wherever it appears in a logged object. */
export const SECRET_KEYS = [
  'client_secret',
  'clientSecret',
  'access_token',
  'accessToken',
  'refresh_token',
  'refreshToken',
  'id_token',
  'idToken',
  'code',
  'code_verifier',
  'codeVerifier',
  'device_code',
  'deviceCode',
  'authorization',
  'Authorization',
  'cookie',
  'set-cookie',
  'apiKey',
  'api_key',
  'password',
  'secret',
  'token',
] as const;

/** pino redact paths: each secret key at the top level, one level down, and in request/response headers. */
export const REDACT_PATHS: string[] = [
  ...SECRET_KEYS,
  ...SECRET_KEYS.map((k) => `*.${k}`),
  ...SECRET_KEYS.map((k) => `*.*.${k}`),
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
];

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  level?: string;
  /** Where lines go (defaults to stderr, so stdout stays data for the CLI). */
  destination?: DestinationStream;
  name?: string;
}

/** Creates a pino logger that redacts every secret-bearing field. */
export function createLogger(options: LoggerOptions = {}): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      name: options.name,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      serializers: {
        // Query strings carry OAuth codes and state: log the path only.
        req: (req: { method?: string; url?: string; id?: unknown }) => ({
          id: req.id,
          method: req.method,
          path: typeof req.url === 'string' ? req.url.split('?')[0] : undefined,
        }),
      },
    },
    options.destination ?? pino.destination(2),
  );
}

export type { Logger };
