/**
 * Helpers of the server tests: a config, an app on a real vault (SQLite in a temp dir, removed when the app closes),
 * and a browser-like cookie jar for app.inject() that reads the CSRF token off each page.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Config, loadConfig } from '../../../src/config.js';
import { type BuildAppOptions, buildApp } from '../../../src/server/app.js';
import { generateKeyEntry } from '../../../src/vault/crypto/keyring.js';
import { openVault, type VaultInternals } from '../../../src/vault/vault.js';

/** A configuration from `env` only (no .env file, silent logs). */
export function testConfig(env: Record<string, string> = {}): Config {
  return loadConfig({
    env: { LOG_LEVEL: 'silent', XDG_DATA_HOME: '/nonexistent', WEBEX_AUTH_KEYCHAIN: 'off', ...env },
    dotenvDir: false,
  });
}

/** Builds the app on a fresh SQLite vault in a temp dir unless a vault is given. */
export async function testApp(env: Record<string, string> = {}, options: BuildAppOptions = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'webex-auth-app-'));
  const config = testConfig({
    XDG_DATA_HOME: dir,
    WEBEX_AUTH_DB: join(dir, 'webex-auth.db'),
    WEBEX_AUTH_KEYS: generateKeyEntry('k1'),
    ...env,
  });
  const app = await buildApp(config, options);
  app.addHook('onClose', async () => rmSync(dir, { recursive: true, force: true }));
  return { app, config, dir };
}

/**
 * {@link testApp} plus a second vault opened on the app's store (the app keeps its own vault to itself), to read and
 * seed what the app stores; closed with the app. Call before the app's first request (hooks cannot be added later).
 */
export async function testAppWithVault(
  env: Record<string, string> = {},
  options: BuildAppOptions = {},
): Promise<Awaited<ReturnType<typeof testApp>> & { vault: VaultInternals }> {
  const t = await testApp(env, options);
  const vault = await openVault(t.config);
  t.app.addHook('onClose', async () => vault.close());
  return { ...t, vault };
}

/** A browser's cookie jar for app.inject(): keeps every cookie it is given and reads the CSRF token off a page. */
export class Browser {
  readonly cookies = new Map<string, string>();
  csrf = '';
  constructor(
    private readonly app: { inject: Awaited<ReturnType<typeof testApp>>['app']['inject'] },
    /** Headers sent with every request (e.g. a Host, or X-Forwarded-Proto behind a proxy). */
    private readonly headers: Record<string, string> = {},
  ) {}

  /** The Cookie header this browser sends. */
  get cookie(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  async get(url: string, headers: Record<string, string> = {}) {
    const res = await this.app.inject({
      method: 'GET',
      url,
      headers: { ...this.headers, ...(this.cookie ? { cookie: this.cookie } : {}), ...headers },
    });
    this.#remember(res);
    return res;
  }

  async post(
    url: string,
    form: Record<string, string | string[]>,
    withCsrf = true,
    headers: Record<string, string> = {},
  ) {
    const body = new URLSearchParams();
    for (const [k, v] of Object.entries(form)) for (const x of Array.isArray(v) ? v : [v]) body.append(k, x);
    if (withCsrf) body.set('_csrf', this.csrf);
    const res = await this.app.inject({
      method: 'POST',
      url,
      headers: {
        ...this.headers,
        ...(this.cookie ? { cookie: this.cookie } : {}),
        'content-type': 'application/x-www-form-urlencoded',
        ...headers,
      },
      payload: body.toString(),
    });
    this.#remember(res);
    return res;
  }

  #remember(res: { headers: Record<string, unknown>; body: string }) {
    const set = res.headers['set-cookie'];
    for (const line of Array.isArray(set) ? set : typeof set === 'string' ? [set] : []) {
      const [pair = '', ...attrs] = String(line).split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attrs.some((a) => /^\s*expires=Thu, 01 Jan 1970/i.test(a) || /^\s*max-age=0$/i.test(a));
      if (expired || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    const m = /name="_csrf" value="([^"]+)"/.exec(res.body);
    if (m?.[1]) this.csrf = m[1];
  }
}
