/**
 * Two real `dist/cli/main.js serve` processes (A and B) on ONE PostgreSQL database, ONE standalone emulator and ONE
 * WEBEX_AUTH_KEYS, as behind a load balancer: both use B's redirect URI, so every flow starts on A and its callback
 * lands on B. A browser-like cookie jar (cookies per host, not per port, as browsers keep them) carries the session
 * from A to B. Run in local mode (no sign-in) and in team mode (Sign in with Webex, itself started on A and finished
 * on B). Then both processes stop and start again (A on a new port, B on its own) and the browser is still signed in
 * and its connection still opens; a flow whose consent was given before the restart completes after it.
 *
 * Skips when PostgreSQL is down, unless REQUIRE_POSTGRES=1.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyEntry } from '../../src/vault/crypto/keyring.js';
import { type CliServer, freePort, startCli, teamIntegration, writeTeamSeed } from '../e2e/support.js';
import { PG_URL, postgresAvailable } from '../vault/helpers.js';

const pgUp = await postgresAvailable();

/** Cookies per host name (ports share them, as in browsers), sent with every request to that host. */
class CookieJar {
  readonly #byHost = new Map<string, Map<string, string>>();

  header(url: URL): string | undefined {
    const cookies = this.#byHost.get(url.hostname);
    return cookies?.size ? [...cookies].map(([k, v]) => `${k}=${v}`).join('; ') : undefined;
  }

  store(url: URL, res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair = '', ...attributes] = line.split(';').map((s) => s.trim());
      const eq = pair.indexOf('=');
      if (eq < 1) continue;
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      const attr = (key: string) =>
        attributes.find((a) => a.toLowerCase().startsWith(`${key}=`))?.slice(key.length + 1);
      const maxAge = attr('max-age');
      const expires = attr('expires');
      const gone =
        value === '' ||
        (maxAge !== undefined && Number(maxAge) <= 0) ||
        (expires !== undefined && Date.parse(expires) <= Date.now());
      const cookies = this.#byHost.get(url.hostname) ?? new Map<string, string>();
      this.#byHost.set(url.hostname, cookies);
      if (gone) cookies.delete(name);
      else cookies.set(name, value);
    }
  }

  /** The cookies of `hostname`. */
  of(hostname: string): Map<string, string> {
    return new Map(this.#byHost.get(hostname));
  }
}

interface Page {
  url: string;
  status: number;
  location: string | undefined;
  /** Content-Location: the address of the page answered (the callback answers with the connection page). */
  contentLocation: string | undefined;
  body: string;
}

/** A browser over fetch: a cookie jar, Origin and Sec-Fetch-Site on form posts, redirects not followed. */
class FetchBrowser {
  readonly jar = new CookieJar();

  async request(url: string, init: RequestInit = {}): Promise<Page> {
    const target = new URL(url);
    const headers = new Headers(init.headers);
    const cookie = this.jar.header(target);
    if (cookie) headers.set('cookie', cookie);
    const res = await fetch(target, { ...init, headers, redirect: 'manual' });
    this.jar.store(target, res);
    const location = res.headers.get('location');
    const contentLocation = res.headers.get('content-location');
    return {
      url: target.href,
      status: res.status,
      location: location ? new URL(location, target).href : undefined,
      contentLocation: contentLocation ? new URL(contentLocation, target).href : undefined,
      body: await res.text(),
    };
  }

  get(url: string): Promise<Page> {
    return this.request(url);
  }

  /** Submits a form of a page of `url`'s own origin (as a browser does: same-origin Origin and Sec-Fetch-Site). */
  post(url: string, form: Record<string, string | string[]>): Promise<Page> {
    const body = new URLSearchParams();
    for (const [k, v] of Object.entries(form)) for (const x of Array.isArray(v) ? v : [v]) body.append(k, x);
    return this.request(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        origin: new URL(url).origin,
        'sec-fetch-site': 'same-origin',
      },
      body: body.toString(),
    });
  }
}

/** The CSRF token of the first form on `page`. */
function csrfOf(page: Page): string {
  const token = /name="_csrf" value="([^"]+)"/.exec(page.body)?.[1];
  expect(token, `no form on ${page.url} (${page.status}): ${page.body.slice(0, 300)}`).toBeTruthy();
  return token as string;
}

/** The access mode a page shows. */
function modeOf(page: Page): string | undefined {
  return /<span class="access-mode" data-mode="([a-z]+)"/.exec(page.body)?.[1];
}

/**
 * On the emulator: opens the consent page at `authorizeUrl` and accepts as `email`; returns the callback URL the
 * emulator sends the browser to (not opened).
 */
