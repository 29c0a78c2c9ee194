/**
 * The one configuration schema of webex-auth: every setting has one name (its environment variable), one default,
 * and one check. CLI flags of the same meaning are passed in as `overrides` under the same names.
 *
 * zod validates at the boundary so that a bad value is one line naming the setting and what is expected. This module
 * uses `zod/mini` (the same validator with a functional, tree-shakable API): the CLI loads the configuration before
 * every command, and bundled `zod/mini` costs ~6 ms where the chainable `zod` API costs ~35 ms, a quarter of the
 * `webex-auth token` budget.
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parseEnv } from 'node:util';
import * as z from 'zod/mini';

/** The Webex commercial REST + OAuth base URL. */
export const WEBEX_API_BASE = 'https://webexapis.com/v1';
/** The Webex for Government (FedRAMP) base URL. */
export const WEBEX_FEDRAMP_API_BASE = 'https://api-usgov.webex.com/v1';
/** The redirect URI the Webex sample integration registers, and ours by default. */
export const DEFAULT_REDIRECT_URI = 'http://localhost:8080/oauth';

/** Names of the Webex sample integration accepted as aliases of ours. */
const ALIASES: Record<string, string> = {
  CLIENT_ID: 'WEBEX_CLIENT_ID',
  CLIENT_SECRET: 'WEBEX_CLIENT_SECRET',
  REDIRECT_URI: 'WEBEX_REDIRECT_URI',
  SCOPES: 'WEBEX_SCOPES',
};

// Every setting arrives as a trimmed, non-empty string (see loadConfig): an empty value means "unset".
const text = z.optional(z.string());
const httpUrl = (what: string) =>
  z.string().check(
    z.refine((v) => URL.canParse(v) && /^https?:$/.test(new URL(v).protocol), `expected an http(s) URL ${what}`),
  );
const atLeast16 = z.optional(z.string().check(z.minLength(16, 'expected at least 16 characters')));
const integer = (min: number, max: number, fallback: number, what: string) =>
  z._default(
    z.pipe(
      z.string().check(z.refine((v) => /^\d{1,9}$/.test(v) && Number(v) >= min && Number(v) <= max, what)),
      z.transform(Number),
    ),
    fallback,
  );
const keyRingEntry = /^[A-Za-z0-9_.-]{1,64}:[A-Za-z0-9+/_-]{43}=?$/;
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const schema = z.object({
  WEBEX_CLIENT_ID: text,
  WEBEX_CLIENT_SECRET: text,
  WEBEX_REDIRECT_URI: z._default(httpUrl('such as http://localhost:8080/oauth'), DEFAULT_REDIRECT_URI),
  WEBEX_SCOPES: z.optional(
    z
      .string()
      .check(
        z.regex(
          /^[A-Za-z0-9_:.-]+( +[A-Za-z0-9_:.-]+)*$/,
          'expected space-separated Webex scopes such as "spark:people_read spark:rooms_read"',
        ),
      ),
  ),
  WEBEX_API_BASE: z._default(httpUrl('such as https://webexapis.com/v1'), WEBEX_API_BASE),
  WEBEX_ISSUER: z.optional(httpUrl('such as https://idbroker-b-us.webex.com/idb')),
  PORT: integer(0, 65535, 8080, 'expected a port number from 0 to 65535'),
  HOST: z._default(z.string(), '127.0.0.1'),
  DATABASE_URL: z.optional(
    z
      .string()
      .check(
        z.refine((v) => /^postgres(ql)?:\/\//.test(v), 'expected a postgres:// URL (leave it unset to use SQLite)'),
      ),
  ),
  WEBEX_AUTH_DB: text,
  WEBEX_AUTH_KEYS: z.optional(
    z
      .string()
      .check(
        z.refine(
          (v) => v.split(',').every((e) => keyRingEntry.test(e.trim())),
          'expected a key ring "kid:base64,kid:base64" of 32-byte keys (generate one with `webex-auth keys generate`)',
        ),
      ),
  ),
  ADMIN_TOKEN: atLeast16,
  WEBHOOK_URL: z.optional(httpUrl('to POST connection events to')),
  WEBHOOK_SECRET: atLeast16,
  BOT_TOKEN: text,
  SPACE_ID: text,
  KEEPALIVE_DAYS: integer(1, 89, 30, 'expected a whole number of days from 1 to 89'),
  LOG_LEVEL: z._default(z.enum(LOG_LEVELS, `expected one of ${LOG_LEVELS.join(', ')}`), 'info'),
  NODE_ENV: z._default(z.string(), 'development'),
  XDG_DATA_HOME: text,
});

/** The raw settings by their environment-variable names, as CLI flags pass them in. */
export type Settings = z.input<typeof schema>;

/** Where the Webex API of this configuration lives. */
export type Mode = 'webex' | 'fedramp' | 'demo' | 'custom';

/** The validated configuration every face of webex-auth runs with. */
export interface Config {
  /** The default integration's client id; undefined means demo mode unless the web form adds one. */
  clientId: string | undefined;
  clientSecret: string | undefined;
  redirectUri: string;
  /** Scopes to ask for by default (empty: let the user pick). */
  scopes: string[];
  apiBase: string;
  /** Expected id_token issuer, when it differs from what discovery says (Webex issuers are cluster-specific). */
  issuer: string | undefined;
  port: number;
  host: string;
  databaseUrl: string | undefined;
  /** SQLite file path, used when `databaseUrl` is unset. */
  dbPath: string;
  /** The key ring `kid:base64,…`; the first key encrypts. */
  keys: string | undefined;
  adminToken: string | undefined;
  webhookUrl: string | undefined;
  webhookSecret: string | undefined;
  botToken: string | undefined;
  spaceId: string | undefined;
  keepaliveDays: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  production: boolean;
  /** webex, fedramp or custom by base URL; demo when no client id is configured. */
  mode: Mode;
  /** The user data directory (`$XDG_DATA_HOME/webex-auth` or `~/.local/share/webex-auth`). */
  dataDir: string;
}

/** A configuration value is wrong; `message` is one line naming the setting and what is expected. */
export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(
    message: string,
    /** The setting (environment variable name) at fault. */
    readonly setting: string,
  ) {
    super(message);
  }
}

