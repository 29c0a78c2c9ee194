/**
 * The one configuration of webex-auth: every setting has one name (its environment variable), one check (`SETTINGS`)
 * and one default (`loadConfig`). CLI flags of the same meaning are passed in as `overrides` under the same names.
 *
 * Validated at the boundary: a bad value is one line naming the setting and what is expected.
 *
 * Why not zod, which validates everything else from outside: the CLI loads this module before every command, and
 * `webex-auth token` must start within 1.5× of bare `node` (it sits inside `$(…)` on every request). Building zod
 * schemas costs 6–14 ms at start-up even with tree-shaken `zod/mini`, a fifth of that budget, for twenty flat string
 * settings that each need one test. So each setting is one small rule below.
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parseEnv } from 'node:util';
import { WebexAuthError } from './errors.js';

/** The Webex commercial REST + OAuth base URL. */
export const WEBEX_API_BASE = 'https://webexapis.com/v1';
/** The Webex for Government (FedRAMP) base URL. */
export const WEBEX_FEDRAMP_API_BASE = 'https://api-usgov.webex.com/v1';
/** The redirect URI the Webex sample integration registers, and ours by default. */
export const DEFAULT_REDIRECT_URI = 'http://localhost:8080/oauth';
/** The broker's per-API-key limit by default: a burst of 120 requests, then 20 per second (`API_KEY_RATE_*`). */
export const API_KEY_RATE_DEFAULTS = { burst: 120, perSecond: 20 } as const;

/** Names of the Webex sample integration accepted as aliases of ours. */
const ALIASES: Record<string, string> = {
  CLIENT_ID: 'WEBEX_CLIENT_ID',
  CLIENT_SECRET: 'WEBEX_CLIENT_SECRET',
  REDIRECT_URI: 'WEBEX_REDIRECT_URI',
  SCOPES: 'WEBEX_SCOPES',
};

/** Reads one setting's value (never blank) or says what was expected. */
type Rule<T> = (value: string) => { value: T } | { expected: string };

/** Text, trimmed. */
const text: Rule<string> = (value) => ({ value: value.trim() });
/** Text as given, spaces included (a secret is used exactly as written). */
const verbatim: Rule<string> = (value) => ({ value });
const matching =
  (test: (v: string) => boolean, expected: string): Rule<string> =>
  (raw) => {
    const value = raw.trim();
    return test(value) ? { value } : { expected };
  };
const httpUrl = (what: string) =>
  matching((v) => URL.canParse(v) && /^https?:$/.test(new URL(v).protocol), `expected an http(s) URL ${what}`);
const atLeast16: Rule<string> = (value) =>
  value.length >= 16 ? { value } : { expected: 'expected at least 16 characters' };
/** A comma-separated list of items that each pass `test` (lower-cased: host names, emails, domains). */
const commaList =
  (test: (v: string) => boolean, expected: string, lower = true): Rule<string[]> =>
  (raw) => {
    const items = raw
      .split(',')
      .map((v) => (lower ? v.trim().toLowerCase() : v.trim()))
      .filter((v) => v !== '');
    return items.length > 0 && items.every(test) ? { value: items } : { expected };
  };
const HOSTNAME = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;
/** `TRUST_PROXY`: `true`, a hop count, or proxy addresses/CIDRs (as Fastify's `trustProxy` takes them). */
const trustProxy: Rule<boolean | number | string[]> = (raw) => {
  const v = raw.trim().toLowerCase();
  if (v === 'true' || v === 'yes') return { value: true };
  if (v === 'false' || v === 'no') return { value: false };
  // A number is a hop count, as Express reads it: `1` trusts the one proxy in front, not every X-Forwarded-For entry.
  if (/^(hops:)?\d{1,2}$/.test(v)) return { value: Number(v.replace('hops:', '')) };
  const list = v.split(',').map((x) => x.trim());
  return list.every((x) => /^[0-9a-f.:]+(\/\d{1,3})?$/.test(x) && x.length <= 50)
    ? { value: list }
    : {
        expected:
          'expected a hop count such as 1, true (every hop), false, or proxy addresses such as 10.0.0.1,10.1.0.0/16',
      };
};
/** A number as JavaScript reads one (`8080`, `1e3`, `0x1F90`), within [min, max], whole if `whole`. */
const numberIn =
  (min: number, max: number, whole: boolean, expected: string): Rule<number> =>
  (v) => {
    const n = Number(v);
    return Number.isFinite(n) && (!whole || Number.isInteger(n)) && n >= min && n <= max ? { value: n } : { expected };
  };
