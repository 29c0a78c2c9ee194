/**
 * Shared helpers of the security, reliability and long suites: real `webex-auth serve` processes on free loopback
 * ports, a broker process with test tunings (short lease), a cookie-keeping HTTP "browser" over fetch, and a seed.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from '../support/free-port.js';

/** A free loopback port (test/support/free-port.ts). */
export { freePort };

/** The repository root. */
export const ROOT = resolve(import.meta.dirname, '..', '..');
/** The built bin. */
export const MAIN = join(ROOT, 'dist', 'cli', 'main.js');

/** A test integration (client id/secret shaped like Webex's). */
export const INTEGRATION = {
  clientId: `C${'5e'.repeat(32)}`,
  clientSecret: `canary-client-secret-${'7f'.repeat(24)}`,
  scopes: ['spark:all', 'spark:people_read', 'spark:rooms_read'],
};

/** An emulator seed with {@link INTEGRATION} registered for `redirectUris` and one person. */
export function seedFor(redirectUris: string[], displayName = 'Alice Example') {
  return {
    integrations: [{ ...INTEGRATION, redirectUris }],
    users: [{ email: 'alice@example.com', displayName, firstName: 'Alice', lastName: 'Example' }],
    bots: [],
    rooms: [],
  };
}

/** A temporary directory and its cleanup. */
export function tempDir(prefix = 'webex-auth-sec-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A running server process. */
export interface ServerProcess {
  /** `http://127.0.0.1:P` */
  url: string;
  port: number;
  proc: ChildProcess;
  /** Everything it wrote to stdout and stderr so far. */
  output(): string;
  /** Resolves with the exit code (or signal) once it exited. */
  exited: Promise<number | string>;
  /** SIGTERM and wait. */
  stop(): Promise<void>;
  /** SIGKILL and wait. */
  kill9(): Promise<void>;
}

/** Spawns `node <args>` and resolves once a line matches `ready` (rejects with its output if it exits first). */
export async function spawnServer(args: string[], env: Record<string, string>, port: number): Promise<ServerProcess> {
  const proc = spawn(process.execPath, args, {
    cwd: ROOT,
    // Forced refreshes unlimited unless a test says otherwise: these suites force refreshes in a row on purpose (the
    // limit itself is test/broker/forced-refresh.test.ts's).
    env: {
      PATH: process.env.PATH ?? '',
      LOG_LEVEL: 'info',
      WEBEX_AUTH_KEYCHAIN: 'off',
      FORCED_REFRESH_MIN_INTERVAL: '0',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const exited = new Promise<number | string>((ok) => proc.once('exit', (code, signal) => ok(code ?? signal ?? -1)));
  await new Promise<void>((ok, fail) => {
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      if (/listening on/.test(out)) ok();
    };
    proc.stdout?.on('data', onData);
    proc.stderr?.on('data', onData);
    exited.then((code) => fail(new Error(`server exited (${code}) before listening:\n${out}`)));
  });
  const server: ServerProcess = {
    url: `http://127.0.0.1:${port}`,
    port,
    proc,
    output: () => out,
    exited,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      await exited;
    },
    async kill9() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      await exited;
    },
  };
  return server;
}

/** Runs `webex-auth serve` on a free port with `env` (a temp data dir unless one is given). */
export async function startServe(env: Record<string, string>, port?: number): Promise<ServerProcess> {
  const p = port ?? (await freePort());
  return spawnServer([MAIN, 'serve', '--port', String(p), '--host', '127.0.0.1'], env, p);
}

/** Runs the broker fixture (buildApp + openVault with test tunings such as a short lease) on a free port. */
export async function startBroker(
  env: Record<string, string>,
  tuning: { leaseMs?: number; retryBaseDelayMs?: number; webhookBaseDelayMs?: number; schema?: string } = {},
  port?: number,
): Promise<ServerProcess> {
  const p = port ?? (await freePort());
  return spawnServer(
    [join(ROOT, 'test', 'security', 'fixtures', 'broker.mjs'), String(p), JSON.stringify(tuning)],
    env,
    p,
  );
}

/** A browser over fetch: keeps cookies, does not follow redirects, reads the CSRF token off pages. */
export class HttpBrowser {
  readonly cookies = new Map<string, string>();
  csrf = '';
  /** Requests the browser made, with the response status and Location. */
  readonly history: Array<{ url: string; status: number; location: string | null }> = [];

  constructor(readonly base: string) {}

  cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  async request(url: string, init: RequestInit = {}): Promise<{ res: Response; body: string }> {
    const absolute = new URL(url, this.base).toString();
    const sameOrigin = new URL(absolute).origin === new URL(this.base).origin;
    const headers = new Headers(init.headers);
    if (sameOrigin && this.cookies.size > 0) headers.set('cookie', this.cookieHeader());
    const res = await fetch(absolute, { ...init, headers, redirect: 'manual' });
    const body = await res.text();
    if (sameOrigin) {
      for (const c of res.headers.getSetCookie()) {
        const [pair, ...attrs] = c.split(';');
        const i = pair?.indexOf('=') ?? -1;
        if (!pair || i <= 0) continue;
        // A cookie set to expire (Max-Age=0, an expiry in the past) is dropped, as a browser drops it.
        const expired = attrs.some((a) => /^\s*max-age=0$/i.test(a) || /^\s*expires=Thu, 01 Jan 1970/i.test(a));
        if (expired) this.cookies.delete(pair.slice(0, i));
        else this.cookies.set(pair.slice(0, i), pair.slice(i + 1));
      }
      const m = /name="_csrf" value="([^"]+)"/.exec(body);
      if (m?.[1]) this.csrf = m[1];
    }
    this.history.push({ url: absolute, status: res.status, location: res.headers.get('location') });
    return { res, body };
  }

  get(url: string) {
    return this.request(url);
  }

  /** Posts a form (with this session's CSRF token unless `csrf` is given, `null` for none). */
  post(url: string, form: Record<string, string | string[]>, csrf: string | null = this.csrf) {
    const body = new URLSearchParams();
    for (const [k, v] of Object.entries(form)) for (const x of Array.isArray(v) ? v : [v]) body.append(k, x);
    if (csrf !== null) body.set('_csrf', csrf);
    return this.request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: body.toString(),
    });
  }

  /**
   * Starts an authorization with `scopes` and follows it through the auto-consenting emulator up to (not into) the
   * callback: returns the callback URL Webex sent the browser back to.
   */
  async authorizeUntilCallback(scopes: string[]): Promise<string> {
    if (!this.csrf) await this.get('/home');
    const start = await this.post('/oauth/start', { scope: scopes });
    const authorize = start.res.headers.get('location');
    if (start.res.status !== 303 || !authorize) throw new Error(`start answered ${start.res.status}: ${start.body}`);
    const consent = await this.request(authorize);
    const callback = consent.res.headers.get('location');
    if (!callback) throw new Error(`emulator answered ${consent.res.status} without a redirect: ${consent.body}`);
    return callback;
  }

  /** A full authorization; returns the connection page path. */
  async connect(scopes: string[] = ['spark:all', 'spark:people_read']): Promise<string> {
    const callback = await this.authorizeUntilCallback(scopes);
    // The callback answers with the connection page, which names its own address.
    const done = await this.get(callback);
    const location = done.res.headers.get('content-location');
    if (done.res.status !== 200 || !location?.startsWith('/connections/')) {
      throw new Error(`callback answered ${done.res.status}: ${done.body.slice(0, 500)}`);
    }
    return location;
  }
}

