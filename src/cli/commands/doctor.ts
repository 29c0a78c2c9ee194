/**
 * `webex-auth doctor`: checks the configuration (and, in team mode, what Sign in with Webex needs), the redirect URI,
 * the clock against Webex's, the store and its key, and every connection (tokens decrypt, a live people/me call, scopes granted vs wanted). Each finding has a fix-it
 * line; the exit code is the worst finding's (2 configuration, 4 authorization needed, 1 anything else).
 */
import { type Config, isLoopbackHost } from '../../config.js';
import { describeKeychainEntry } from '../../vault/crypto/keychain.js';
import { LOCAL_OPERATOR } from '../../vault/types.js';
import type { Command } from '../command.js';
import { loadCliConfig, openCliVault } from '../context.js';
import { type CommandIO, EXIT } from '../io.js';
import { createOutput, JSON_FLAG, JSON_HELP } from '../ui/output.js';
import { terminalSafe as safe } from '../ui/terminal-safe.js';

/** One finding. `exitCode` is what it contributes when it is a failure. */
export interface Finding {
  check: string;
  level: 'ok' | 'warn' | 'fail';
  message: string;
  fix?: string;
  exitCode?: number;
}

/** Clock skew beyond which OAuth (id_token `iat`/`exp`) and expiry countdowns go wrong. */
const SKEW_WARN_S = 30;
const SKEW_FAIL_S = 300;

function redirectFindings(config: Config): Finding[] {
  const url = new URL(config.redirectUri);
  const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
  const findings: Finding[] = [];
  if (url.protocol === 'https:' || (url.protocol === 'http:' && loopback)) {
    findings.push({
      check: 'redirect URI',
      level: 'ok',
      message: `${config.redirectUri} (${loopback ? 'loopback' : 'https'})`,
    });
  } else {
    findings.push({
      check: 'redirect URI',
      level: 'fail',
      message: `${config.redirectUri} is plain http on a non-loopback host: codes would cross the network in clear`,
      fix: 'Register an https redirect URI (or http://localhost:<port>/…) on the integration and set WEBEX_REDIRECT_URI to it.',
      exitCode: EXIT.usage,
    });
  }
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  if (loopback && port !== config.port) {
    findings.push({
      check: 'redirect URI',
      level: 'warn',
      message: `the web app listens on port ${config.port} but the redirect URI points to port ${port}`,
      fix: `Set PORT=${port} for \`webex-auth serve\`, or register http://localhost:${config.port}${url.pathname} (\`webex-auth login\` serves the redirect URI's port itself).`,
    });
  }
  return findings;
}

/** The scopes of Sign in with Webex that WEBEX_SCOPES must list when it lists any (it also asks spark:people_read). */
const SIGNIN_OIDC_SCOPES = ['openid', 'email', 'profile'];

/**
 * Which access mode the server runs in with this configuration, and why; in team mode, what Sign in with Webex needs:
 * the configured integration (without it the server refuses to start), admins, and the OpenID scopes.
 */
export function accessModeFindings(config: Config): Finding[] {
  if (config.accessMode === 'local') {
    const why = config.accessModeSet ? 'WEBEX_AUTH_MODE=local' : 'loopback HOST, no PUBLIC_URL, not production';
    return [{ check: 'access mode', level: 'ok', message: `local — one local operator, no sign-in (${why})` }];
  }
  const reasons = config.accessModeSet
    ? ['WEBEX_AUTH_MODE=team']
    : [
        ...(config.production ? ['NODE_ENV=production'] : []),
        ...(isLoopbackHost(config.host) ? [] : [`non-loopback HOST ${config.host}`]),
        ...(config.publicUrl ? [`PUBLIC_URL ${config.publicUrl}`] : []),
      ];
  const findings: Finding[] = [
    {
      check: 'access mode',
      level: 'ok',
      message: `team — people Sign in with Webex and own their connections (${reasons.join(', ')})`,
    },
  ];
  if (!config.clientId) {
    findings.push({
      check: 'team mode',
      level: 'fail',
      message: 'no configured integration: team mode signs people in with it, so the server refuses to start',
      fix: 'Set WEBEX_CLIENT_ID and WEBEX_CLIENT_SECRET (or WEBEX_AUTH_MODE=local for a demo).',
      exitCode: EXIT.usage,
    });
  } else {
    findings.push({
      check: 'team mode',
      level: 'ok',
      message: `people sign in through the configured integration ${config.clientId.slice(0, 12)}…`,
    });
  }
  if (config.adminEmails.length === 0) {
    findings.push({
      check: 'team mode',
      level: 'warn',
      message: 'ADMIN_EMAILS is not set: no one can use the admin pages except with ADMIN_TOKEN',
      fix: "Set ADMIN_EMAILS to the admins' Webex emails, e.g. ADMIN_EMAILS=ops@example.com.",
    });
  } else {
    findings.push({ check: 'team mode', level: 'ok', message: `admins: ${config.adminEmails.join(', ')}` });
  }
  const missing = SIGNIN_OIDC_SCOPES.filter((x) => !config.scopes.includes(x));
  if (config.clientId && config.scopes.length > 0 && missing.length > 0) {
    findings.push({
      check: 'team mode',
      level: 'warn',
      message: `WEBEX_SCOPES lacks ${missing.join(' ')}: Sign in with Webex asks for openid email profile spark:people_read`,
      fix: 'Register openid, email and profile on the integration at developer.webex.com and add them to WEBEX_SCOPES.',
    });
  }
  return findings;
}