/** `off` (any case) as 0, else `rule`'s number: for limits that can be turned off. */
const offOr =
  (rule: Rule<number>): Rule<number> =>
  (raw) =>
    raw.trim().toLowerCase() === 'off' ? { value: 0 } : rule(raw);
const oneOf = <T extends string>(values: readonly T[]): Rule<T> =>
  matching((v) => (values as readonly string[]).includes(v), `expected one of ${values.join(', ')}`) as Rule<T>;

const keyRingEntry = /^[A-Za-z0-9_.-]{1,64}:[A-Za-z0-9+/_-]{43}=?$/;
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Every setting by its environment-variable name, in the order they are checked. */
const SETTINGS = {
  WEBEX_CLIENT_ID: text,
  WEBEX_CLIENT_SECRET: text,
  WEBEX_REDIRECT_URI: httpUrl('such as http://localhost:8080/oauth'),
  WEBEX_SCOPES: matching(
    (v) => /^[A-Za-z0-9_:.-]+( +[A-Za-z0-9_:.-]+)*$/.test(v),
    'expected space-separated Webex scopes such as "spark:people_read spark:rooms_read"',
  ),
  WEBEX_API_BASE: httpUrl('such as https://webexapis.com/v1'),
  WEBEX_ISSUER: httpUrl('such as https://idbroker-b-us.webex.com/idb'),
  PORT: numberIn(0, 65535, true, 'expected a port number from 0 to 65535'),
  HOST: text,
  DATABASE_URL: matching(
    (v) => /^postgres(ql)?:\/\//.test(v),
    'expected a postgres:// URL (leave it unset to use SQLite)',
  ),
  WEBEX_AUTH_DB: text,
  WEBEX_AUTH_KEYS: matching(
    (v) => v.split(',').every((e) => keyRingEntry.test(e.trim())),
    'expected a key ring "kid:base64,kid:base64" of 32-byte keys (generate one with `webex-auth keys generate`)',
  ),
  WEBEX_AUTH_KEYCHAIN: oneOf(['auto', 'off'] as const),
  WEBEX_AUTH_HOT_TOKEN: oneOf(['on', 'off'] as const),
  WEBEX_AUTH_MODE: oneOf(['local', 'team'] as const),
  PUBLIC_URL: matching(
    (v) =>
      URL.canParse(v) && /^https?:$/.test(new URL(v).protocol) && new URL(v).pathname === '/' && !new URL(v).search,
    'expected the origin people open, such as https://webex-auth.example.com',
  ),
  ALLOWED_HOSTS: commaList((v) => HOSTNAME.test(v), 'expected host names such as auth.example.com,auth.internal'),
  TRUST_PROXY: trustProxy,
  ADMIN_EMAILS: commaList((v) => /^[^\s@,]+@[^\s@,]+$/.test(v), 'expected email addresses such as ops@example.com'),
  ALLOWED_EMAIL_DOMAINS: commaList(
    (v) => v === '*' || HOSTNAME.test(v),
    'expected email domains such as example.com (or * for any Webex account)',
  ),
  ALLOWED_ORG_IDS: commaList(
    (v) => /^[A-Za-z0-9+/=_-]{8,200}$/.test(v),
    'expected Webex org ids (as people/me shows orgId)',
    false,
  ),
  ADMIN_TOKEN: atLeast16,
  WEBHOOK_URL: httpUrl('to POST connection events to'),
  WEBHOOK_SECRET: atLeast16,
  ALLOW_PRIVATE_WEBHOOKS: oneOf(['true', 'false'] as const),
  BOT_TOKEN: text,
  SPACE_ID: text,
  KEEPALIVE_DAYS: numberIn(1, 89, false, 'expected a number of days from 1 to 89'),
  KEEPALIVE_RATE: numberIn(0.1, 1000, false, 'expected a number of keep-alive refreshes per second from 0.1 to 1000'),
  KEEPALIVE_CONCURRENCY: numberIn(
    1,
    64,
    true,
    'expected a whole number of keep-alive refreshes in flight from 1 to 64',
  ),
  FORCED_REFRESH_MIN_INTERVAL: numberIn(0, 86_400, true, 'expected a number of seconds from 0 to 86400'),
  WEBEX_TOKEN_CAP: numberIn(1, 100_000, true, 'expected a whole number of live access tokens per person (Webex: 750)'),
  TOKEN_CAP_REFUSE_AT: numberIn(1, 100, true, 'expected a percentage of WEBEX_TOKEN_CAP from 1 to 100'),
  REFRESH_RETRY_MAX_INTERVAL: numberIn(60, 86_400, true, 'expected a number of seconds from 60 to 86400'),
  REFRESH_MAX_ATTEMPTS_PER_HOUR: numberIn(1, 60, true, 'expected a whole number of refresh attempts from 1 to 60'),
  RECONCILE_INTERVAL: numberIn(60, 604_800, true, 'expected a number of seconds from 60 to 604800'),
  SESSION_CREATION_LIMIT: offOr(
    numberIn(1, 100_000, true, 'expected new sessions per minute per client address (1–100000), or off'),
  ),
  API_KEY_RATE_LIMIT: offOr(
    numberIn(0.01, 1_000_000, false, 'expected sustained requests per second per API key (0.01–1000000), or off'),
  ),
  API_KEY_RATE_BURST: numberIn(1, 1_000_000, true, 'expected a whole number of requests from 1 to 1000000'),
  AUDIT_RETENTION_DAYS: numberIn(1, 3650, true, 'expected a number of days from 1 to 3650'),
  PROXY_BUFFER_LIMIT: numberIn(0, 104_857_600, true, 'expected a number of bytes from 0 to 104857600 (100 MiB)'),
  PROXY_MAX_BODY: numberIn(0, 4_294_967_296, true, 'expected a number of bytes from 0 to 4294967296 (4 GiB)'),
  PROXY_MAX_RETRY_WAIT: numberIn(0, 600, false, 'expected a number of seconds from 0 to 600'),
  PROXY_HEADERS_TIMEOUT: numberIn(0.01, 600, false, 'expected a number of seconds from 0.01 to 600'),
  PROXY_BODY_TIMEOUT: numberIn(0.01, 3600, false, 'expected a number of seconds from 0.01 to 3600'),
  ALLOWED_API_BASES: commaList(
    (v) => URL.canParse(v) && /^https?:$/.test(new URL(v).protocol),
    'expected API base URLs such as https://webex-gateway.example.com/v1',
    false,
  ),
  WEBEX_AUTH_KEYS_FILE: text,
  LOG_LEVEL: oneOf(LOG_LEVELS),
  NODE_ENV: verbatim,
  XDG_DATA_HOME: text,
} satisfies Record<string, Rule<unknown>>;

