/**
 * Issue 16 row 4: Webex display names reached the terminal raw (escape sequences in list, status, whoami). A person
 * whose display name is full of escape sequences logs in against the real emulator; every text output is clean and
 * --json keeps the raw value.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { terminalSafe } from '../../src/cli/ui/terminal-safe.js';
import { DEMO_SEED, type RunningEmulator, startEmulator } from '../../src/emulator/index.js';
import { ALICE, freePort, seedWith } from './emulator.js';
import { emulatorCliEnv, pasteLogin, runInProcess } from './helpers.js';

/** Clear screen, window title, colour, a hyperlink, a bidi override, an 8-bit CSI, a newline and a tab. */
const EVIL_NAME =
  'Mal\u001b[2J\u001b[Hlory\u001b]0;pwned\u0007 \u001b[31mRed\u001b[0m \u001b]8;;https://evil.example\u001b\\click\u001b]8;;\u001b\\' +
  ' \u202eevil\u202c \u2066iso\u2069 \u009b1;1H\nline2\tTab\u007f\u2028sep';
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

describe('terminalSafe', () => {
  it('drops whole escape sequences and every control, bidi and separator character; keeps the rest', () => {
    expect(terminalSafe(EVIL_NAME)).toBe('Mallory Red click evil iso line2Tabsep');
    expect(terminalSafe('Zoë Ångström 山田 🙂 <z@example.com>')).toBe('Zoë Ångström 山田 🙂 <z@example.com>');
    expect(terminalSafe(undefined)).toBeUndefined();
  });
});

let emulator: RunningEmulator;
let redirectUri: string;
beforeAll(async () => {
  redirectUri = `http://127.0.0.1:${await freePort()}/callback`;
  const base = seedWith(DEMO_SEED as never, redirectUri) as unknown as { users: Array<Record<string, unknown>> };
  const users = base.users.map((u) => (u.email === ALICE ? { ...u, displayName: EVIL_NAME } : u));
  emulator = await startEmulator({ seed: { ...base, users } as never });
});
afterAll(() => emulator?.close());

describe('Webex text printed by the CLI', () => {
  it('list, status, whoami and doctor print the name without any control character; --json keeps it', async () => {
    const env = emulatorCliEnv(emulator.apiBase, redirectUri, { NO_COLOR: '1' });
    const login = await pasteLogin(env);
    expect(login.code).toBe(0);
    expect(login.stderr).toContain('Logged in as Mallory Red click');
    for (const argv of [['list'], ['status'], ['whoami'], ['doctor']]) {
      const r = await runInProcess(argv, { env });
      const printed = `${r.stdout}${r.stderr}`;
      expect(printed, argv[0]).toContain('Mallory Red click evil iso line2Tab');
      expect(printed.replace(/\n/g, ''), argv[0]).not.toMatch(CONTROL);
    }
    expect(login.stderr.replace(/\n/g, '')).not.toMatch(CONTROL);
    const json = await runInProcess(['list', '--json'], { env });
    expect(JSON.parse(json.stdout)[0].person.displayName).toBe(EVIL_NAME);
    const who = await runInProcess(['whoami', '--json'], { env });
    expect(JSON.parse(who.stdout).person.displayName).toBe(EVIL_NAME);
  });
});