/** Environment of a serve process in "custom" mode against the emulator at `apiBase`. */
export function serveEnv(apiBase: string, redirectUri: string, dataDir: string, extra: Record<string, string> = {}) {
  return {
    HOME: dataDir,
    XDG_DATA_HOME: dataDir,
    WEBEX_CLIENT_ID: INTEGRATION.clientId,
    WEBEX_CLIENT_SECRET: INTEGRATION.clientSecret,
    WEBEX_REDIRECT_URI: redirectUri,
    WEBEX_SCOPES: INTEGRATION.scopes.join(' '),
    WEBEX_API_BASE: apiBase,
    WEBEX_AUTH_DB: join(dataDir, 'webex-auth.db'),
    WEBEX_AUTH_KEYS: `k1:${Buffer.alloc(32, 3).toString('base64')}`,
    ...extra,
  };
}

/** The emulator's successful grants by type. */
export async function grants(emulatorUrl: string): Promise<{ authorization_code: number; refresh_token: number }> {
  const res = await fetch(`${emulatorUrl}/_emulator/stats`);
  return ((await res.json()) as { grants: { authorization_code: number; refresh_token: number } }).grants;
}

/** POSTs to the emulator's control API. */
export async function emulatorControl(emulatorUrl: string, path: string, body: unknown): Promise<void> {
  const res = await fetch(`${emulatorUrl}/_emulator/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  await res.body?.cancel();
  if (!res.ok) throw new Error(`emulator control ${path}: ${res.status}`);
}