async function clockFinding(config: Config): Promise<Finding> {
  const started = Date.now();
  try {
    // The token endpoint answers an empty POST with an error quickly; only its Date header matters here.
    const response = await fetch(`${config.apiBase}/access_token`, {
      method: 'POST',
      signal: AbortSignal.timeout(5000),
    });
    await response.body?.cancel();
    const date = response.headers.get('date');
    if (!date)
      return { check: 'clock', level: 'warn', message: 'the token endpoint sent no Date header; skew unknown' };
    // Date has 1 s resolution: compare with the middle of the round trip.
    const local = (started + Date.now()) / 2;
    const skew = Math.round((local - Date.parse(date)) / 1000);
    const message = `local clock is ${Math.abs(skew)} s ${skew >= 0 ? 'ahead of' : 'behind'} ${new URL(config.apiBase).host}`;
    if (Math.abs(skew) <= SKEW_WARN_S) return { check: 'clock', level: 'ok', message };
    return {
      check: 'clock',
      level: Math.abs(skew) > SKEW_FAIL_S ? 'fail' : 'warn',
      message,
      fix: 'Synchronise the clock (e.g. `timedatectl set-ntp true`): id_token checks and expiry times depend on it.',
      exitCode: EXIT.failure,
    };
  } catch {
    return {
      check: 'clock',
      level: 'warn',
      message: `cannot reach ${config.apiBase} to compare clocks`,
      fix: 'Check the network and WEBEX_API_BASE.',
    };
  }
}

