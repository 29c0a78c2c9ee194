// Every command in-process with injected IO against the real emulator on a random loopback port.
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
// Imported statically: a broken emulator module fails these tests instead of skipping them.
import { DEMO_SEED, startEmulator } from '../../src/emulator/index.js';
import { CONFIGURED_OWNER, LOCAL_OPERATOR } from '../../src/vault/types.js';
import { openVault } from '../../src/vault/vault.js';
import {
  ALICE,
  approveDevice,
  CLIENT_ID,
  CLIENT_SECRET,
  consent,
  freePort,
  printedAuthorizeUrl,
  printedDeviceCode,
  seedWith,
} from './emulator.js';
import { ageStoredTokens, emulatorCliEnv, isolatedEnv, pasteLogin, runInProcess } from './helpers.js';

let emulator: { url: string; apiBase: string; close(): Promise<void> };
let redirectUri: string;

beforeAll(async () => {
  redirectUri = `http://127.0.0.1:${await freePort()}/callback`;
  emulator = await startEmulator({
    port: 0,
    seed: seedWith(DEMO_SEED, redirectUri),
  });
});
afterAll(async () => emulator?.close());

/** The environment of a CLI pointed at the emulator with our integration, in its own store. */
function cliEnv(extra: Record<string, string | undefined> = {}) {
  return emulatorCliEnv(emulator.apiBase, redirectUri, extra);
}