/** The environment variables {@link loadConfig} reads (settings and their aliases), e.g. to tell when they changed. */
export const SETTING_NAMES: readonly string[] = [...Object.keys(SETTINGS), ...Object.keys(ALIASES)];

type SettingName = keyof typeof SETTINGS;

/** The raw settings by their environment-variable names, as CLI flags pass them in. */
export type Settings = { [K in SettingName]?: string };

/** The checked settings; undefined where unset. */
type Checked = { [K in SettingName]: ((typeof SETTINGS)[K] extends Rule<infer T> ? T : never) | undefined };

/** Checks every set value in order; the first bad one throws. */
function check(raw: Record<string, string>): Checked {
  const checked: Record<string, unknown> = {};
  for (const [name, rule] of Object.entries(SETTINGS) as [SettingName, Rule<unknown>][]) {
    const given = raw[name];
    if (given === undefined) continue;
    const result = rule(given);
    if ('expected' in result) {
      // Secrets are never echoed, nor URLs that may carry credentials (postgres://user:password@…).
      const shown = /SECRET|TOKEN|KEYS|_URL$/.test(name) ? '' : ` (got ${JSON.stringify(given)})`;
      throw new ConfigError(`Invalid setting ${name}: ${result.expected}${shown}`, name);
    }
    checked[name] = result.value;
  }
  return checked as Checked;
}

