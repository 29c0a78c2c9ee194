/** Helpers of the server tests: a config, an app on a memory vault, and reading the session cookie + CSRF token. */
import { type Config, loadConfig } from '../../../src/config.js';
import { type BuildAppOptions, buildApp } from '../../../src/server/app.js';
import { memoryVault } from './memory-vault.js';

/** A configuration from `env` only (no .env file, silent logs). */
export function testConfig(env: Record<string, string> = {}): Config {
  return loadConfig({
    env: { LOG_LEVEL: 'silent', XDG_DATA_HOME: '/nonexistent', WEBEX_AUTH_KEYCHAIN: 'off', ...env },
    dotenvDir: false,
  });
}

/** Builds the app on a memory vault unless one is given. */
export async function testApp(env: Record<string, string> = {}, options: BuildAppOptions = {}) {
  const vault = options.vault ?? memoryVault();
  const app = await buildApp(testConfig(env), { ...options, vault });
  return { app, vault };
}

/** A browser's cookie jar for app.inject(): keeps the session cookie and reads the CSRF token off a page. */
export class Browser {
  cookie = '';
  csrf = '';
  constructor(private readonly app: Awaited<ReturnType<typeof testApp>>['app']) {}

  async get(url: string, headers: Record<string, string> = {}) {
    const res = await this.app.inject({ method: 'GET', url, headers: { cookie: this.cookie, ...headers } });
    this.#remember(res);
    return res;
  }

  async post(url: string, form: Record<string, string | string[]>, withCsrf = true) {
    const body = new URLSearchParams();
    for (const [k, v] of Object.entries(form)) for (const x of Array.isArray(v) ? v : [v]) body.append(k, x);
    if (withCsrf) body.set('_csrf', this.csrf);
    const res = await this.app.inject({
      method: 'POST',
      url,
      headers: { cookie: this.cookie, 'content-type': 'application/x-www-form-urlencoded' },
      payload: body.toString(),
    });
    this.#remember(res);
    return res;
  }

  #remember(res: { headers: Record<string, unknown>; body: string }) {
    const set = res.headers['set-cookie'];
    const first = Array.isArray(set) ? set[0] : set;
    if (typeof first === 'string') this.cookie = first.split(';')[0] ?? '';
    const m = /name="_csrf" value="([^"]+)"/.exec(res.body);
    if (m?.[1]) this.csrf = m[1];
  }
}
