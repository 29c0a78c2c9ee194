// The subcommand check shared by `webex-auth keys` and `webex-auth webhooks` (src/cli/commands/subcommand.ts): no
// subcommand or an unknown one is a usage error of one line naming the subcommands; what was typed is echoed
// terminal-safe and cut short. Neither case opens the store or talks to Webex.
import { describe, expect, it } from 'vitest';
import { isolatedEnv, runInProcess } from './helpers.js';

const env = isolatedEnv({ WEBEX_API_BASE: 'http://127.0.0.1:9/v1' });

describe.each([
  ['keys', 'create, list, revoke, rotate, generate, local, narrow'],
  ['webhooks', 'add, list, remove, deliveries, redeliver'],
])('webex-auth %s', (command, subcommands) => {
  it('asks which subcommand when none is given', async () => {
    const r = await runInProcess([command], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`which ${command} subcommand?`);
    expect(r.stderr).toContain(`Use one of: ${subcommands}.`);
  });

  it('names an unknown one terminal-safe and cut to 20 characters', async () => {
    const r = await runInProcess([command, `\u001b]0;pwned\u0007${'x'.repeat(40)}`], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`unknown ${command} subcommand "`);
    expect(r.stderr).not.toContain('\u001b');
    expect(r.stderr).not.toContain('x'.repeat(21));
    expect(r.stderr).toContain(`Use one of: ${subcommands}.`);
  });
});