/** Runs every check and returns the findings. */
export async function diagnose(io: CommandIO): Promise<Finding[]> {
  let config: Config;
  try {
    config = await loadCliConfig(io);
  } catch (error) {
    return [
      {
        check: 'configuration',
        level: 'fail',
        message: error instanceof Error ? error.message : String(error),
        fix: 'Fix the setting in the environment, .env or the matching flag.',
        exitCode: EXIT.usage,
      },
    ];
  }
  const findings: Finding[] = [
    { check: 'configuration', level: 'ok', message: `loaded (${config.mode} mode, API ${config.apiBase})` },
  ];
  findings.push(...accessModeFindings(config));
  findings.push(...redirectFindings(config));
  findings.push(await clockFinding(config));
  let vault: Awaited<ReturnType<typeof openCliVault>>;
  try {
    vault = await openCliVault(config);
  } catch (error) {
    findings.push({
      check: 'store',
      level: 'fail',
      message: `cannot open the store: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`,
      fix: 'Check DATABASE_URL / WEBEX_AUTH_DB and WEBEX_AUTH_KEYS.',
      exitCode: EXIT.failure,
    });
    return findings;
  }
  try {
    const where = vault.storeKind === 'postgres' ? 'PostgreSQL (DATABASE_URL)' : `SQLite at ${config.dbPath}`;
    const { path, account } = vault.keyLocation;
    const keyFrom = {
      env: 'WEBEX_AUTH_KEYS',
      keychain: describeKeychainEntry(account ?? ''),
      file: `the 0600 key file ${path}`,
    }[vault.keySource];
    findings.push({ check: 'store', level: 'ok', message: `${where}; encryption key from ${keyFrom}` });
    if (vault.keySource !== 'env' && config.production) {
      findings.push({
        check: 'store',
        level: 'warn',
        message: 'in production the key should come from WEBEX_AUTH_KEYS',
        fix: 'Run `webex-auth keys generate` and set WEBEX_AUTH_KEYS in the environment.',
      });
    }
    const integrations = await vault.integrations.list();
    if (!config.clientId && integrations.length === 0) {
      findings.push({
        check: 'integration',
        level: 'warn',
        message: 'no Webex integration configured or stored',
        fix: 'Set WEBEX_CLIENT_ID and WEBEX_CLIENT_SECRET from developer.webex.com, or run `webex-auth login --auth-url <url>`.',
      });
    } else {
      findings.push({
        check: 'integration',
        level: 'ok',
        message: config.clientId
          ? `client id ${config.clientId.slice(0, 12)}… configured`
          : `${integrations.length} stored`,
      });
    }
    const connections = await vault.connections.list();
    if (connections.length === 0) {
      findings.push({
        check: 'connections',
        level: 'warn',
        message: 'no connection yet',
        fix: 'Run `webex-auth login`.',
      });
    }
    const { WebexClient } = await import('../../webex/client.js');
    for (const c of connections) {
      const label = `connection ${c.personEmail || c.displayName}${c.ownerId === LOCAL_OPERATOR ? '' : ` (owner ${c.ownerId})`}`;
      try {
        await vault.connections.revealTokens(c.id);
      } catch (error) {
        findings.push({
          check: label,
          level: 'fail',
          message: `stored tokens do not decrypt: ${error instanceof Error ? error.message : String(error)}`,
          fix: 'Set WEBEX_AUTH_KEYS to the key ring the tokens were written with.',
          exitCode: EXIT.failure,
        });
        continue;
      }
      try {
        const fresh = await vault.connections.getFreshToken(c.id, 60);
        const integration = integrations.find((i) => i.id === c.integrationId);
        const client = new WebexClient({
          apiBase: integration?.apiBase ?? config.apiBase,
          accessToken: fresh.accessToken,
          maxRetries: 0,
        });
        const me = await client.peopleMe();
        findings.push({ check: label, level: 'ok', message: `tokens decrypt; people/me answers ${me.displayName}` });
      } catch (error) {
        const e = error as { name?: string; code?: string; status?: number; message?: string };
        const reauth = e.code === 'needs_reauth' || e.status === 401;
        const noScope = e.status === 403;
        findings.push({
          check: label,
          level: noScope ? 'warn' : 'fail',
          message: reauth
            ? 'Webex no longer accepts this connection (needs re-authorization)'
            : noScope
              ? 'people/me is refused: the connection lacks spark:people_read'
              : `the live check failed: ${e.message?.split('\n')[0] ?? 'unknown error'}`,
          fix: !(reauth || noScope)
            ? 'Run `webex-auth refresh` later; check the network.'
            : c.ownerId === LOCAL_OPERATOR
              ? `Run \`webex-auth login\`${noScope ? ' --scopes "spark:people_read …"' : ''}.`
              : "Its owner authorizes it again on the web app (a team member's connection).",
          exitCode: reauth ? EXIT.authNeeded : EXIT.failure,
        });
      }
      const wanted = config.scopes.length ? config.scopes : c.requestedScopes;
      const missing = wanted.filter((s) => !c.scopes.includes(s));
      if (missing.length) {
        findings.push({
          check: label,
          level: 'warn',
          message: `wanted scopes not granted: ${missing.join(' ')}`,
          fix: 'Register them on the integration at developer.webex.com, then run `webex-auth login` again.',
        });
      }
    }
  } finally {
    await vault.close();
  }
  return findings;
}

/** The exit code of a set of findings: the highest exit code among the failures, 0 when none failed. */
export function worstExitCode(findings: Finding[]): number {
  return findings
    .filter((f) => f.level === 'fail')
    .reduce((worst, f) => Math.max(worst, f.exitCode ?? EXIT.failure), 0);
}

const command: Command = {
  summary: 'Check configuration, clock, store, key and every connection',
  usage: 'doctor [--json]',
  flags: { ...JSON_FLAG },
  help: { ...JSON_HELP },
  async run(args, io) {
    const out = createOutput(io, args.values);
    const findings = await diagnose(io);
    const mark = { ok: out.out.green('✓'), warn: out.out.yellow('!'), fail: out.out.red('✗') };
    // Findings quote Webex text (display names, error descriptions): made terminal-safe here; --json keeps it raw.
    out.data(findings, () =>
      findings
        .map(
          (f) =>
            `${mark[f.level]} ${safe(f.check)}: ${safe(f.message)}\n${f.fix && f.level !== 'ok' ? `    fix: ${safe(f.fix)}\n` : ''}`,
        )
        .join(''),
    );
    return worstExitCode(findings);
  },
};

export default command;
