/**
 * `webex-auth refresh` under the forced-refresh limit (FORCED_REFRESH_MIN_INTERVAL, read from the CLI's own
 * environment): inside the interval it prints one line saying when a forced refresh can run again and exits 1. The CLI
 * runs in-process on its own SQLite store, against the real emulator.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { type RunningEmulator, startEmulator } from '../../src/emulator/index.js';
import { openVault } from '../../src/vault/vault.js';
import { connectFromEmulator, refreshGrants, testSeed } from '../vault/emulator-grant.js';
import { isolatedEnv, runInProcess } from './helpers.js';

const LINE = /^error: refreshed (\d+) s ago; a forced refresh can run again in (\d+) s\n$/;

describe('webex-auth refresh: forced refreshes limited per connection', () => {
  let emulator: RunningEmulator;

  beforeAll(async () => {
    emulator = await startEmulator({ seed: testSeed, autoConsent: 'alice@example.com' });
  });
  afterAll(async () => {
    await emulator?.close();
  });

  /** A CLI environment with its own store holding Alice's connection (a real grant from the emulator). */
  async function cliWithConnection(extra: Record<string, string> = {}) {
    const env = isolatedEnv(extra);
    const vault = await openVault(loadConfig({ env, dotenvDir: false }));
    try {
      const connection = await connectFromEmulator(vault, emulator.apiBase);
      return { env, id: connection.id };
    } finally {
      await vault.close();
    }
  }

  it('a second forced refresh inside the interval prints when it can run and exits 1; nothing reaches Webex', async () => {
    const { env, id } = await cliWithConnection();
    const before = await refreshGrants(emulator.url);
    const first = await runInProcess(['refresh'], { env });
    expect(first.code).toBe(0);
    expect((await refreshGrants(emulator.url)) - before).toBe(1);

    const second = await runInProcess(['refresh'], { env });

    expect(second.code).toBe(1);
    expect(second.stdout).toBe('');
    const m = LINE.exec(second.stderr);
    expect(m, second.stderr).not.toBeNull();
    expect(Number(m?.[1]) + Number(m?.[2])).toBe(30);
    expect((await refreshGrants(emulator.url)) - before).toBe(1);
    // Audited as the CLI's, with the refused one too.
    const vault = await openVault(loadConfig({ env, dotenvDir: false }));
    try {
      const entries = (await vault.audit.list()).filter((e) => e.target === id);
      expect(entries.map((e) => [e.action, e.actor.kind, e.address])).toEqual([
        ['refresh.refused', 'cli', 'cli'],
        ['refresh.forced', 'cli', 'cli'],
      ]);
    } finally {
      await vault.close();
    }
  });

  it('says how long ago and how long to wait, from a refresh forced by anyone 12 s before', async () => {
    const { env, id } = await cliWithConnection();
    // Another process (the broker, the dashboard) forced one 12.5 s ago: its claim is in the shared store.
    const vault = await openVault(loadConfig({ env, dotenvDir: false }));
    try {
      expect(await vault.store.claimForcedRefresh(id, Date.now() - 12_500, 30_000)).toEqual({ claimed: true });
    } finally {
      await vault.close();
    }
    const r = await runInProcess(['refresh', '--connection', id], { env });
    expect(r.code).toBe(1);
    const m = LINE.exec(r.stderr);
    expect(m, r.stderr).not.toBeNull();
    // 12.5 s ago (plus however long the command took to start): 12 or more s ago, 17 or fewer s to wait.
    expect(Number(m?.[1])).toBeGreaterThanOrEqual(12);
    expect(Number(m?.[2])).toBeLessThanOrEqual(18);
    expect(Number(m?.[1]) + Number(m?.[2])).toBe(30);
  });

  it('honours FORCED_REFRESH_MIN_INTERVAL from its own environment (0: no limit; 3600: an hour)', async () => {
    const { env } = await cliWithConnection();
    const before = await refreshGrants(emulator.url);
    for (let i = 0; i < 3; i++) {
      expect((await runInProcess(['refresh'], { env: { ...env, FORCED_REFRESH_MIN_INTERVAL: '0' } })).code).toBe(0);
    }
    expect((await refreshGrants(emulator.url)) - before).toBe(3);
    // The runs without a limit still stamped the time: a process that has one counts from the last of them.
    const hour = { ...env, FORCED_REFRESH_MIN_INTERVAL: '3600' };
    const r = await runInProcess(['refresh'], { env: hour });
    expect(r.code).toBe(1);
    const m = LINE.exec(r.stderr);
    expect(Number(m?.[1]) + Number(m?.[2])).toBe(3600);
    const bad = await runInProcess(['refresh'], { env: { ...env, FORCED_REFRESH_MIN_INTERVAL: 'soon' } });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('FORCED_REFRESH_MIN_INTERVAL');
  });
});
