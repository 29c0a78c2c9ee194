/**
 * `webex-auth bot add` and `webex-auth service-app add` in-process, against the real emulator and an isolated
 * SQLite store: the secret comes from stdin (never argv), the stored connections show their kind in `list` and
 * `status`, and `token`/`export` serve them. A person's token is refused with a one-line error.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { type RunningEmulator, startEmulator } from '../../src/emulator/index.js';
import { openVault } from '../../src/vault/vault.js';
import { isolatedEnv, runInProcess } from '../cli/helpers.js';
import { grantFromEmulator } from '../vault/emulator-grant.js';
import { BOT_TOKEN, fetcherConnection, identitySeed, ORG_A, restOrg, SERVICE_APP } from './fixture.js';

describe('CLI: bot add, service-app add', () => {
  let emulator: RunningEmulator;
  let env: Record<string, string | undefined>;
  let fetcherId: string;

  beforeAll(async () => {
    emulator = await startEmulator({ seed: identitySeed, autoConsent: 'alice@example.com' });
    env = isolatedEnv({ WEBEX_API_BASE: emulator.apiBase });
    const vault = await openVault(loadConfig({ env, dotenvDir: false }));
    try {
      fetcherId = (await fetcherConnection(vault, emulator, Date.now)).id;
    } finally {
      await vault.close();
    }
  });
  afterAll(async () => {
    await emulator?.close();
  });

  it('a token or secret typed as an argument is refused without being echoed', async () => {
    for (const argv of [
      ['bot', 'add', BOT_TOKEN],
      ['bot', BOT_TOKEN],
      ['service-app', SERVICE_APP.clientSecret],
    ]) {
      const run = await runInProcess(argv, { env, stdin: '' });
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/subcommand|takes no argument/);
      for (const secret of [BOT_TOKEN, SERVICE_APP.clientSecret]) {
        expect(run.stderr + run.stdout).not.toContain(secret.slice(0, 8));
      }
    }
  });

  it('bot add reads the token from stdin; list, status, token and export show and serve it', async () => {
    const added = await runInProcess(['bot', 'add', '--json'], { env, stdin: `${BOT_TOKEN}\n` });
    expect(added.code, added.stderr).toBe(0);
    const bot = JSON.parse(added.stdout) as { id: string; kind: string };
    expect(bot.kind).toBe('bot');
    expect(added.stderr).not.toContain(BOT_TOKEN);

    const list = await runInProcess(['list'], { env });
    expect(list.stdout).toMatch(new RegExp(`${bot.id}\\s+bot\\s`));
    const status = await runInProcess(['status', '--json'], { env });
    const shown = (JSON.parse(status.stdout) as { connections: Array<{ id: string; kind: string }> }).connections;
    expect(shown.find((c) => c.id === bot.id)?.kind).toBe('bot');
    const token = await runInProcess(['token', '--connection', bot.id], { env });
    expect(token.code, token.stderr).toBe(0);
    expect(token.stdout.trim()).toBe(BOT_TOKEN);
    const exported = await runInProcess(['export', '--connection', bot.id, '--format', 'json'], { env });
    expect(exported.code, exported.stderr).toBe(0);
    expect(exported.stdout).toContain(BOT_TOKEN);
  });

  it('bot add refuses a person token, and an empty stdin, with one line each', async () => {
    const person = await grantFromEmulator(emulator.apiBase);
    const refused = await runInProcess(['bot', 'add'], { env, stdin: `${person.tokens.accessToken}\n` });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/belongs to a person, not a bot/);
    expect(refused.stderr).not.toContain(person.tokens.accessToken);
    const empty = await runInProcess(['bot', 'add'], { env, stdin: '' });
    expect(empty.code).toBe(2);
    expect(empty.stderr).toMatch(/no bot token given/);
  });

  it('service-app add reads the client secret from stdin and fetches through the fetcher', async () => {
    const added = await runInProcess(
      [
        'service-app',
        'add',
        '--app-id',
        SERVICE_APP.id,
        '--client-id',
        SERVICE_APP.clientId,
        '--org',
        ORG_A,
        '--fetcher',
        fetcherId,
        '--json',
      ],
      { env, stdin: `${SERVICE_APP.clientSecret}\n` },
    );
    expect(added.code, added.stderr).toBe(0);
    const app = JSON.parse(added.stdout) as { id: string; kind: string; orgId: string };
    expect(app).toMatchObject({ kind: 'service_app', orgId: restOrg(ORG_A) });
    const token = await runInProcess(['token', '--connection', app.id], { env });
    expect(token.code, token.stderr).toBe(0);
    const me = await fetch(`${emulator.apiBase}/people/me`, {
      headers: { authorization: `Bearer ${token.stdout.trim()}` },
    });
    expect(me.status).toBe(200);
    const missing = await runInProcess(['service-app', 'add', '--app-id', SERVICE_APP.id], { env });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/missing --client-id, --org, --fetcher/);
  });
});
