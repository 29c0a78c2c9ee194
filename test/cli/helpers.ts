/** Test helpers: run the CLI in-process with injected IO (PassThrough streams) and collect what it printed. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import type { CommandIO } from '../../src/cli/io.js';
import { runCli } from '../../src/cli/run.js';

/** A 32-byte key ring entry for tests only. */
export const TEST_KEYS = `test:${Buffer.alloc(32, 9).toString('base64')}`;

/** An isolated environment: its own data dir (so its own SQLite store), a fixed key, no colour. */
export function isolatedEnv(extra: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  const dir = mkdtempSync(join(tmpdir(), 'wa-cli-'));
  return {
    HOME: dir,
    XDG_DATA_HOME: join(dir, 'data'),
    WEBEX_AUTH_KEYS: TEST_KEYS,
    WEBEX_AUTH_KEYCHAIN: 'off',
    LOG_LEVEL: 'silent',
    PATH: process.env.PATH,
    ...extra,
  };
}

/** What a run printed and returned. */
export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Options of {@link runInProcess}. */
export interface RunOptions {
  env: Record<string, string | undefined>;
  /** Lines to feed on stdin (then it ends), or a stream the test writes to. */
  stdin?: string | PassThrough;
  isTTY?: boolean;
  stdoutIsTTY?: boolean;
  openBrowser?: (url: string) => Promise<void>;
  interrupted?: Promise<void>;
  /** Called with each stderr chunk as it arrives (to react to printed URLs). */
  onStderr?: (text: string) => void;
  cwd?: string;
}

/** Runs `webex-auth <argv>` in-process. */
export async function runInProcess(argv: string[], opts: RunOptions): Promise<RunResult> {
  const stdin = typeof opts.stdin === 'string' || opts.stdin === undefined ? new PassThrough() : opts.stdin;
  if (typeof opts.stdin === 'string') stdin.end(opts.stdin);
  else if (opts.stdin === undefined) stdin.end();
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c) => (out += c));
  stderr.on('data', (c) => {
    err += c;
    opts.onStderr?.(err);
  });
  const io: CommandIO = {
    stdin,
    stdout,
    stderr,
    env: opts.env,
    cwd: opts.cwd ?? (opts.env.HOME as string),
    isTTY: opts.isTTY ?? false,
    stdoutIsTTY: opts.stdoutIsTTY ?? false,
    openBrowser: opts.openBrowser ?? (() => Promise.reject(new Error('no browser'))),
    interrupted: opts.interrupted,
  };
  const code = await runCli(argv, io);
  return { code, stdout: out, stderr: err };
}

/**
 * Makes the stored access tokens look 13 days old with an hour left (a 14-day token near its end), as the store would
 * hold them then: `token --min-validity 7200` must refresh first. Asking for more than a token's whole lifetime does
 * not force a refresh (it answers the freshest token, never a refresh per request).
 */
export async function ageStoredTokens(env: Record<string, string | undefined>): Promise<void> {
  const { loadConfig } = await import('../../src/config.js');
  const { default: Database } = await import('better-sqlite3');
  const db = new Database(loadConfig({ env, dotenvDir: false }).dbPath);
  const now = Date.now();
  db.prepare('UPDATE connections SET access_expires_at = ?, updated_at = ?, last_refresh_at = NULL').run(
    now + 3_600_000,
    now - 13 * 86_400_000,
  );
  db.close();
}

/**
 * Stores, in the store of `env`, one connection whose access token `accessToken` is valid for 14 days (its integration
 * points at a closed port: nothing may call Webex), as a grant would; `tag` names its person and refresh token.
 * Returns the connection's id.
 */
export async function storeFreshConnection(
  env: Record<string, string | undefined>,
  accessToken: string,
  tag: string,
): Promise<string> {
  const { loadConfig } = await import('../../src/config.js');
  const { openVault } = await import('../../src/vault/index.js');
  const vault = await openVault(loadConfig({ env, dotenvDir: false }));
  try {
    const integration = await vault.integrations.upsert({
      clientId: `C${tag[0]?.repeat(64)}`,
      clientSecret: 's'.repeat(64),
      redirectUri: 'http://localhost:8080/oauth',
      scopes: ['spark:people_read'],
      apiBase: 'http://127.0.0.1:9/v1',
    });
    const now = Date.now();
    const connection = await vault.connections.saveFromGrant({
      integrationId: integration.id,
      tokens: {
        accessToken,
        refreshToken: `${tag}-refresh-${'r'.repeat(40)}`,
        tokenType: 'Bearer',
        expiresAt: now + 14 * 86_400_000,
        refreshExpiresAt: now + 90 * 86_400_000,
        scopes: ['spark:people_read'],
        scopeReported: true,
        receivedAt: now,
      },
      person: { id: `${tag}-person`, emails: [`${tag}@example.com`], displayName: tag },
      requestedScopes: ['spark:people_read'],
    });
    return connection.id;
  } finally {
    await vault.close();
  }
}
