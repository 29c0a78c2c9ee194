/** Test helpers: run the CLI in-process with injected IO (PassThrough streams) and collect what it printed. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import type { CommandIO } from '../../src/cli/io.js';
import { runCli } from '../../src/cli/run.js';
import type { VaultInternals } from '../../src/vault/vault.js';
import { ALICE, CLIENT_ID, CLIENT_SECRET, consent, printedAuthorizeUrl } from './emulator.js';

const HOUR = 3_600_000;

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
 * The environment of a CLI on the emulator at `apiBase` with the test integration (redirecting to `redirectUri`), in
 * its own store; `extra` on top.
 */
export function emulatorCliEnv(
  apiBase: string,
  redirectUri: string,
  extra: Record<string, string | undefined> = {},
): Record<string, string | undefined> {
  return isolatedEnv({
    WEBEX_CLIENT_ID: CLIENT_ID,
    WEBEX_CLIENT_SECRET: CLIENT_SECRET,
    WEBEX_REDIRECT_URI: redirectUri,
    WEBEX_API_BASE: apiBase,
    ...extra,
  });
}

/** How {@link pasteLogin} answers the emulator's consent page, and other options of the run. */
export interface PasteLoginOptions extends Omit<RunOptions, 'env' | 'stdin' | 'onStderr'> {
  /** Who consents (default alice). */
  email?: string;
  /** `accept` (default) or `decline`. */
  decision?: string;
  /** Changes the printed authorize URL before "the browser" opens it (an attacker's edit). */
  tamper?: (url: URL) => void;
}

/** `url` after `tamper` changed it. */
function tampered(url: string, tamper: (url: URL) => void): string {
  const edited = new URL(url);
  tamper(edited);
  return edited.toString();
}

/**
 * Runs `webex-auth login --no-browser <args>` in-process as a person would: once it prints the authorize URL, "the
 * browser" answers the emulator's consent page and the redirect is pasted on stdin (a failed consent ends stdin with
 * its error).
 */
export function pasteLogin(
  env: Record<string, string | undefined>,
  args: string[] = [],
  options: PasteLoginOptions = {},
): Promise<RunResult> {
  const { email = ALICE, decision = 'accept', tamper, ...run } = options;
  const stdin = new PassThrough();
  let driven = false;
  return runInProcess(['login', '--no-browser', ...args], {
    env,
    stdin,
    ...run,
    onStderr(text) {
      const printed = printedAuthorizeUrl(text);
      if (!printed || driven) return;
      driven = true;
      consent(tamper ? tampered(printed, tamper) : printed, email, decision).then(
        (location) => stdin.write(`${location}\n`),
        (error) => stdin.destroy(error),
      );
    },
  });
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

/** Runs `fn` on the CLI's store of `env` (the same file the commands open), closing it afterwards. */
export async function withStore<T>(
  env: Record<string, string | undefined>,
  fn: (vault: VaultInternals) => Promise<T>,
): Promise<T> {
  const { loadConfig } = await import('../../src/config.js');
  const { openVault } = await import('../../src/vault/vault.js');
  const vault = await openVault(loadConfig({ env, dotenvDir: false }));
  try {
    return await fn(vault);
  } finally {
    await vault.close();
  }
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
  const { tokenSet } = await import('../vault/helpers.js');
  return withStore(env, async (vault) => {
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
      tokens: tokenSet(
        { accessToken, refreshToken: `${tag}-refresh-${'r'.repeat(40)}`, scopes: ['spark:people_read'] },
        now,
      ),
      person: { id: `${tag}-person`, emails: [`${tag}@example.com`], displayName: tag },
      requestedScopes: ['spark:people_read'],
    });
    return connection.id;
  });
}

/** One person to give a stored connection to: `ownerId` is a team member's account (none: the local operator). */
export interface SeededPerson {
  email: string;
  ownerId?: string;
}

/**
 * Stores, in the store of `env`, the configured integration (on `apiBase`) and one fresh connection per person, in
 * this order (a later one is more recent), as grants would. Returns the connections' ids in the same order.
 */
export async function storePeopleConnections(
  env: Record<string, string | undefined>,
  apiBase: string,
  people: SeededPerson[],
): Promise<string[]> {
  const { CONFIGURED_OWNER } = await import('../../src/vault/types.js');
  const { tokenSet } = await import('../vault/helpers.js');
  return withStore(env, async (vault) => {
    const integration = await vault.integrations.upsert({
      ownerId: CONFIGURED_OWNER,
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      redirectUri: 'http://localhost:8080/oauth',
      apiBase,
      scopes: ['spark:people_read'],
    });
    const ids: string[] = [];
    for (const [i, p] of people.entries()) {
      const now = Date.now();
      const c = await vault.connections.saveFromGrant({
        ownerId: p.ownerId,
        integrationId: integration.id,
        tokens: tokenSet(
          {
            accessToken: `access-${i}-${'a'.repeat(40)}`,
            refreshToken: `refresh-${i}-${'r'.repeat(40)}`,
            expiresAt: now + 12 * HOUR,
            refreshExpiresAt: now + 14 * 24 * HOUR,
            scopes: ['spark:people_read'],
          },
          now,
        ),
        person: { id: `person-${p.email}`, emails: [p.email], displayName: p.email.split('@')[0] as string },
        requestedScopes: ['spark:people_read'],
      });
      ids.push(c.id);
      await new Promise((r) => setTimeout(r, 5)); // distinct updatedAt: "more recent" is well defined
    }
    return ids;
  });
}
