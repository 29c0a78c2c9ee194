/** `webex-auth emulator`: the listening line, every flag in --help, a bad seed file → one line and exit 2. */
import { mkdtempSync, writeFileSync } from 'node:fs';
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

const dir = mkdtempSync(join(tmpdir(), 'emu-cli-'));

describe('webex-auth emulator', () => {
  it('prints the listening line, serves the seed, and stops on interrupt', async () => {
    const seedFile = join(dir, 'seed.json');
    writeFileSync(seedFile, JSON.stringify(DEMO_SEED));
    let stop: () => void = () => {};
    const { io, out } = fakeIO(new Promise<void>((r) => (stop = r)));
    const exit = runCli(['emulator', '--port', '0', '--seed', seedFile, '--access-ttl', '60', '--no-kid'], io);
    let line: string | undefined;
    while (!line) {
      await new Promise((r) => setImmediate(r));
      line = out.join('').match(/listening on (http:\/\/127\.0\.0\.1:\d+)/)?.[1];
    }
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
      'max-mode',
      'clock-offset',
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
    ]) {
      const { io } = fakeIO();
      expect(await runCli(['emulator', '--port', '0', ...args], io)).toBe(2);
    }
  });
});

function write(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}
