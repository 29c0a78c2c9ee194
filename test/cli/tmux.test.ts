// A terminal test: the interactive `login` prompt in a real terminal (tmux), driven with send-keys.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DEMO_SEED, startEmulator } from '../../src/emulator/index.js';
import { CLIENT_ID, CLIENT_SECRET, consent, freePort, printedAuthorizeUrl, seedWith } from './emulator.js';
import { isolatedEnv } from './helpers.js';

const ROOT = join(import.meta.dirname, '..', '..');
// The installed bin (package.json "bin"): `token` goes to its own CommonJS bundle, everything else to dist/cli/main.js.
const BIN = join(ROOT, 'dist', 'cli', 'webex-auth.cjs');
const hasTmux = spawnSync('tmux', ['-V']).status === 0;
const session = `wa-cli-${process.pid}`;
const tmux = (...args: string[]) => spawnSync('tmux', args, { encoding: 'utf8' });
const screen = () => tmux('capture-pane', '-p', '-J', '-t', session).stdout;

let emulator: { apiBase: string; close(): Promise<void> } | undefined;
afterAll(async () => {
  tmux('kill-session', '-t', session);
  await emulator?.close();
});

/** Waits until the screen satisfies `test` (polling the pane; the test's own timeout bounds it). */
async function waitForScreen(test: (s: string) => boolean): Promise<string> {
  for (;;) {
    const s = screen();
    if (test(s)) return s;
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(() => {
  if (hasTmux && !existsSync(BIN)) spawnSync('npm', ['run', 'build'], { cwd: ROOT });
});

it.skipIf(!hasTmux)('drives the interactive login prompt in tmux', async () => {
  const redirectUri = `http://127.0.0.1:${await freePort()}/callback`;
  emulator = await startEmulator({ port: 0, seed: seedWith(DEMO_SEED, redirectUri) });
  const env = isolatedEnv({
    WEBEX_CLIENT_ID: CLIENT_ID,
    WEBEX_REDIRECT_URI: redirectUri,
    WEBEX_API_BASE: emulator.apiBase,
    NO_COLOR: '1',
  });
  const assignments = Object.entries(env)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}='${String(v).replace(/'/g, `'\\''`)}'`);
  const cmd = `env -i ${assignments.join(' ')} ${process.execPath} ${BIN} login --no-browser --scopes spark:people_read; echo EXIT=$?; sleep 600`;
  expect(tmux('new-session', '-d', '-x', '200', '-y', '50', '-s', session, cmd).status).toBe(0);

  // No secret in the environment: the terminal asks for it.
  await waitForScreen((s) => s.includes('Client secret'));
  tmux('send-keys', '-t', session, CLIENT_SECRET, 'Enter');
  const shown = await waitForScreen(
    (s) => s.includes('Redirected URL:') && printedAuthorizeUrl(s.replace(/\n/g, '')) !== undefined,
  );
  const url = printedAuthorizeUrl(shown.split('\n').find((l) => l.includes('/authorize?')) ?? '') as string;
  const location = await consent(url);
  // A wrong paste first: the prompt says so and asks again.
  tmux('send-keys', '-t', session, '-l', 'http://127.0.0.1/callback?code=x&state=forged');
  tmux('send-keys', '-t', session, 'Enter');
  await waitForScreen((s) => s.includes('That is not the redirect of this login'));
  tmux('send-keys', '-t', session, '-l', location);
  tmux('send-keys', '-t', session, 'Enter');
  const final = await waitForScreen((s) => s.includes('EXIT='));
  expect(final).toContain('Logged in as Alice Example (alice@example.com)');
  expect(final).toContain('EXIT=0');
});