/** Where the Webex API of this configuration lives. */
export type Mode = 'webex' | 'fedramp' | 'demo' | 'custom';

/**
 * Who the server serves: `local` — one local operator, no sign-in (not production, loopback HOST, no PUBLIC_URL);
 * `team` — Sign in with Webex before anything but the landing page. `WEBEX_AUTH_MODE` overrides the inference.
 */
export type AccessMode = 'local' | 'team';

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '::1', 'localhost', '[::1]']);

/**
 * The mode when WEBEX_AUTH_MODE does not say: team as soon as anything suggests the server is reached by others —
 * production, a non-loopback listen address, a PUBLIC_URL, a redirect URI on a non-loopback host, extra allowed host
 * names, or a trusted proxy (a proxy on the same machine forwards to a loopback HOST; its requests are not the
 * local operator's).
 */
function inferAccessMode(s: {
  NODE_ENV?: string | undefined;
  HOST?: string | undefined;
  PUBLIC_URL?: string | undefined;
  WEBEX_REDIRECT_URI?: string | undefined;
  ALLOWED_HOSTS?: string[] | undefined;
  TRUST_PROXY?: boolean | number | string[] | undefined;
}): AccessMode {
  const redirectHost = new URL(s.WEBEX_REDIRECT_URI ?? DEFAULT_REDIRECT_URI).hostname;
  const shared =
    s.NODE_ENV === 'production' ||
    !isLoopbackHost(s.HOST ?? '127.0.0.1') ||
    s.PUBLIC_URL !== undefined ||
    !isLoopbackHost(redirectHost) ||
    (s.ALLOWED_HOSTS?.length ?? 0) > 0 ||
    (s.TRUST_PROXY !== undefined && s.TRUST_PROXY !== false && s.TRUST_PROXY !== 0);
  return shared ? 'team' : 'local';
}

