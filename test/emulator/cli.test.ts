/**
 * `webex-auth emulator`: the listening line, every flag in --help, a bad seed file or knob → one line and exit 2, and
 * the webhook knobs reaching the emulator.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/run.js';
import { DEMO_SEED } from '../../src/emulator/index.js';

function fakeIO(interrupted: Promise<void> = new Promise(() => {})) {
  const out: string[] = [];
  const err: string[] = [];
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  stdout.on('data', (d) => out.push(String(d)));
  stderr.on('data', (d) => err.push(String(d)));
  const io = {
    stdin: new PassThrough(),
    stdout,
    stderr,
    env: {},
    cwd: process.cwd(),
    isTTY: false,
    stdoutIsTTY: false,
    openBrowser: async () => {},
    interrupted,
  };
  return { io, out, err };
}

/** The emulator's base URL once `out` (what the CLI printed so far) has its "listening on" line. */
async function listeningBase(out: string[]): Promise<string> {
  for (;;) {
    const base = out.join('').match(/listening on (http:\/\/127\.0\.0\.1:\d+)/)?.[1];
    if (base) return base;
    await new Promise((r) => setImmediate(r));
  }
}

const dir = mkdtempSync(join(tmpdir(), 'emu-cli-'));

describe('webex-auth emulator', () => {
  it('prints the listening line, serves the seed, and stops on interrupt', async () => {
    const seedFile = join(dir, 'seed.json');
    writeFileSync(seedFile, JSON.stringify(DEMO_SEED));
    let stop: () => void = () => {};
    const { io, out } = fakeIO(new Promise<void>((r) => (stop = r)));
    const exit = runCli(['emulator', '--port', '0', '--seed', seedFile, '--access-ttl', '60', '--no-kid'], io);
    const line = await listeningBase(out);
    const r = await fetch(`${line}/v1/people/me`, { headers: { authorization: `Bearer ${DEMO_SEED.bots[0]?.token}` } });
    expect(r.status).toBe(200);
    stop();
    expect(await exit).toBe(0);
  });

  it('--help documents every flag', async () => {
    const { io, out } = fakeIO();
    expect(await runCli(['emulator', '--help'], io)).toBe(0);
    const help = out.join('');
    for (const flag of [
      'port',
      'host',
      'seed',
      'auto-consent',
      'access-ttl',
      'refresh-ttl',
      'code-ttl',
      'rotate-refresh-tokens',
      'legacy-token-response',
      'refresh-renew',
      'token-cap',
      'refresh-error',
      'issuer',
      'id-token-iss',
      'id-token-claims',
      'no-kid',
      'jwks-keys',
      'discovery-auth-methods',
      'revocation-lag-ms',
      'refresh-unchanged-within',
      'max-mode',
      'clock-offset',
      'webhook-retries',
      'webhook-retry-base-ms',
      'webhook-inactive-after',
      'webhook-timeout-ms',
    ])
      expect(help).toMatch(new RegExp(`--${flag}\\b.*\\S{3}`));
  });

  it.each([
    ['a missing file', () => join(dir, 'nope.json'), /Cannot read the seed file/],
    ['bad JSON', () => write('bad.json', '{"integrations": ['), /not valid JSON/],
    [
      'a bad field',
      () =>
        write('field.json', JSON.stringify({ ...DEMO_SEED, rooms: [{ title: 'x', members: ['who@example.com'] }] })),
      /seed: rooms\[0\]\.members\[0\]: unknown person "who@example.com"/,
    ],
  ])('a seed file with %s → one error line, exit 2', async (_what, file, pattern) => {
    const { io, err } = fakeIO();
    expect(await runCli(['emulator', '--port', '0', '--seed', file()], io)).toBe(2);
    const first = err.join('').split('\n')[0] as string;
    expect(first).toMatch(/^error: /);
    expect(first).toMatch(pattern);
  });

  it('bad knob values are usage errors', async () => {
    for (const args of [
      ['--token-cap', 'many'],
      ['--refresh-error', 'nope'],
      ['--max-mode', 'x'],
      ['--issuer', 'not a url'],
      ['--auto-consent', 'nobody@example.com'],
      ['--webhook-retries=-1'],
      ['--webhook-retries', '21'],
      ['--webhook-retries', 'three'],
      ['--webhook-retry-base-ms', '1.5'],
      ['--webhook-inactive-after', '0'],
      ['--webhook-timeout-ms', '0'],
      ['--webhook-timeout-ms', '600001'],
      ['--refresh-unchanged-within', 'soon'],
      ['--refresh-unchanged-within=-1'],
    ]) {
      const { io, err } = fakeIO();
      expect(await runCli(['emulator', '--port', '0', ...args], io), args.join(' ')).toBe(2);
      const first = err.join('').split('\n')[0] as string;
      expect(first).toMatch(/^error: /);
      const flag = (args[0] as string).split('=')[0] as string;
      if (flag.startsWith('--webhook') || flag === '--refresh-unchanged-within')
        expect(first).toContain(`${flag} must be an integer from`);
    }
  });

  it('the webhook flags shape retries, the turn to inactive and the receiver timeout', async () => {
    // A receiver that never answers: every attempt times out.
    let attempts = 0;
    const silent = createServer(() => {
      attempts += 1;
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    let stop: () => void = () => {};
    const { io, out } = fakeIO(new Promise<void>((r) => (stop = r)));
    const exit = runCli(
      [
        'emulator',
        '--port',
        '0',
        '--webhook-retries',
        '1',
        '--webhook-retry-base-ms',
        '10',
        '--webhook-inactive-after',
        '1',
        '--webhook-timeout-ms',
        '200',
      ],
      io,
    );
    try {
      const base = await listeningBase(out);
      const bot = { authorization: `Bearer ${DEMO_SEED.bots[0]?.token}`, 'content-type': 'application/json' };
      const target = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/hook`;
      const created = await fetch(`${base}/v1/webhooks`, {
        method: 'POST',
        headers: bot,
        body: JSON.stringify({ name: 'cli', targetUrl: target, resource: 'messages', event: 'created' }),
      });
      const hook = (await created.json()) as { id: string };
      const sent = await fetch(`${base}/v1/messages`, {
        method: 'POST',
        headers: bot,
        body: JSON.stringify({ toPersonEmail: 'alice@example.com', text: 'to the bot webhook' }),
      });
      expect(sent.status).toBe(200);
      const status = async () =>
        ((await (await fetch(`${base}/v1/webhooks/${hook.id}`, { headers: bot })).json()) as { status: string }).status;
      const until = Date.now() + 15_000;
      while ((await status()) !== 'inactive') {
        if (Date.now() > until) throw new Error('the webhook never turned inactive');
        await new Promise((r) => setTimeout(r, 20));
      }
      const deliveries = (
        (await (await fetch(`${base}/_emulator/deliveries`)).json()) as {
          deliveries: { attempt: number; error?: string }[];
        }
      ).deliveries;
      // One attempt and one retry (default: 3 retries), both timed out; one failed delivery made it inactive.
      expect(deliveries.map((d) => [d.attempt, d.error])).toEqual([
        [1, 'timeout'],
        [2, 'timeout'],
      ]);
      expect(attempts).toBe(2);
    } finally {
      stop();
      await exit;
      silent.closeAllConnections();
      silent.close();
    }
  });
});

function write(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

describe('webex-auth emulator --refresh-unchanged-within', () => {
  it('reaches the token endpoint: two refreshes in the window answer one access token', async () => {
    let stop: () => void = () => {};
    const { io, out } = fakeIO(new Promise<void>((r) => (stop = r)));
    const exit = runCli(
      ['emulator', '--port', '0', '--auto-consent', 'alice@example.com', '--refresh-unchanged-within', '300'],
      io,
    );
    try {
      const base = await listeningBase(out);
      const it0 = DEMO_SEED.integrations[0] as (typeof DEMO_SEED.integrations)[0];
      const redirect = it0.redirectUris[0] as string;
      const auth = new URL(`${base}/v1/authorize`);
      for (const [k, v] of Object.entries({
        client_id: it0.clientId,
        response_type: 'code',
        redirect_uri: redirect,
        scope: 'spark:people_read',
        state: 's',
      }))
        auth.searchParams.set(k, v);
      const cb = new URL((await fetch(auth, { redirect: 'manual' })).headers.get('location') as string);
      const tokenCall = (fields: Record<string, string>) =>
        fetch(`${base}/v1/access_token`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ client_id: it0.clientId, client_secret: it0.clientSecret, ...fields }),
        }).then((r) => r.json() as Promise<Record<string, string>>);
      const first = await tokenCall({
        grant_type: 'authorization_code',
        code: cb.searchParams.get('code') as string,
        redirect_uri: redirect,
      });
      const a = await tokenCall({ grant_type: 'refresh_token', refresh_token: first.refresh_token as string });
      const b = await tokenCall({ grant_type: 'refresh_token', refresh_token: first.refresh_token as string });
      expect(a.access_token).toBeTruthy();
      expect(b.access_token).toBe(a.access_token);
    } finally {
      stop();
      await exit;
    }
  });
});
