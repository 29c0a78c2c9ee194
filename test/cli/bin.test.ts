// The built bin (dist/cli/webex-auth.cjs, as package.json installs it) as a real child process against the emulator: login by pasting the redirect,
// the device grant, token, status --json, doctor, and bad input (one line, exit 2, no stack trace).
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_SEED, startEmulator } from '../../src/emulator/index.js';
import { BIN, type BinExit, ensureBuiltBin, spawnBin } from './built-bin.js';
import {
  ALICE,
  approveDevice,
  consent,
  freePort,
  printedAuthorizeUrl,
  printedDeviceCode,
  seedWith,
} from './emulator.js';
import { ageStoredTokens, emulatorCliEnv, isolatedEnv } from './helpers.js';

/** Runs the bin to its end; without `onStderr` its stdin is closed at once. */
function runBin(
  args: string[],
  env: Record<string, string | undefined>,
  onStderr?: (text: string, child: ChildProcessWithoutNullStreams) => void,
): Promise<BinExit> {
  const { child, exited } = spawnBin(args, env, onStderr);
  if (!onStderr) child.stdin.end();
  return exited;
}

describe('the built bin', () => {
  let emulator: { url: string; apiBase: string; close(): Promise<void> };
  let redirectUri: string;
  let env: Record<string, string | undefined>;

  beforeAll(async () => {
    ensureBuiltBin();
    redirectUri = `http://127.0.0.1:${await freePort()}/callback`;
    emulator = await startEmulator({ port: 0, seed: seedWith(DEMO_SEED, redirectUri) });
    env = emulatorCliEnv(emulator.apiBase, redirectUri, { PORT: new URL(redirectUri).port });
  });
  afterAll(async () => emulator?.close());

  it('login --no-browser: the printed URL, consent in "a browser", the redirect pasted on stdin', async () => {
    let driven = false;
    const r = await runBin(['login', '--no-browser', '--scopes', 'spark:people_read'], env, (text, child) => {
      const url = printedAuthorizeUrl(text);
      if (!url || driven) return;
      driven = true;
      void consent(url).then((location) => child.stdin.end(`${location}\n`));
    });
    expect(r.stderr).toContain('Logged in as Alice Example (alice@example.com)');
    expect(r.code).toBe(0);
  });

  it('login --device: the code approved on the emulator verification page', async () => {
    let approved = false;
    const r = await runBin(['login', '--device', '--scopes', 'spark:people_read'], env, (text, child) => {
      const printed = printedDeviceCode(text);
      if (!printed || approved) return;
      approved = true;
      child.stdin.end();
      void approveDevice(printed.verificationUri, printed.userCode, ALICE);
    });
    expect(r.stderr).toContain('Logged in as Alice Example');
    expect(r.code).toBe(0);
  });

  it('token prints the access token alone; status --json; doctor passes', async () => {
    const token = await runBin(['token'], env);
    expect(token.code).toBe(0);
    expect(token.stdout).toMatch(/^\S+\n$/);
    expect(token.stderr).toBe('');
    // A token with an hour left asked for two is refreshed first: the OAuth client loads from the token bundle's lazy chunk.
    await ageStoredTokens(env);
    const refreshed = await runBin(['token', '--min-validity', '7200'], env);
    expect(refreshed.code, refreshed.stderr).toBe(0);
    expect(refreshed.stdout).toMatch(/^\S+\n$/);
    expect(refreshed.stdout).not.toBe(token.stdout);
    const status = await runBin(['status', '--json'], env);
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout).connections[0]).toMatchObject({ person: { email: ALICE }, status: 'active' });
    const doctor = await runBin(['doctor'], env);
    expect(doctor.stdout).toContain('✓ store');
    expect(doctor.code).toBe(0);
  });

  it('serve (the bundled server) proxies a call to Webex: undici loads lazily inside the split bundle', async () => {
    const created = await runBin(['keys', 'create', '--name', 'proxy', '--allow', 'proxy', '--json'], env);
    expect(created.code, created.stderr).toBe(0);
    const key = String(JSON.parse(created.stdout).key);
    expect(key).toMatch(/^wak_/);
    const serve = spawn(process.execPath, [BIN, 'serve', '--port', '0'], {
      env: env as NodeJS.ProcessEnv,
      cwd: env.HOME,
    });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        const seen = (chunk: string) => {
          out += chunk;
          const m = /listening on (http:\/\/\S+)/.exec(out);
          if (m?.[1]) resolve(m[1].replace('localhost', '127.0.0.1'));
        };
        serve.stdout.setEncoding('utf8').on('data', seen);
        serve.stderr.setEncoding('utf8').on('data', seen);
        serve.once('close', (code) => reject(new Error(`serve exited ${code}: ${out}`)));
      });
      const list = await fetch(`${url}/api/v1/connections`, { headers: { authorization: `Bearer ${key}` } });
      const { connections } = (await list.json()) as { connections: { id: string }[] };
      const id = connections[0]?.id ?? '';
      const res = await fetch(`${url}/api/v1/connections/${encodeURIComponent(id)}/proxy/people/me`, {
        headers: { authorization: `Bearer ${key}` },
      });
      const body = await res.text();
      expect(res.status, body).toBe(200);
      expect(JSON.parse(body)).toMatchObject({ emails: [ALICE] });
    } finally {
      serve.kill('SIGTERM');
    }
  });

  it('token after Webex revoked the grant: exit 4 from the refresh path of the separate token bundle', async () => {
    // The OAuth error comes from the lazily loaded client chunk: the fast path must still recognise it (exit 4, not 1).
    const revoked = await fetch(`${emulator.url}/_emulator/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: ALICE }),
    });
    expect(revoked.ok).toBe(true);
    await ageStoredTokens(env);
    const r = await runBin(['token', '--min-validity', '7200'], env);
    expect(r.code).toBe(4);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/webex-auth login/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('token with no connection yet: exit 4 and what to run', async () => {
    const r = await runBin(['token'], isolatedEnv());
    expect(r.code).toBe(4);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/no connection yet\n.*webex-auth login/);
  });

  it('bad input: one line plus a hint, exit 2, no stack trace', async () => {
    const cases: [string[], Record<string, string | undefined>, RegExp][] = [
      [['token', '--nope'], env, /Unknown option '--nope'/],
      [['login', '--no-browser', '--scopes', 'spark:nope'], env, /Unknown Webex scope "spark:nope"/],
      [['login', '--no-browser'], isolatedEnv(), /no Webex integration configured/],
      [['status'], isolatedEnv({ WEBEX_API_BASE: 'ftp://x' }), /Invalid setting WEBEX_API_BASE/],
      // Raised inside the separately bundled `token` command (its own copies of the error classes).
      [['token', '--min-validity', 'soon'], env, /invalid --min-validity "soon"/],
      [['token'], isolatedEnv({ PORT: 'x' }), /Invalid setting PORT/],
    ];
    for (const [args, e, message] of cases) {
      const r = await runBin(args, e);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trim().split('\n')).toHaveLength(2);
      expect(r.stderr).not.toMatch(/^\s+at /m);
    }
  });
});