async function consent(browser: FetchBrowser, authorizeUrl: string, email: string): Promise<string> {
  const page = await browser.get(authorizeUrl);
  expect(page.status, page.body.slice(0, 300)).toBe(200);
  const request = /name="request" value="([^"]+)"/.exec(page.body)?.[1];
  expect(request, page.body.slice(0, 300)).toBeTruthy();
  const answer = await browser.post(new URL('/v1/authorize', authorizeUrl).href, {
    request: request as string,
    email,
    decision: 'accept',
  });
  expect(answer.status, answer.body.slice(0, 300)).toBe(302);
  return answer.location as string;
}

const SCOPES = ['spark:people_read', 'spark:rooms_read'];

for (const mode of ['local', 'team'] as const) {
  describe.runIf(pgUp)(`two serve processes on one PostgreSQL database, ${mode} mode`, () => {
    const database = `wa_${randomBytes(6).toString('hex')}`;
    let dir: string;
    let admin: pg.Client | undefined;
    let created = false;
    let emulator: CliServer | undefined;
    const running = new Set<CliServer>();
    let portA: number;
    let portB: number;
    /** The redirect URI of both instances: B's. */
    let redirectUri: string;
    let env: Record<string, string>;
    const browser = new FetchBrowser();
    let connectionId = '';

    const origin = (port: number) => `http://localhost:${port}`;

    /** Starts instance `name` on `port` with the shared environment and its own data directory. */
    async function serve(name: 'a' | 'b', port: number): Promise<CliServer> {
      const home = join(dir, name);
      mkdirSync(home, { recursive: true });
      const server = await startCli(
        ['serve', '--port', String(port), '--host', '127.0.0.1'],
        { ...env, HOME: home, XDG_DATA_HOME: join(home, 'data') },
        { cwd: home },
      );
      running.add(server);
      expect(server.url).toBe(origin(port));
      return server;
    }

    async function stopAll(): Promise<void> {
      for (const server of [...running]) {
        await server.stop();
        running.delete(server);
      }
    }

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), `webex-auth-two-serve-${mode}-`));
      admin = new pg.Client({ connectionString: PG_URL });
      await admin.connect();
      await admin.query(`CREATE DATABASE ${database}`);
      created = true;
      const databaseUrl = new URL(PG_URL);
      databaseUrl.pathname = `/${database}`;
      databaseUrl.search = '';

      portA = await freePort();
      portB = await freePort();
      while (portB === portA) portB = await freePort();
      redirectUri = `${origin(portB)}/oauth`;
      const seed = writeTeamSeed(dir, [redirectUri]);
      emulator = await startCli(['emulator', '--port', '0', '--seed', seed], { HOME: dir }, { cwd: dir });
      const { clientId, clientSecret } = teamIntegration();
      env = {
        DATABASE_URL: databaseUrl.href,
        WEBEX_AUTH_KEYS: generateKeyEntry(),
        WEBEX_CLIENT_ID: clientId,
        WEBEX_CLIENT_SECRET: clientSecret,
        WEBEX_API_BASE: `${emulator.url}/v1`,
        WEBEX_REDIRECT_URI: redirectUri,
        LOG_LEVEL: 'warn',
        ...(mode === 'team'
          ? { WEBEX_AUTH_MODE: 'team', ADMIN_EMAILS: 'carol@example.com', ALLOWED_EMAIL_DOMAINS: 'example.com' }
          : { HOST: '127.0.0.1' }),
      };
      // One after the other: the first applies the migrations.
      await serve('a', portA);
      await serve('b', portB);
    });

    afterAll(async () => {
      await stopAll();
      await emulator?.stop();
      if (admin) {
        if (created) await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
        await admin.end();
      }
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    if (mode === 'team') {
      it('sign-in started on A finishes on B, and both instances know the browser is alice', async () => {
        const landing = await browser.get(`${origin(portA)}/`);
        expect(landing.status).toBe(200);
        expect(modeOf(landing)).toBe('team');
        expect(landing.body).toContain('id="signin"');
        const start = await browser.post(`${origin(portA)}/signin`, { _csrf: csrfOf(landing) });
        expect(start.status, start.body.slice(0, 300)).toBe(303);
        const authorize = new URL(start.location as string);
        expect(authorize.origin).toBe(emulator?.url);
        expect(authorize.searchParams.get('redirect_uri')).toBe(redirectUri);
        const callback = await consent(browser, authorize.href, 'alice@example.com');
        expect(callback.startsWith(`${redirectUri}?`)).toBe(true);
        const done = await browser.get(callback);
        expect(done.status, done.body.slice(0, 500)).toBe(303);
        expect(done.location).toBe(`${origin(portB)}/`);
        for (const port of [portA, portB]) {
          const home = await browser.get(`${origin(port)}/`);
          expect(home.status).toBe(200);
          expect(home.body).toContain('Alice Example (alice@example.com)');
          expect(home.body).toContain('id="signout"');
        }
      });
    }

    it('a flow started on A and finished on B stores the connection, which opens on A and on B', async () => {
      const home = await browser.get(`${origin(portA)}/`);
      expect(home.status).toBe(200);
      expect(modeOf(home)).toBe(mode);
      const start = await browser.post(`${origin(portA)}/oauth/start`, { _csrf: csrfOf(home), scope: SCOPES });
      expect(start.status, start.body.slice(0, 500)).toBe(303);
      expect(new URL(start.location as string).searchParams.get('redirect_uri')).toBe(redirectUri);
      const callback = await consent(browser, start.location as string, 'alice@example.com');
      expect(callback.startsWith(`${redirectUri}?`)).toBe(true);
      const done = await browser.get(callback);
      expect(done.status, done.body.slice(0, 500)).toBe(200);
      const id = /^\/connections\/([A-Za-z0-9_-]+)$/.exec(new URL(done.contentLocation as string).pathname)?.[1];
      expect(id, done.contentLocation).toBeTruthy();
      connectionId = id as string;
      for (const port of [portA, portB]) {
        const page = await browser.get(`${origin(port)}/connections/${connectionId}`);
        expect(page.status, page.body.slice(0, 300)).toBe(200);
        expect(/id="person-name"[^>]*>Alice Example</.test(page.body)).toBe(true);
        expect(page.body).toContain(`Requested: ${SCOPES.join(' ')}</p>`);
        const list = await browser.get(`${origin(port)}/`);
        expect(list.body).toContain(`href="/connections/${connectionId}"`);
      }
      if (mode === 'team') {
        // Without alice's session cookie the same page is out of reach: the jar really carries the session.
        const stranger = new FetchBrowser();
        const refused = await stranger.get(`${origin(portA)}/connections/${connectionId}`);
        expect(refused.status).toBe(303);
        expect(refused.location).toBe(`${origin(portA)}/?signin=required`);
      }
    });

    it('after both processes restart (A on a new port) the browser is still signed in and its flows go on', async () => {
      expect(connectionId).not.toBe('');
      // A flow consented to before the restart, its callback delivered after it.
      const home = await browser.get(`${origin(portA)}/`);
      const start = await browser.post(`${origin(portA)}/oauth/start`, {
        _csrf: csrfOf(home),
        scope: ['spark:people_read'],
      });
      expect(start.status, start.body.slice(0, 500)).toBe(303);
      const pendingCallback = await consent(browser, start.location as string, 'alice@example.com');
      const cookiesBefore = browser.jar.of('localhost');
      expect(cookiesBefore.size).toBeGreaterThan(0);

      await stopAll();
      let portA2 = await freePort();
      while (portA2 === portB || portA2 === portA) portA2 = await freePort();
      await serve('a', portA2);
      await serve('b', portB);

      if (mode === 'team') {
        for (const port of [portA2, portB]) {
          const page = await browser.get(`${origin(port)}/`);
          expect(page.status).toBe(200);
          expect(modeOf(page)).toBe('team');
          expect(page.body).toContain('Alice Example (alice@example.com)');
          expect(page.body).not.toContain('id="signin"');
        }
      }
      for (const port of [portA2, portB]) {
        const page = await browser.get(`${origin(port)}/connections/${connectionId}`);
        expect(page.status, page.body.slice(0, 300)).toBe(200);
        expect(/id="person-name"[^>]*>Alice Example</.test(page.body)).toBe(true);
      }
      // The pending authorization outlived the restart (kept under the session, or under the flow id of a browser
      // without one): the callback on B completes it.
      const done = await browser.get(pendingCallback);
      expect(done.status, done.body.slice(0, 500)).toBe(200);
      // The same person through the same integration: the same connection, now with that flow's scopes.
      expect(done.contentLocation).toBe(`${origin(portB)}/connections/${connectionId}`);
      const updated = await browser.get(`${origin(portA2)}/connections/${connectionId}`);
      expect(updated.status).toBe(200);
      expect(updated.body).toContain('Requested: spark:people_read</p>');
      // And a new flow starts on the restarted A and finishes on B.
      const home2 = await browser.get(`${origin(portA2)}/`);
      const start2 = await browser.post(`${origin(portA2)}/oauth/start`, { _csrf: csrfOf(home2), scope: SCOPES });
      expect(start2.status, start2.body.slice(0, 500)).toBe(303);
      const done2 = await browser.get(await consent(browser, start2.location as string, 'alice@example.com'));
      expect(done2.status, done2.body.slice(0, 500)).toBe(200);
      expect(done2.contentLocation).toBe(`${origin(portB)}/connections/${connectionId}`);
      const last = await browser.get(`${origin(portA2)}/connections/${connectionId}`);
      expect(last.body).toContain(`Requested: ${SCOPES.join(' ')}</p>`);
    });
  });
}