/** Options of {@link loadConfig}. */
export interface LoadConfigOptions {
  /** The environment (defaults to `process.env`). */
  env?: Record<string, string | undefined>;
  /** Values from CLI flags, by setting name; they win over the environment. */
  overrides?: Partial<Record<keyof Settings, string | number | undefined>>;
  /** Directory whose `.env` is read (defaults to the current directory); `false` reads none. */
  dotenvDir?: string | false;
}

/** Reads `.env` from `dir` if present; values already in the environment win, as with dotenv. */
function readDotenv(dir: string): Record<string, string> {
  const path = join(dir, '.env');
  if (!existsSync(path)) return {};
  try {
    return parseEnv(readFileSync(path, 'utf8')) as Record<string, string>;
  } catch {
    throw new ConfigError(`Cannot read ${path}: expected KEY=value lines`, '.env');
  }
}

/** Returns the user data directory where the default SQLite database and key file live. */
export function dataDirectory(env: Record<string, string | undefined>): string {
  const xdg = env.XDG_DATA_HOME?.trim();
  return xdg ? join(xdg, 'webex-auth') : join(env.HOME?.trim() || homedir(), '.local', 'share', 'webex-auth');
}

function modeOf(clientId: string | undefined, apiBase: string): Mode {
  if (!clientId) return 'demo';
  const host = new URL(apiBase).host;
  if (host === 'webexapis.com' || host === 'api.ciscospark.com') return 'webex';
  if (host === 'api-usgov.webex.com') return 'fedramp';
  return 'custom';
}

/**
 * Loads and validates the configuration from `.env`, the environment and CLI overrides, in rising order of precedence.
 * @throws {ConfigError} with a one-line message naming the bad setting.
 */
export function loadConfig(options: LoadConfigOptions = {}): Config {
  const env = options.env ?? process.env;
  const dotenv = options.dotenvDir === false ? {} : readDotenv(options.dotenvDir ?? process.cwd());
  const merged: Record<string, string> = {};
  /** Sets a setting from a source, trimmed; an empty value means unset (and does not hide a lower source's). */
  const set = (key: string, value: unknown) => {
    const v = value === undefined || value === null ? '' : String(value).trim();
    if (v !== '') merged[key] = v;
  };
  for (const source of [dotenv, env]) {
    for (const [alias, name] of Object.entries(ALIASES)) if (source[name] === undefined) set(name, source[alias]);
    for (const key of Object.keys(schema.shape)) set(key, source[key]);
  }
  for (const [key, value] of Object.entries(options.overrides ?? {})) set(key, value);

  const parsed = schema.safeParse(merged);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const setting = String(issue?.path[0] ?? 'configuration');
    const given = merged[setting];
    const shown =
      given === undefined || /SECRET|TOKEN|KEYS/.test(setting) ? '' : ` (got ${JSON.stringify(String(given))})`;
    throw new ConfigError(`Invalid setting ${setting}: ${issue?.message ?? 'invalid value'}${shown}`, setting);
  }
  const s = parsed.data;
  const dataDir = dataDirectory({ ...env, XDG_DATA_HOME: s.XDG_DATA_HOME });
  const config: Config = {
    clientId: s.WEBEX_CLIENT_ID,
    clientSecret: s.WEBEX_CLIENT_SECRET,
    redirectUri: s.WEBEX_REDIRECT_URI,
    scopes: s.WEBEX_SCOPES ? s.WEBEX_SCOPES.split(/ +/) : [],
    apiBase: s.WEBEX_API_BASE.replace(/\/+$/, ''),
    issuer: s.WEBEX_ISSUER,
    port: s.PORT,
    host: s.HOST,
    databaseUrl: s.DATABASE_URL,
    dbPath: s.WEBEX_AUTH_DB ?? join(dataDir, 'webex-auth.db'),
    keys: s.WEBEX_AUTH_KEYS,
    adminToken: s.ADMIN_TOKEN,
    webhookUrl: s.WEBHOOK_URL,
    webhookSecret: s.WEBHOOK_SECRET,
    botToken: s.BOT_TOKEN,
    spaceId: s.SPACE_ID,
    keepaliveDays: s.KEEPALIVE_DAYS,
    logLevel: s.LOG_LEVEL,
    production: s.NODE_ENV === 'production',
    mode: modeOf(s.WEBEX_CLIENT_ID, s.WEBEX_API_BASE),
    dataDir,
  };
  if (config.clientId && !config.clientSecret) {
    throw new ConfigError(
      'Invalid setting WEBEX_CLIENT_SECRET: required when WEBEX_CLIENT_ID is set (copy it from your integration on developer.webex.com)',
      'WEBEX_CLIENT_SECRET',
    );
  }
  if (config.production) {
    for (const [name, value] of [
      ['WEBEX_AUTH_KEYS', config.keys],
      ['ADMIN_TOKEN', config.adminToken],
    ] as const) {
      if (!value) throw new ConfigError(`Invalid setting ${name}: required when NODE_ENV=production`, name);
    }
    if (config.webhookUrl && !config.webhookSecret) {
      throw new ConfigError(
        'Invalid setting WEBHOOK_SECRET: required with WEBHOOK_URL when NODE_ENV=production',
        'WEBHOOK_SECRET',
      );
    }
  }
  return config;
}