/** Whether `host` (a listen address or a URL host name) is a loopback name. */
export function isLoopbackHost(host: string): boolean {
  return LOOPBACK_HOSTS.has(host.toLowerCase()) || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** The validated configuration every face of webex-auth runs with. */
export interface Config {
  /** The default integration's client id; undefined means demo mode unless the web form adds one. */
  clientId: string | undefined;
  clientSecret: string | undefined;
  redirectUri: string;
  /** Whether `redirectUri` came from WEBEX_REDIRECT_URI rather than the default (demo mode then follows the port). */
  redirectUriSet?: boolean;
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
  /** Whether a new development key goes to the OS keychain when one can be reached (`WEBEX_AUTH_KEYCHAIN`, not `off`). */
  keychain: boolean;
  adminToken: string | undefined;
  /** `local` or `team` (see {@link AccessMode}). */
  accessMode: AccessMode;
  /** Whether `accessMode` came from WEBEX_AUTH_MODE rather than the inference. */
  accessModeSet: boolean;
  /** The origin people open (`PUBLIC_URL`), without a trailing slash. */
  publicUrl: string | undefined;
  /** Extra host names a request's Host may carry (besides loopback, the redirect URI's and PUBLIC_URL's). */
  allowedHosts: string[];
  /** Fastify's `trustProxy` (`TRUST_PROXY`): X-Forwarded-Proto/For/Host count only when set. */
  trustProxy: boolean | number | string[];
  /** Emails of admins (lower case). */
  adminEmails: string[];
  /** Email domains allowed to sign in (lower case; empty: any). */
  allowedEmailDomains: string[];
  /** Webex org ids allowed to sign in (empty: any). */
  allowedOrgIds: string[];
  webhookUrl: string | undefined;
  webhookSecret: string | undefined;
  /**
   * Account and connection webhook endpoints may target private, loopback and link-local addresses, and plain http
   * (`ALLOW_PRIVATE_WEBHOOKS=true`; tests and closed networks). The operator's `WEBHOOK_URL` is never checked.
   */
  allowPrivateWebhooks?: boolean | undefined;
  botToken: string | undefined;
  spaceId: string | undefined;
  keepaliveDays: number;
  /** Keep-alive refreshes started per second by one instance (`KEEPALIVE_RATE`, default 2). */
  keepaliveRate?: number | undefined;
  /** Keep-alive refreshes in flight at once in one instance (`KEEPALIVE_CONCURRENCY`, default 4). */
  keepaliveConcurrency?: number | undefined;
  /** Seconds between two forced refreshes of one connection (`FORCED_REFRESH_MIN_INTERVAL`, default 30; 0: no limit). */
  forcedRefreshMinInterval: number;
  /** Live access tokens per person Webex allows (`WEBEX_TOKEN_CAP`, default 750). */
  tokenCap?: number | undefined;
  /** Percentage of the cap at which forced refreshes are refused (`TOKEN_CAP_REFUSE_AT`, default 90). */
  tokenCapRefuseAt?: number | undefined;
  /** Longest wait in seconds between two attempts of a failing refresh (`REFRESH_RETRY_MAX_INTERVAL`, default 6 h). */
  refreshRetryMaxInterval?: number | undefined;
  /** Refresh attempts per hour at most for one failing connection (`REFRESH_MAX_ATTEMPTS_PER_HOUR`, default 4). */
  refreshMaxAttemptsPerHour?: number | undefined;
  /** Seconds between two reconciliations with Webex (`RECONCILE_INTERVAL`, default one hour). */
  reconcileInterval?: number | undefined;
  /** New web sessions per minute per client address, after a burst of 30 (`SESSION_CREATION_LIMIT`, default 12; 0: off). */
  sessionCreationPerMinute: number;
  /** Sustained broker API requests per second per API key (`API_KEY_RATE_LIMIT`, default 20; 0: off). */
  apiKeyRateLimit: number;
  /** Broker API requests one API key may send at once before the sustained rate applies (`API_KEY_RATE_BURST`, 120). */
  apiKeyRateBurst: number;
  /** Days the audit log keeps an entry (`AUDIT_RETENTION_DAYS`, default 90). */
  auditRetentionDays: number;
  /** Proxied request bodies up to this many bytes are buffered, so a 401 can be retried (`PROXY_BUFFER_LIMIT`, 1 MiB). */
  proxyBufferLimit: number;
  /** Largest proxied request body in bytes; larger ones are refused with 413 (`PROXY_MAX_BODY`, default 100 MiB). */
  proxyMaxBody: number;
  /** Seconds of a Webex 429's Retry-After the proxy waits out once (`PROXY_MAX_RETRY_WAIT`); undefined: passed through. */
  proxyMaxRetryWait: number | undefined;
  /** Seconds the proxy waits for Webex's answer headers before answering 504 (`PROXY_HEADERS_TIMEOUT`, default 30). */
  proxyHeadersTimeout: number;
  /** Seconds the proxy waits between two chunks of a body from Webex before dropping it (`PROXY_BODY_TIMEOUT`, 60). */
  proxyBodyTimeout: number;
  /** API bases besides Webex's and WEBEX_API_BASE that the proxy may call in team mode (`ALLOWED_API_BASES`). */
  allowedApiBases: string[];
  /** A file holding the key ring, read at start and again on SIGHUP (`WEBEX_AUTH_KEYS_FILE`). */
  keysFile: string | undefined;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  production: boolean;
  /** webex, fedramp or custom by base URL; demo when no client id is configured. */
  mode: Mode;
  /** The user data directory (`$XDG_DATA_HOME/webex-auth` or `~/.local/share/webex-auth`). */
  dataDir: string;
}

/** A configuration value is wrong; `message` is one line naming the setting and what is expected. */
export class ConfigError extends WebexAuthError<'invalid_config'> {
  override name = 'ConfigError';
  constructor(
    message: string,
    /** The setting (environment variable name) at fault. */
    readonly setting: string,
  ) {
    super('config', 'invalid_config', message);
  }
}

/**
 * Checks that `config` can serve the web app: team mode signs people in with the configured integration, so it
 * needs one (a demo against the built-in emulator is local mode only).
 * @throws {ConfigError} naming what to set.
 */
export function assertServable(config: Pick<Config, 'accessMode' | 'accessModeSet' | 'clientId'>): void {
  if (config.accessMode === 'team' && !config.clientId) {
    const why = config.accessModeSet
      ? 'WEBEX_AUTH_MODE=team'
      : 'team mode (NODE_ENV=production, a non-loopback HOST or PUBLIC_URL)';
    throw new ConfigError(
      `Invalid setting WEBEX_CLIENT_ID: ${why} signs people in with Webex through the configured integration; set WEBEX_CLIENT_ID and WEBEX_CLIENT_SECRET (a demo without them runs in local mode, on this machine only)`,
      'WEBEX_CLIENT_ID',
    );
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
  /** A present value replaces a lower source's, as with dotenv; an empty (or blank) one means unset. */
  const set = (key: string, value: unknown) => {
    if (value === undefined || value === null) return;
    const v = String(value);
    if (v.trim() === '') delete merged[key];
    else merged[key] = v;
  };
  for (const source of [dotenv, env]) {
    for (const [alias, name] of Object.entries(ALIASES)) if (source[name] === undefined) set(name, source[alias]);
    for (const key of Object.keys(SETTINGS)) set(key, source[key]);
  }
  for (const [key, value] of Object.entries(options.overrides ?? {})) set(key, value);

  const s = check(merged);
  const dataDir = dataDirectory({ ...env, XDG_DATA_HOME: s.XDG_DATA_HOME });
  const config: Config = {
    clientId: s.WEBEX_CLIENT_ID,
    clientSecret: s.WEBEX_CLIENT_SECRET,
    redirectUri: s.WEBEX_REDIRECT_URI ?? DEFAULT_REDIRECT_URI,
    redirectUriSet: s.WEBEX_REDIRECT_URI !== undefined,
    scopes: s.WEBEX_SCOPES ? s.WEBEX_SCOPES.split(/ +/) : [],
    apiBase: (s.WEBEX_API_BASE ?? WEBEX_API_BASE).replace(/\/+$/, ''),
    issuer: s.WEBEX_ISSUER,
    port: s.PORT ?? 8080,
    host: s.HOST ?? '127.0.0.1',
    databaseUrl: s.DATABASE_URL,
    dbPath: s.WEBEX_AUTH_DB ?? join(dataDir, 'webex-auth.db'),
    keys: s.WEBEX_AUTH_KEYS,
    keychain: s.WEBEX_AUTH_KEYCHAIN !== 'off',
    adminToken: s.ADMIN_TOKEN,
    accessMode: s.WEBEX_AUTH_MODE ?? inferAccessMode(s),
    accessModeSet: s.WEBEX_AUTH_MODE !== undefined,
    publicUrl: s.PUBLIC_URL ? new URL(s.PUBLIC_URL).origin : undefined,
    allowedHosts: s.ALLOWED_HOSTS ?? [],
    trustProxy: s.TRUST_PROXY ?? false,
    adminEmails: s.ADMIN_EMAILS ?? [],
    allowedEmailDomains: s.ALLOWED_EMAIL_DOMAINS ?? [],
    allowedOrgIds: s.ALLOWED_ORG_IDS ?? [],
    webhookUrl: s.WEBHOOK_URL,
    webhookSecret: s.WEBHOOK_SECRET,
    allowPrivateWebhooks: s.ALLOW_PRIVATE_WEBHOOKS === 'true',
    botToken: s.BOT_TOKEN,
    spaceId: s.SPACE_ID,
    keepaliveDays: s.KEEPALIVE_DAYS ?? 30,
    keepaliveRate: s.KEEPALIVE_RATE ?? 2,
    keepaliveConcurrency: s.KEEPALIVE_CONCURRENCY ?? 4,
    forcedRefreshMinInterval: s.FORCED_REFRESH_MIN_INTERVAL ?? 30,
    tokenCap: s.WEBEX_TOKEN_CAP ?? 750,
    tokenCapRefuseAt: s.TOKEN_CAP_REFUSE_AT ?? 90,
    refreshRetryMaxInterval: s.REFRESH_RETRY_MAX_INTERVAL ?? 21_600,
    refreshMaxAttemptsPerHour: s.REFRESH_MAX_ATTEMPTS_PER_HOUR ?? 4,
    reconcileInterval: s.RECONCILE_INTERVAL ?? 3600,
    auditRetentionDays: s.AUDIT_RETENTION_DAYS ?? 90,
    proxyBufferLimit: s.PROXY_BUFFER_LIMIT ?? 1_048_576,
    proxyMaxBody: s.PROXY_MAX_BODY ?? 104_857_600,
    proxyMaxRetryWait: s.PROXY_MAX_RETRY_WAIT,
    proxyHeadersTimeout: s.PROXY_HEADERS_TIMEOUT ?? 30,
    proxyBodyTimeout: s.PROXY_BODY_TIMEOUT ?? 60,
    allowedApiBases: (s.ALLOWED_API_BASES ?? []).map((v) => v.replace(/\/+$/, '')),
    sessionCreationPerMinute: s.SESSION_CREATION_LIMIT ?? 12,
    apiKeyRateLimit: s.API_KEY_RATE_LIMIT ?? API_KEY_RATE_DEFAULTS.perSecond,
    apiKeyRateBurst: s.API_KEY_RATE_BURST ?? API_KEY_RATE_DEFAULTS.burst,
    keysFile: s.WEBEX_AUTH_KEYS_FILE,
    logLevel: s.LOG_LEVEL ?? 'info',
    production: s.NODE_ENV === 'production',
    mode: modeOf(s.WEBEX_CLIENT_ID, s.WEBEX_API_BASE ?? WEBEX_API_BASE),
    dataDir,
  };
  if (/^\/(api|static)\//.test(new URL(config.redirectUri).pathname)) {
    throw new ConfigError(
      'Invalid setting WEBEX_REDIRECT_URI: its path may not start with /api/ or /static/ (those paths are the broker API and static files)',
      'WEBEX_REDIRECT_URI',
    );
  }
  if (config.accessMode === 'local' && config.production) {
    throw new ConfigError(
      'Invalid setting WEBEX_AUTH_MODE: local mode (no sign-in, every request is the operator) cannot run with NODE_ENV=production',
      'WEBEX_AUTH_MODE',
    );
  }
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
    if ((config.adminToken as string).length < 32) {
      throw new ConfigError(
        'Invalid setting ADMIN_TOKEN: expected at least 32 characters when NODE_ENV=production (e.g. `openssl rand -base64 32`)',
        'ADMIN_TOKEN',
      );
    }
    const api = new URL(config.apiBase);
    if (api.protocol === 'http:' && !isLoopbackHost(api.hostname.replace(/^\[|\]$/g, ''))) {
      throw new ConfigError(
        'Invalid setting WEBEX_API_BASE: expected https in production (plain http is accepted only on loopback, for the emulator)',
        'WEBEX_API_BASE',
      );
    }
    if (config.accessMode === 'team' && !config.allowedEmailDomains.length && !config.allowedOrgIds.length) {
      throw new ConfigError(
        'Invalid setting ALLOWED_EMAIL_DOMAINS: a production team server says who may sign in (e.g. example.com), with ALLOWED_ORG_IDS, or * for any Webex account',
        'ALLOWED_EMAIL_DOMAINS',
      );
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
