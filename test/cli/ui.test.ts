import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { bashScript, fishScript, zshScript } from '../../src/cli/commands/completion.js';
import { worstExitCode } from '../../src/cli/commands/doctor.js';
import { pickConnection } from '../../src/cli/context.js';
import { connectionBlock } from '../../src/cli/ui/connection.js';
import { formatCountdown, formatDuration, formatExpiry, maskToken, stripAnsi, table } from '../../src/cli/ui/format.js';
import { styles } from '../../src/cli/ui/output.js';
import { renderBar } from '../../src/cli/ui/progress.js';
import { readLine } from '../../src/cli/ui/prompt.js';
import { type Connection, LOCAL_OPERATOR } from '../../src/vault/types.js';

describe('format', () => {
  it('shows the two largest units of a duration', () => {
    expect(formatDuration(13 * 86_400_000 + 23 * 3_600_000 + 59_000)).toBe('13d 23h');
    expect(formatDuration(59_000)).toBe('59s');
    expect(formatDuration(3_600_000)).toBe('1h');
    expect(formatCountdown(10_000, 0)).toBe('in 10s');
    expect(formatCountdown(0, 7_200_000)).toBe('expired 2h ago');
  });
  it('masks a token without showing its length', () => {
    expect(maskToken('ZDk1abcdefghijkl_PF84_1eb65fdf')).toBe(`ZDk1${'*'.repeat(16)}`);
    expect(maskToken('short')).toBe(maskToken('shorter-but-not-much'.slice(0, 5)));
  });
  it('aligns table columns by visible width', () => {
    const text = table(
      [
        ['\u001b[1mID\u001b[22m', 'NAME'],
        ['abc', 'x'],
      ],
      (s) => stripAnsi(s).length,
    );
    expect(stripAnsi(text)).toBe('ID   NAME\nabc  x\n');
  });
  it('draws a progress bar', () => {
    expect(renderBar(3, 6, 'secrets', 10)).toBe('[█████░░░░░] 3/6 secrets');
    expect(renderBar(0, 0, 'x', 4)).toBe('[████] 0/0 x');
  });
});

describe('readLine', () => {
  it('returns one line and leaves the rest unread', async () => {
    const input = new PassThrough();
    input.write('first\r\nsecond\n');
    expect(await readLine(input)).toBe('first');
    expect(await readLine(input)).toBe('second');
    input.end();
    expect(await readLine(input)).toBeUndefined();
  });
  it('rejects when the signal aborts', async () => {
    const input = new PassThrough();
    const controller = new AbortController();
    const pending = readLine(input, controller.signal);
    controller.abort(new Error('stop'));
    await expect(pending).rejects.toThrow('stop');
  });
});

const connection = (over: Partial<Connection>): Connection => ({
  id: 'c1',
  ownerId: LOCAL_OPERATOR,
  integrationId: 'i1',
  personId: 'p1',
  personEmail: 'alice@example.com',
  displayName: 'Alice',
  person: { id: 'p1', displayName: 'Alice', email: 'alice@example.com', emails: ['alice@example.com'] },
  scopes: [],
  requestedScopes: [],
  status: 'active',
  accessExpiresAt: 0,
  refreshExpiresAt: 0,
  createdAt: 0,
  updatedAt: 0,
  ...over,
});

describe('pickConnection', () => {
  const a = connection({ id: 'a', updatedAt: 1 });
  const b = connection({
    id: 'b',
    updatedAt: 2,
    personEmail: 'bob@example.com',
    person: { id: 'p2', displayName: 'Bob', email: 'bob@example.com', emails: ['bob@example.com'] },
  });
  it('defaults to the most recent, and matches an id or an email', () => {
    expect(pickConnection([a, b], undefined).id).toBe('b');
    expect(pickConnection([a, b], 'a').id).toBe('a');
    expect(pickConnection([a, b], 'BOB@example.com').id).toBe('b');
  });
  it('says what to do when there is none', () => {
    expect(() => pickConnection([], undefined)).toThrow(expect.objectContaining({ exitCode: 4 }));
    expect(() => pickConnection([a], 'nobody')).toThrow(expect.objectContaining({ exitCode: 1 }));
  });
  it("by default picks only the local operator's connections; --connection may name any, local first", () => {
    const visitor = connection({ id: 'v', ownerId: 'acct_x', updatedAt: 9 });
    expect(pickConnection([a, visitor], undefined).id).toBe('a');
    expect(pickConnection([a, visitor], 'v').id).toBe('v');
    // Both are alice@example.com: the local operator's wins though the visitor's is more recent.
    expect(pickConnection([visitor, a], 'alice@example.com').id).toBe('a');
    expect(pickConnection([visitor], 'alice@example.com').id).toBe('v');
    expect(() => pickConnection([visitor], undefined)).toThrow(
      expect.objectContaining({
        exitCode: 4,
        message: expect.stringContaining('no connection of the local operator'),
        hint: expect.stringContaining('--connection'),
      }),
    );
  });
});

describe('expiry wording', () => {
  const day = 86_400_000;
  it('reads "expires in …" ahead and "expired … ago" after, never "expires expired"', () => {
    expect(formatExpiry(10_000, 0)).toBe('expires in 10s');
    expect(formatExpiry(0, 51 * day)).toBe('expired 51d ago');
    expect(formatExpiry(5, 5)).toBe('expired 0s ago');
  });
  it('status prints an expired refresh token as "expired 51d ago"', () => {
    const now = 100 * day;
    const text = connectionBlock(
      connection({ accessExpiresAt: now - 51 * day, refreshExpiresAt: now - 51 * day }),
      now,
      styles(false),
    );
    expect(text).toMatch(/access token: +expired 51d ago/);
    expect(text).toMatch(/refresh token: +expired 51d ago/);
    expect(text).not.toContain('expires expired');
    const fresh = connectionBlock(
      connection({ accessExpiresAt: now + day, refreshExpiresAt: now + 2 * day }),
      now,
      styles(false),
    );
    expect(fresh).toMatch(/refresh token: +expires in 2d/);
  });
});

describe('completion scripts', () => {
  const words = { login: ['--device', '--help'], keys: ['create', 'rotate'] };
  it('bash completes commands and each command’s words', () => {
    const s = bashScript(words);
    expect(s).toContain('complete -F _webex_auth webex-auth');
    expect(s).toContain('keys) COMPREPLY=( $(compgen -W "create rotate" -- "$cur") ) ;;');
  });
  it('zsh goes through bashcompinit; fish has one line per word', () => {
    expect(zshScript(words)).toMatch(/^#compdef webex-auth/);
    const f = fishScript(words, { login: "Log in (it's quick)" });
    expect(f).toContain("-a login -d 'Log in (it\\'s quick)'");
    expect(f).toContain("__fish_seen_subcommand_from login' -l device");
  });
});

describe('doctor exit code', () => {
  it('is the worst failure, warnings do not fail', () => {
    expect(worstExitCode([{ check: 'a', level: 'warn', message: '' }])).toBe(0);
    expect(
      worstExitCode([
        { check: 'a', level: 'fail', message: '', exitCode: 1 },
        { check: 'b', level: 'fail', message: '', exitCode: 4 },
      ]),
    ).toBe(4);
  });
});
