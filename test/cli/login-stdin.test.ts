/**
 * `login --no-browser` and what it reads on stdin (issue 17), against the real emulator:
 * - a line that is no redirect (`echo secret | webex-auth login --no-browser --auth-url …`) or no line at all says
 *   "no redirect URL was read", never "Malformed authorization answer: no state", and never echoes the line;
 * - after a successful paste the built bin exits by itself although its stdin stays an open pipe.
 */
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_SEED, type RunningEmulator, startEmulator } from '../../src/emulator/index.js';
import { type BinExit, ensureBuiltBin, spawnBin } from './built-bin.js';
import { CLIENT_ID, consent, freePort, printedAuthorizeUrl, seedWith } from './emulator.js';
import { emulatorCliEnv, runInProcess } from './helpers.js';

const NO_INPUT = 'no redirect URL was read from standard input';

let emulator: RunningEmulator;
let redirectUri: string;

beforeAll(async () => {
  ensureBuiltBin();
  redirectUri = `http://127.0.0.1:${await freePort()}/callback`;
  emulator = await startEmulator({ seed: seedWith(DEMO_SEED as never, redirectUri) as never });
});
afterAll(async () => emulator?.close());

function cliEnv(extra: Record<string, string | undefined> = {}) {
  return emulatorCliEnv(emulator.apiBase, redirectUri, { NO_COLOR: '1', ...extra });
}

/** The portal's "OAuth Authorization URL" of the test integration, on the emulator. */
function authUrl(): string {
  const url = new URL(`${emulator.apiBase}/authorize`);
  url.search = new URLSearchParams({
    client_id: CLIENT_ID,
    response_type: 'code',
    redirect_uri: redirectUri,
    scope: 'spark:people_read',
    state: 'set_state_here',
  }).toString();
  return url.toString();
}

/** `exited`, or `undefined` once `capMs` has passed without an exit (a generous cap, not a timing assertion). */
async function exitWithin(exited: Promise<BinExit>, capMs: number): Promise<BinExit | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const cap = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), capMs);
  });
  try {
    return await Promise.race([exited, cap]);
  } finally {
    clearTimeout(timer);
  }
}

describe('login --no-browser: what stdin gives that is no redirect', () => {
  it('`echo secret | webex-auth login --no-browser --auth-url …`: "no redirect URL", exit 2, the line not echoed', async () => {
    const { child, exited } = spawnBin(['login', '--no-browser', '--auth-url', authUrl()], cliEnv(), () => {});
    child.stdin.end('s3cret-not-a-url\n');
    const r = await exited;
    expect(r.stderr).toContain(`error: ${NO_INPUT}`);
    expect(r.stderr).toContain('paste the full URL the browser was redirected to');
    expect(r.stderr).not.toMatch(/Malformed|no state/i);
    expect(r.stderr).not.toContain('s3cret-not-a-url');
    expect(r.stderr).not.toMatch(/^\s+at /m);
    expect(r.code).toBe(2);
  });

  // A redirect URI that is not on this machine: no loopback server can answer, so stdin was the only way.
  const remoteRedirect = { WEBEX_REDIRECT_URI: 'https://app.example.com/oauth' };

  it('stdin that ends without a line (</dev/null): the same one line, exit 2; nothing is stored', async () => {
    const env = cliEnv(remoteRedirect);
    const r = await runInProcess(['login', '--no-browser'], { env, stdin: '' });
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n').filter((l) => l.startsWith('error:'))).toEqual([
      `error: ${NO_INPUT}; nothing was saved`,
    ]);
    expect(JSON.parse((await runInProcess(['list', '--json'], { env })).stdout)).toEqual([]);
  });

  it('blank lines and then the end of stdin: "no redirect URL", not a parse error', async () => {
    const r = await runInProcess(['login', '--no-browser'], { env: cliEnv(remoteRedirect), stdin: '\n  \n' });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(NO_INPUT);
  });

  it('stdin ending while the loopback server listens: says it still waits, and the browser still logs in', async () => {
    let page = '';
    const r = await runInProcess(['login', '--no-browser', '--scopes', 'spark:people_read'], {
      env: cliEnv(),
      stdin: '',
      onStderr(text) {
        if (!text.includes('Standard input ended') || page) return;
        page = 'pending';
        const url = printedAuthorizeUrl(text) as string;
        void consent(url).then(async (location) => {
          page = await (await fetch(location)).text();
        });
      },
    });
    expect(r.stderr).toContain('Standard input ended; still waiting for the browser');
    expect(r.stderr).toContain('Logged in as Alice Example');
    expect(r.code).toBe(0);
    await expect.poll(() => page).toContain('Logged in as Alice Example');
  });

  it('a redirect that is not of this login still says what is wrong with it (not "no input")', async () => {
    const r = await runInProcess(['login', '--no-browser'], {
      env: cliEnv(),
      stdin: `${redirectUri}?code=abc&state=forged-state\n`,
    });
    expect(r.code).toBe(1);
    expect(r.stderr).not.toContain(NO_INPUT);
    expect(r.stderr).toMatch(/does not belong to an authorization started here/);
  });

  it('on a terminal a line that is no redirect asks again, and the next paste logs in', async () => {
    const stdin = new PassThrough();
    let driven = false;
    const r = await runInProcess(['login', '--no-browser', '--scopes', 'spark:people_read'], {
      env: cliEnv(),
      stdin,
      isTTY: true,
      onStderr(text) {
        const url = printedAuthorizeUrl(text);
        if (!url || driven) return;
        driven = true;
        stdin.write('not a url at all\n');
        void consent(url).then((location) => stdin.write(`${location}\n`));
      },
    });
    expect(r.stderr).toContain('That is not a redirected URL');
    expect(r.stderr).not.toContain('not a url at all');
    expect(r.stderr).toContain('Logged in as Alice Example');
    expect(r.code).toBe(0);
  });
});

describe('login --no-browser with a stdin pipe that stays open', () => {
  it('exits by itself with 0 after the pasted redirect logs in', async () => {
    let driven = false;
    const { child, exited } = spawnBin(
      ['login', '--no-browser', '--scopes', 'spark:people_read'],
      cliEnv(),
      (text, proc) => {
        const url = printedAuthorizeUrl(text);
        if (!url || driven) return;
        driven = true;
        // The redirect is written, and stdin is never ended.
        void consent(url).then((location) => proc.stdin.write(`${location}\n`));
      },
    );
    const r = await exitWithin(exited, 60_000);
    if (!r) child.kill('SIGKILL');
    expect(r, 'the process was still running with its stdin open').toBeDefined();
    expect(r?.stderr).toContain('Logged in as Alice Example (alice@example.com)');
    expect(r?.code).toBe(0);
    child.stdin.destroy();
  }, 90_000);
});
