/**
 * `webex-auth emulator`: runs the Webex emulator (a local stand-in for https://webexapis.com/v1) until Ctrl-C.
 * Every knob of docs/webex-api.md "Emulator" is a flag; defaults are Webex's behaviour.
 */
import { readFile } from 'node:fs/promises';
import type { Command } from '../command.js';
import { CliError } from '../io.js';

function int(name: string, raw: unknown, min: number, max: number): number | undefined {
  if (raw === undefined) return undefined;
  const s = String(raw);
  if (!/^-?\d+$/.test(s) || Number(s) < min || Number(s) > max)
    throw new CliError(`--${name} must be an integer from ${min} to ${max}, not "${s}".`, 2);
  return Number(s);
}

function choice<T extends string>(name: string, raw: unknown, allowed: readonly T[]): T | undefined {
  if (raw === undefined) return undefined;
  if (!allowed.includes(raw as T)) throw new CliError(`--${name} must be one of ${allowed.join(', ')}.`, 2);
  return raw as T;
}

function url(name: string, raw: unknown): string | undefined {
  if (raw === undefined) return undefined;
  try {
    new URL(String(raw));
    return String(raw);
  } catch {
    throw new CliError(`--${name} must be an absolute URL.`, 2);
  }
}

const command: Command = {
  summary: 'Run the Webex emulator (OAuth, OIDC, device grant, REST) on a loopback port',
  usage: 'emulator [--port <P>] [--host 127.0.0.1] [--seed <file.json>] [--auto-consent <email>] [knobs…]',
  flags: {
    port: { type: 'string', short: 'p' },
    host: { type: 'string' },
    seed: { type: 'string' },
    'auto-consent': { type: 'string' },
    'access-ttl': { type: 'string' },
    'refresh-ttl': { type: 'string' },
    'code-ttl': { type: 'string' },
    'rotate-refresh-tokens': { type: 'boolean' },
    'legacy-token-response': { type: 'boolean' },
    'refresh-renew': { type: 'string' },
    'token-cap': { type: 'string' },
    'refresh-error': { type: 'string' },
    issuer: { type: 'string' },
    'id-token-iss': { type: 'string' },
    'id-token-claims': { type: 'string' },
    'no-kid': { type: 'boolean' },
    'jwks-keys': { type: 'string' },
    'discovery-auth-methods': { type: 'string' },
    'revocation-lag-ms': { type: 'string' },
    'refresh-unchanged-within': { type: 'string' },
    'max-mode': { type: 'string' },
    'clock-offset': { type: 'string' },
    'webhook-retries': { type: 'string' },
    'webhook-retry-base-ms': { type: 'string' },
    'webhook-inactive-after': { type: 'string' },
    'webhook-timeout-ms': { type: 'string' },
    verbose: { type: 'boolean', short: 'v' },
  },
  help: {
    port: 'Port to listen on (default 9090; 0 picks a free port)',
    host: 'Address to listen on (default 127.0.0.1)',
    seed: 'Seed file (JSON: integrations, users, bots, serviceApps, rooms); default: the built-in demo seed',
    'auto-consent': 'Skip the consent page: authorize as this person; device codes approved on first poll',
    'access-ttl': 'Access-token lifetime in seconds (default 1209599, 14 days)',
    'refresh-ttl': 'Refresh-token lifetime in seconds (default 7775999, 90 days)',
    'code-ttl': 'Authorization-code lifetime in seconds (default 300); codes are single use',
    'rotate-refresh-tokens':
      'Return a new refresh token on every refresh (Webex does not; the old one then stops working)',
    'legacy-token-response': 'Omit token_type and scope from token responses, as older Webex responses did',
    'refresh-renew': 'on|off: renew the refresh token to its full lifetime on each refresh (default on)',
    'token-cap': 'Live access tokens per person across all clients before tokenlimit_reached (default 750)',
    'refresh-error':
      'invalid_request|invalid_grant: error for a bad/expired/revoked refresh token (default invalid_request)',
    issuer: 'Issuer in discovery and id_tokens (default https://idbroker-b-us.webex.com/idb)',
    'id-token-iss': 'A different iss in id_tokens than the discovery issuer (reproduces the observed mismatch)',
    'id-token-claims': 'openid|requested: id_token carries only the openid claims (default) or also email/profile',
    'no-kid': 'Sign id_tokens without a kid header, as Cisco samples show',
    'jwks-keys': 'Number of RSA keys published in the JWKS (default 1; the first signs)',
    'discovery-auth-methods': 'Comma list for token_endpoint_auth_methods_supported (default client_secret_basic)',
    'revocation-lag-ms': 'Milliseconds before a revocation takes effect (default 0: immediately)',
    'refresh-unchanged-within':
      'Seconds within which a second refresh of one grant returns the same access token and expiry (default 0: off)',
    'max-mode': 'clamp|reject: a list max above the endpoint limit is clamped (default) or a 400',
    'clock-offset': 'Start the emulator clock this many seconds from now (may be negative)',
    'webhook-retries': 'Webhook retries after a failed first delivery attempt (default 3; 0 = none)',
    'webhook-retry-base-ms': 'Wait before the first webhook retry in ms, doubling each time (default 1000)',
    'webhook-inactive-after': 'A webhook turns inactive after this many failed deliveries in a row (default 5)',
    'webhook-timeout-ms': 'Ms to wait for a webhook receiver before the attempt fails (default 10000)',
    verbose: 'Log every request to stderr (secrets redacted)',
  },
  details:
    'The base URL http://127.0.0.1:<P>/v1 mirrors https://webexapis.com/v1. The test-only control API lives under\n' +
    '/_emulator: POST clock {advanceSeconds}, POST/DELETE faults, GET stats, POST revoke {email|refreshToken},\n' +
    'GET/DELETE deliveries (webhook delivery attempts), POST reset. The demo seed holds made-up credentials for this\n' +
    'emulator only; they never work against Webex.',
  async run(args, io) {
    const v = args.values;
    const port = int('port', v.port ?? '9090', 0, 65535) as number;
    const host = (v.host as string | undefined) ?? '127.0.0.1';
    const { startEmulator, validateSeed, SeedError } = await import('../../emulator/index.js');
    let seed: unknown;
    if (v.seed !== undefined) {
      const file = String(v.seed);
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch (error) {
        throw new CliError(
          `Cannot read the seed file ${file}: ${(error as NodeJS.ErrnoException).code ?? 'error'}.`,
          2,
        );
      }
      try {
        seed = JSON.parse(text);
      } catch (error) {
        throw new CliError(`The seed file ${file} is not valid JSON: ${(error as Error).message.split('\n')[0]}`, 2);
      }
      try {
        validateSeed(seed);
      } catch (error) {
        if (error instanceof SeedError) throw new CliError(`${file}: ${error.message}`, 2, 'Fix the seed file.');
        throw error;
      }
    }
    const renew = choice('refresh-renew', v['refresh-renew'], ['on', 'off'] as const);
    const methods = v['discovery-auth-methods'] as string | undefined;
    let logger: import('fastify').FastifyBaseLogger | undefined;
    if (v.verbose) {
      const { createLogger } = await import('../../log.js');
      logger = createLogger({ name: 'emulator', level: 'info' });
    }
    let running: Awaited<ReturnType<typeof startEmulator>>;
    try {
      running = await startEmulator({
        port,
        host,
        seed: seed as never,
        autoConsent: v['auto-consent'] as string | undefined,
        accessTtl: int('access-ttl', v['access-ttl'], 1, 1e9),
        refreshTtl: int('refresh-ttl', v['refresh-ttl'], 1, 1e10),
        codeTtl: int('code-ttl', v['code-ttl'], 1, 86400),
        rotateRefreshTokens: v['rotate-refresh-tokens'] === true,
        legacyTokenResponse: v['legacy-token-response'] === true,
        refreshRenew: renew === undefined ? undefined : renew === 'on',
        tokenCap: int('token-cap', v['token-cap'], 1, 1e9),
        refreshError: choice('refresh-error', v['refresh-error'], ['invalid_request', 'invalid_grant'] as const),
        issuer: url('issuer', v.issuer),
        idTokenIss: url('id-token-iss', v['id-token-iss']),
        idTokenClaims: choice('id-token-claims', v['id-token-claims'], ['openid', 'requested'] as const),
        noKid: v['no-kid'] === true,
        jwksKeys: int('jwks-keys', v['jwks-keys'], 1, 5),
        discoveryAuthMethods: methods
          ? methods
              .split(',')
              .map((m) => m.trim())
              .filter(Boolean)
          : undefined,
        revocationLagMs: int('revocation-lag-ms', v['revocation-lag-ms'], 0, 3_600_000),
        refreshUnchangedWithin: int('refresh-unchanged-within', v['refresh-unchanged-within'], 0, 1e9),
        maxMode: choice('max-mode', v['max-mode'], ['clamp', 'reject'] as const),
        clockOffset: int('clock-offset', v['clock-offset'], -1e10, 1e10),
        webhookRetries: int('webhook-retries', v['webhook-retries'], 0, 20),
        webhookRetryBaseMs: int('webhook-retry-base-ms', v['webhook-retry-base-ms'], 0, 3_600_000),
        webhookInactiveAfter: int('webhook-inactive-after', v['webhook-inactive-after'], 1, 1000),
        webhookTimeoutMs: int('webhook-timeout-ms', v['webhook-timeout-ms'], 1, 600_000),
        logger,
      });
    } catch (error) {
      const e = error as NodeJS.ErrnoException;
      if (e.code === 'EADDRINUSE') throw new CliError(`Port ${port} is already in use.`, 1, 'Pick another --port.');
      if (e.code === 'EACCES' || e.code === 'EADDRNOTAVAIL')
        throw new CliError(`Cannot listen on ${host}:${port} (${e.code}).`, 1, 'Pick another --host or --port.');
      if (/^auto-consent:/.test(e.message ?? '')) throw new CliError(e.message, 2, 'Name a person in the seed.');
      throw error;
    }
    io.stdout.write(`webex-auth emulator listening on ${running.url}\n`);
    io.stderr.write(`API base ${running.apiBase} (a local stand-in for https://webexapis.com/v1, not Webex)\n`);
    await io.interrupted;
    await running.close();
    return 0;
  },
};

export default command;