const control = (path: string, body?: unknown) =>
  fetch(`${emulator.url}/_emulator/${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  }).then((r) => r.json() as Promise<Record<string, Record<string, number>>>);

describe('login', () => {
  it('--no-browser: prints the URL, takes the pasted redirect, stores the connection', async () => {
    const env = cliEnv();
    const r = await pasteLogin(env, ['--scopes', 'spark:people_read spark:rooms_read']);
    expect(r.stderr).toContain('Logged in as Alice Example (alice@example.com)');
    expect(r.stderr).toContain('granted scopes: spark:people_read spark:rooms_read');
    expect(r.code).toBe(0);
    const list = await runInProcess(['list', '--json'], { env });
    expect(JSON.parse(list.stdout)).toMatchObject([
      { person: { email: ALICE }, status: 'active', owner: { id: LOCAL_OPERATOR, label: 'local operator' } },
    ]);
    // The integration is the configured one (one row shared with the web app); the connection the local operator's.
    const vault = await openVault(loadConfig({ env, dotenvDir: false }));
    try {
      expect(await vault.integrations.list()).toMatchObject([{ ownerId: CONFIGURED_OWNER, clientId: CLIENT_ID }]);
      expect(await vault.connections.list(LOCAL_OPERATOR)).toHaveLength(1);
    } finally {
      await vault.close();
    }
  });

  it('with a terminal: opens the browser, the loopback server catches the redirect and tells the browser', async () => {
    const env = cliEnv();
    let page = '';
    const r = await runInProcess(['login', '--json'], {
      env,
      isTTY: true,
      stdin: new PassThrough(),
      async openBrowser(url) {
        // The "browser": consent, then follow the redirect to the CLI's loopback server.
        void consent(url).then(async (location) => {
          page = await (await fetch(location)).text();
        });
      },
    });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ connection: { person: { email: ALICE } }, scopes: { missing: [] } });
    await expect.poll(() => page).toContain('Logged in as Alice Example');
  });

  it('with a terminal but the redirect port taken (the web app runs there): says so and takes a paste', async () => {
    const { createServer } = await import('node:http');
    const busy = createServer((_, res) => res.end('the web app')).listen(
      Number(new URL(redirectUri).port),
      '127.0.0.1',
    );
    await new Promise((r) => busy.once('listening', r));
    try {
      const env = cliEnv();
      const stdin = new PassThrough();
      const r = await runInProcess(['login'], {
        env,
        isTTY: true,
        stdin,
        async openBrowser(url) {
          void consent(url).then((location) => stdin.write(`${location}\n`));
        },
      });
      expect(r.stderr).toMatch(/Cannot listen on http:\/\/127\.0\.0\.1:\d+\/callback \(port \d+ is in use\)/);
      expect(r.stderr).toContain('Redirected URL: ');
      expect(r.stderr).toMatch(/Logged in as \S*Alice Example/);
      expect(r.code).toBe(0);
    } finally {
      busy.close();
    }
  });

  it('--device: shows the code and a QR code, polls until approved on the verification page', async () => {
    const env = cliEnv();
    let approved = false;
    const r = await runInProcess(['login', '--device', '--scopes', 'spark:people_read'], {
      env,
      onStderr(text) {
        const printed = printedDeviceCode(text);
        if (!printed || approved) return;
        approved = true;
        void approveDevice(printed.verificationUri, printed.userCode);
      },
    });
    expect(r.stderr).toMatch(/[▄▀█]/); // the QR code
    expect(r.stderr).toContain('Logged in as Alice Example');
    expect(r.code).toBe(0);
  });

  /** How many userinfo calls the emulator has answered. */
  const userinfoCalls = async () =>
    Object.entries((await control('stats')).requests ?? {})
      .filter(([k]) => k.includes('/userinfo'))
      .reduce((n, [, v]) => n + v, 0);

  it('without spark:people_read and no email scope the verified id_token names the person: no userinfo call', async () => {
    const env = cliEnv();
    const before = await userinfoCalls();
    const r = await pasteLogin(env, ['--scopes', 'spark:rooms_read openid']);
    expect(r.code).toBe(0);
    expect(await userinfoCalls()).toBe(before);
    // The id_token's sub as the REST person id people/me would answer.
    const who = JSON.parse((await runInProcess(['whoami', '--json'], { env })).stdout) as { person: { id: string } };
    expect(Buffer.from(who.person.id, 'base64').toString()).toMatch(/^ciscospark:\/\/us\/PEOPLE\/[0-9a-f-]{36}$/);
  });

  it('without spark:people_read the person is the id_token’s, with the email userinfo adds, and whoami shows it', async () => {
    const env = cliEnv();
    const before = await userinfoCalls();
    const r = await pasteLogin(env, ['--scopes', 'spark:rooms_read openid email']);
    expect(r.code).toBe(0);
    // The emulator's id_token carries no email: one userinfo call fills it in.
    expect(await userinfoCalls()).toBe(before + 1);
    expect(r.stderr).toContain('(alice@example.com)');
    const who = await runInProcess(['whoami', '--json'], { env });
    expect(who.code).toBe(0);
    expect(who.stderr).toContain('no spark:people_read');
    expect(JSON.parse(who.stdout)).toMatchObject({ live: false, person: { emails: [ALICE] } });
  });

  it('a declined consent stores nothing, exit 1 with what to do', async () => {
    const env = cliEnv();
    const r = await pasteLogin(env, [], { decision: 'decline' });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('Authorization declined');
    expect(JSON.parse((await runInProcess(['list', '--json'], { env })).stdout)).toEqual([]);
  });

  it('Ctrl-C while waiting stores nothing', async () => {
    const env = cliEnv();
    let interrupt!: () => void;
    const interrupted = new Promise<void>((resolve) => (interrupt = resolve));
    const r = await runInProcess(['login', '--no-browser'], {
      env,
      stdin: new PassThrough(),
      interrupted,
      onStderr: (text) => {
        if (printedAuthorizeUrl(text)) interrupt();
      },
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('login cancelled; nothing was saved');
    expect(JSON.parse((await runInProcess(['list', '--json'], { env })).stdout)).toEqual([]);
  });

  it('a bad scope or no integration is a usage error (exit 2)', async () => {
    const bad = await runInProcess(['login', '--no-browser', '--scopes', 'spark:everything'], { env: cliEnv() });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('Unknown Webex scope "spark:everything"');
    const none = await runInProcess(['login', '--no-browser'], { env: isolatedEnv() });
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('no Webex integration configured');
  });

  it('a login without the client secret takes it from the stored configured integration', async () => {
    const env = cliEnv();
    expect((await pasteLogin(env)).code).toBe(0);
    const again = await pasteLogin({ ...env, WEBEX_CLIENT_SECRET: undefined });
    expect(again.code).toBe(0);
    expect(JSON.parse((await runInProcess(['list', '--json'], { env })).stdout)).toHaveLength(1);
  });

  it('--auth-url takes the client id, redirect URI and scopes from the portal URL', async () => {
    const env = cliEnv({ WEBEX_CLIENT_ID: undefined });
    const authUrl = `${emulator.apiBase}/authorize?client_id=${CLIENT_ID}&response_type=code&redirect_uri=${encodeURIComponent(redirectUri)}&scope=spark%3Apeople_read&state=set_state_here`;
    const r = await pasteLogin(env, ['--auth-url', authUrl, '--client-secret', CLIENT_SECRET]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('granted scopes: spark:people_read');
  });
});

describe('commands on a stored connection', () => {
  let env: Record<string, string | undefined>;
  beforeAll(async () => {
    env = cliEnv();
    const r = await pasteLogin(env, ['--scopes', 'spark:people_read']);
    expect(r.code).toBe(0);
  });

  it('token prints only the access token; --json adds expiry and person', async () => {
    const r = await runInProcess(['token'], { env });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^\S+\n$/);
    const me = await fetch(`${emulator.apiBase}/people/me`, {
      headers: { authorization: `Bearer ${r.stdout.trim()}` },
    });
    expect(me.status).toBe(200);
    const j = JSON.parse((await runInProcess(['token', '--json', '--connection', ALICE], { env })).stdout);
    expect(j).toMatchObject({ access_token: r.stdout.trim(), person: { email: ALICE } });
  });

  it('status masks tokens unless --show-tokens; --json lists the connections', async () => {
    const text = await runInProcess(['status'], { env });
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('Alice Example <alice@example.com>');
    expect(text.stdout).toMatch(/access token: +expires in 13d 23h/);
    const token = (await runInProcess(['token'], { env })).stdout.trim();
    expect(text.stdout + text.stderr).not.toContain(token);
    const shown = await runInProcess(['status', '--show-tokens'], { env });
    expect(shown.stdout).toContain(token);
    const json = JSON.parse((await runInProcess(['status', '--json'], { env })).stdout);
    expect(json.connections).toHaveLength(1);
    expect(JSON.stringify(json)).not.toContain(token);
  });

  it('whoami asks Webex who the token belongs to', async () => {
    const r = await runInProcess(['whoami', '--json'], { env });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).person).toMatchObject({ displayName: 'Alice Example', emails: [ALICE] });
  });

  it('refresh refreshes once at the token endpoint', async () => {
    const before = (await control('stats')).grants?.refresh_token ?? 0;
    const r = await runInProcess(['refresh'], { env });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("Refreshed Alice Example's access token");
    expect((await control('stats')).grants?.refresh_token).toBe(before + 1);
  });

  it('export: env/json/curl in clear into a pipe, masked on a terminal', async () => {
    const token = (await runInProcess(['token'], { env })).stdout.trim();
    const envOut = await runInProcess(['export'], { env });
    expect(envOut.stdout).toContain(`WEBEX_ACCESS_TOKEN='${token}'`);
    const json = JSON.parse((await runInProcess(['export', '--format', 'json'], { env })).stdout);
    expect(json).toMatchObject({ access_token: token, token_type: 'Bearer', client_id: CLIENT_ID });
    const curl = await runInProcess(['export', '-f', 'curl'], { env });
    expect(curl.stdout).toBe(`curl -H 'Authorization: Bearer ${token}' '${emulator.apiBase}/people/me'\n`);
    const tty = await runInProcess(['export'], { env, stdoutIsTTY: true });
    expect(tty.stdout).not.toContain(token);
    expect(tty.stderr).toContain('masked');
    expect((await runInProcess(['export', '--format', 'yaml'], { env })).code).toBe(2);
  });

  it('no command but export/--show-tokens prints the refresh token or the client secret', async () => {
    const { refresh_token: refreshToken } = JSON.parse((await runInProcess(['export', '-f', 'json'], { env })).stdout);
    const runs = [
      ['status'],
      ['status', '--json'],
      ['list', '--json'],
      ['whoami', '--json'],
      ['token', '--json'],
      ['refresh', '--json'],
      ['doctor', '--json'],
      ['export'],
    ];
    for (const argv of runs) {
      const r = await runInProcess(argv, { env, stdoutIsTTY: argv[0] === 'export' });
      for (const secret of [refreshToken, CLIENT_SECRET]) {
        expect(r.stdout + r.stderr, argv.join(' ')).not.toContain(secret);
      }
    }
  });

  it('doctor: every check passes on a healthy setup', async () => {
    const r = await runInProcess(['doctor', '--json'], { env });
    const findings = JSON.parse(r.stdout) as { check: string; level: string }[];
    expect(findings.filter((f) => f.level === 'fail')).toEqual([]);
    expect(findings.map((f) => f.check)).toEqual(
      expect.arrayContaining(['configuration', 'redirect URI', 'clock', 'store']),
    );
    expect(r.code).toBe(0);
  });

  it('keys: create shows the key once, list never shows it, revoke removes it; rotate re-encrypts', async () => {
    const created = await runInProcess(['keys', 'create', '--name', 'bot', '--json'], { env });
    expect(created.code).toBe(0);
    const { key, id } = JSON.parse(created.stdout);
    expect(key).toMatch(/^wak_/);
    const list = await runInProcess(['keys', 'list', '--json'], { env });
    expect(list.stdout).not.toContain(key);
    expect(JSON.parse(list.stdout)).toMatchObject([{ id, name: 'bot' }]);
    expect((await runInProcess(['keys', 'revoke', id], { env })).code).toBe(0);
    expect((await runInProcess(['keys', 'revoke', id], { env })).code).toBe(1);
    // A new first key: rotation re-encrypts every secret under it; then the old key can go.
    const entry = (await runInProcess(['keys', 'generate'], { env })).stdout.trim();
    const both = { ...env, WEBEX_AUTH_KEYS: `${entry},${env.WEBEX_AUTH_KEYS}` };
    const rotated = await runInProcess(['keys', 'rotate', '--json'], { env: both });
    expect(rotated.code).toBe(0);
    const progress = JSON.parse(rotated.stdout);
    expect(progress.total).toBeGreaterThan(0);
    expect(progress.done).toBe(progress.total);
    expect((await runInProcess(['token'], { env: { ...env, WEBEX_AUTH_KEYS: entry } })).code).toBe(0);
    env.WEBEX_AUTH_KEYS = entry;
  });
});

describe('when Webex no longer accepts the connection', () => {
  it('token exits 4 and doctor says to log in again; logout explains there is no self-service revocation', async () => {
    const env = cliEnv();
    expect((await pasteLogin(env)).code).toBe(0);
    await control('revoke', { email: ALICE });
    await ageStoredTokens(env);
    const token = await runInProcess(['token', '--min-validity', '7200'], { env });
    expect(token.code).toBe(4);
    expect(token.stderr).toMatch(/webex-auth login/);
    const doctor = await runInProcess(['doctor'], { env });
    expect(doctor.code).toBe(4);
    expect(doctor.stdout).toContain('fix: Run `webex-auth login`');
    const status = await runInProcess(['status'], { env });
    expect(status.stdout).toContain('needs_reauth');
    const logout = await runInProcess(['logout'], { env });
    expect(logout.code).toBe(0);
    expect(logout.stderr).toContain('Webex has no self-service token revocation');
    expect(logout.stderr).toContain('https://idbroker.webex.com/idb/profile#/tokens');
    expect((await runInProcess(['token'], { env })).code).toBe(4);
  });
});

describe('colour and findings', () => {
  it('colours only on a terminal and never with NO_COLOR', async () => {
    const env = cliEnv();
    expect((await pasteLogin(env)).code).toBe(0);
    const tty = await runInProcess(['list'], { env, stdoutIsTTY: true });
    expect(tty.stdout).toContain('\u001b[1mID');
    const noColor = await runInProcess(['list'], { env: { ...env, NO_COLOR: '1' }, stdoutIsTTY: true });
    expect(noColor.stdout).not.toContain('\u001b[');
    const piped = await runInProcess(['list'], { env });
    expect(piped.stdout).not.toContain('\u001b[');
  });

  it('doctor fails a plain-http redirect URI on a public host with exit 2 and a fix-it line', async () => {
    const r = await runInProcess(['doctor'], { env: cliEnv({ WEBEX_REDIRECT_URI: 'http://example.com/oauth' }) });
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/✗ redirect URI: http:\/\/example.com\/oauth is plain http/);
    expect(r.stdout).toMatch(/fix: Register an https redirect URI/);
  });
});
