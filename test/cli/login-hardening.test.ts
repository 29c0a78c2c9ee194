/**
 * Issue 16, rows 3 and 6, against real parts: the loopback callback server (real HTTP requests) and the CLI's login
 * against the real emulator.
 * - Row 3: any web page could abort a login (`<img src=http://localhost:PORT/oauth?error=access_denied>`) and print
 *   its text; now only the request carrying the pending state ends the wait.
 * - Row 6: the CLI logged in with an id_token of the wrong issuer or nonce; now it verifies as the web app does.
 */
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCallbackServer } from '../../src/cli/login/callback-server.js';
import { DEMO_SEED, type RunningEmulator, startEmulator } from '../../src/emulator/index.js';
import { consent, freePort, seedWith } from './emulator.js';
import { emulatorCliEnv, pasteLogin, runInProcess } from './helpers.js';

let emulator: RunningEmulator;
let wrongIssuer: RunningEmulator;
let redirectUri: string;

beforeAll(async () => {
  redirectUri = `http://127.0.0.1:${await freePort()}/callback`;
  const seed = seedWith(DEMO_SEED as never, redirectUri) as never;
  emulator = await startEmulator({ seed });
  // Discovery names the usual issuer; the id_tokens it signs claim another one.
  wrongIssuer = await startEmulator({ seed, idTokenIss: 'https://idbroker.evil.example/idb' });
});
afterAll(async () => {
  await emulator?.close();
  await wrongIssuer?.close();
});

function cliEnv(emu: RunningEmulator) {
  return emulatorCliEnv(emu.apiBase, redirectUri);
}

async function stored(env: Record<string, string | undefined>): Promise<unknown[]> {
  return JSON.parse((await runInProcess(['list', '--json'], { env })).stdout);
}

/** A GET to the loopback server as a web page's <img> would send it. */
async function poke(query: string): Promise<{ status: number; text: string }> {
  const r = await fetch(`${redirectUri}?${query}`);
  return { status: r.status, text: await r.text() };
}

describe('loopback callback server: only the pending state ends the wait', () => {
  it('ignores an error or a code without the right state, delivers the matching one once', async () => {
    const state = 'st-pending-0123456789';
    const server = await startCallbackServer(redirectUri, { state });
    let delivered: string | undefined;
    void server.callback.then((c) => {
      delivered = c.url;
      c.reply(true, 'done');
    });
    try {
      for (const query of [
        'error=access_denied&error_description=HACKED%20by%20a%20web%20page',
        'error=access_denied&state=st-wrong',
        `code=attacker-code&state=${state.slice(0, -1)}`,
        `code=attacker-code&state=${state}x`,
      ]) {
        const r = await poke(query);
        expect([query, r.status]).toEqual([query, 400]);
        expect(r.text).toContain('Not the answer to this login');
        expect(r.text).not.toContain('HACKED');
      }
      expect(delivered).toBeUndefined();
      const ok = await poke(`code=the-code&state=${state}`);
      expect(ok.status).toBe(200);
      expect(delivered).toContain('code=the-code');
      expect((await poke(`code=again&state=${state}`)).status).toBe(409);
    } finally {
      await server.close();
    }
  });

  it('webex-auth login survives a web page aborting it and prints none of its text', async () => {
    const env = { ...cliEnv(emulator), NO_COLOR: '1' };
    let page = '';
    const attacks: number[] = [];
    const r = await runInProcess(['login'], {
      env,
      isTTY: true,
      stdin: new PassThrough(),
      async openBrowser(url) {
        // Another tab fires first: an <img> to the redirect URI with an error and no (or a wrong) state.
        attacks.push((await poke('error=access_denied&error_description=HACKED%1B%5B2J')).status);
        attacks.push((await poke('error=access_denied&state=guess')).status);
        // Then the person consents and the browser follows Webex's redirect.
        void consent(url).then(async (location) => {
          page = await (await fetch(location)).text();
        });
      },
    });
    expect(attacks).toEqual([400, 400]);
    expect(r.stderr).not.toContain('HACKED');
    expect(r.stderr).toContain('Logged in as Alice Example');
    expect(r.code).toBe(0);
    await expect.poll(() => page).toContain('Logged in as Alice Example');
  });
});

/** `login --no-browser` where the "browser" may tamper with the authorize URL before consenting. */
function tamperedLogin(env: Record<string, string | undefined>, tamper?: (url: URL) => void) {
  return pasteLogin(env, ['--scopes', 'spark:people_read openid email'], { tamper });
}

describe('login verifies the id_token as the web app does', () => {
  it('control: an untampered openid login is stored', async () => {
    const env = cliEnv(emulator);
    const r = await tamperedLogin(env);
    expect(r.code).toBe(0);
    expect(await stored(env)).toHaveLength(1);
  });

  it('a wrong nonce (the code came from another authorization request) is refused; nothing is stored', async () => {
    const env = cliEnv(emulator);
    const r = await tamperedLogin(env, (url) => url.searchParams.set('nonce', 'nonce-of-another-request'));
    expect(r.code).toBe(1);
    const errors = r.stderr.split('\n').filter((l) => l.startsWith('error:'));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain('nonce does not match');
    expect(r.stderr).not.toContain('Logged in as');
    expect(await stored(env)).toEqual([]);
  });

  it('a wrong issuer is refused; nothing is stored', async () => {
    const env = cliEnv(wrongIssuer);
    const r = await tamperedLogin(env);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('issuer is not the expected one');
    expect(await stored(env)).toEqual([]);
  });

  it('WEBEX_ISSUER is honoured as in the web app (the expected issuer configured → accepted)', async () => {
    const env = { ...cliEnv(wrongIssuer), WEBEX_ISSUER: 'https://idbroker.evil.example/idb' };
    const r = await tamperedLogin(env);
    expect(r.code).toBe(0);
    expect(await stored(env)).toHaveLength(1);
  });
});
