// Dispatch and commands that need no Webex: help, unknown command/flag, completion, keys generate.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isolatedEnv, runInProcess } from './helpers.js';

describe('dispatch', () => {
  it('lists every command in --help', async () => {
    const r = await runInProcess(['--help'], { env: isolatedEnv() });
    expect(r.code).toBe(0);
    for (const c of [
      'login',
      'token',
      'refresh',
      'whoami',
      'status',
      'list',
      'keepalive',
      'logout',
      'export',
      'doctor',
      'keys',
      'completion',
    ]) {
      expect(r.stdout).toContain(`  ${c} `);
    }
  });
  it('an unknown flag is one line, a hint, exit 2', async () => {
    const r = await runInProcess(['token', '--bogus'], { env: isolatedEnv() });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(2);
    expect(r.stderr).toMatch(/^error: Unknown option '--bogus'/);
    expect(r.stdout).toBe('');
  });
  it('an unknown command is exit 2', async () => {
    const r = await runInProcess(['tokne'], { env: isolatedEnv() });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown command "tokne"');
  });
  it('a bad setting is one line naming it, exit 2', async () => {
    const r = await runInProcess(['list'], { env: isolatedEnv({ WEBEX_REDIRECT_URI: 'not a url' }) });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: Invalid setting WEBEX_REDIRECT_URI/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
  it('prints completion scripts built from the command table', async () => {
    const bash = await runInProcess(['completion', 'bash'], { env: isolatedEnv() });
    expect(bash.code).toBe(0);
    expect(bash.stdout).toContain('login) COMPREPLY');
    expect(bash.stdout).toMatch(/keys\) COMPREPLY=\( \$\(compgen -W "create list revoke rotate generate/);
    const fish = await runInProcess(['completion', 'fish'], { env: isolatedEnv() });
    expect(fish.stdout).toContain("__fish_seen_subcommand_from token' -l min-validity");
    const bad = await runInProcess(['completion', 'tcsh'], { env: isolatedEnv() });
    expect(bad.code).toBe(2);
  });
  it('keys generate prints a key ring entry the configuration accepts', async () => {
    const r = await runInProcess(['keys', 'generate'], { env: isolatedEnv() });
    expect(r.code).toBe(0);
    const entry = r.stdout.trim();
    const check = await runInProcess(['list', '--json'], { env: isolatedEnv({ WEBEX_AUTH_KEYS: entry }) });
    expect(check.code).toBe(0);
    expect(JSON.parse(check.stdout)).toEqual([]);
  });
  it('keys local prints the development key a store was made with, so it can become WEBEX_AUTH_KEYS', async () => {
    const env = isolatedEnv({ WEBEX_AUTH_KEYS: '' });
    const none = await runInProcess(['keys', 'local'], { env });
    expect(none).toMatchObject({ code: 1, stdout: '' });
    expect(none.stderr).toContain('no development key file');
    expect((await runInProcess(['list'], { env })).code).toBe(0);
    const r = await runInProcess(['keys', 'local'], { env });
    expect(r.code).toBe(0);
    const entry = r.stdout.trim();
    expect(entry).toBe(readFileSync(join(env.XDG_DATA_HOME as string, 'webex-auth', 'keys'), 'utf8').trim());
    // The store opens with it as WEBEX_AUTH_KEYS, and then has no development key to print.
    const moved = { ...env, WEBEX_AUTH_KEYS: entry };
    expect((await runInProcess(['list'], { env: moved })).code).toBe(0);
    expect((await runInProcess(['keys', 'local'], { env: moved })).code).toBe(2);
  });
});
