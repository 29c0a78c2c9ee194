/**
 * `webex-auth keepalive`: one keep-alive sweep and exit, for cron or a systemd timer. The CLI runs in-process on its
 * own SQLite store holding Alice's connection (a real grant from the emulator); "due" is set in the store.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { type RunningEmulator, startEmulator } from '../../src/emulator/index.js';
import { openVault } from '../../src/vault/vault.js';
import { connectFromEmulator, control, refreshGrants, testSeed } from '../vault/emulator-grant.js';
import { isolatedEnv, runInProcess } from './helpers.js';

describe('webex-auth keepalive', () => {
  let emulator: RunningEmulator;

  beforeAll(async () => {
    emulator = await startEmulator({ seed: testSeed, autoConsent: 'alice@example.com' });
  });
  afterAll(async () => {
    await emulator?.close();
  });
  afterEach(async () => {
    await fetch(`${emulator.url}/_emulator/faults`, { method: 'DELETE' });
  });

  /** A CLI environment whose store holds Alice's connection; `due` makes it due for keep-alive now. */
  async function cliWithConnection(due: boolean) {
    const env = isolatedEnv();
    const config = loadConfig({ env, dotenvDir: false });
    const vault = await openVault(config);
    let id: string;
    try {
      id = (await connectFromEmulator(vault, emulator.apiBase)).id;
    } finally {
      await vault.close();
    }
    if (due) {
      const { default: Database } = await import('better-sqlite3');
      const db = new Database(config.dbPath);
      db.prepare('UPDATE connections SET keepalive_due_at = ? WHERE id = ?').run(Date.now() - 1000, id);
      db.close();
    }
    return { env, id };
  }

  it('nothing due: refreshes nothing and exits 0', async () => {
    const { env } = await cliWithConnection(false);
    const before = await refreshGrants(emulator.url);
    const r = await runInProcess(['keepalive', '--json'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ ran: true, refreshed: 0, failed: 0, needsReauth: [], exitCode: 0 });
    expect(await refreshGrants(emulator.url)).toBe(before);
    // Without --json: one line on stderr, nothing on stdout.
    const plain = await runInProcess(['keepalive'], { env });
    expect(plain.code).toBe(0);
    expect(plain.stdout).toBe('');
    expect(plain.stderr).toContain('Keep-alive: refreshed 0 connections');
  });

  it('a due connection is refreshed once at Webex and the run exits 0; the next run finds nothing due', async () => {
    const { env, id } = await cliWithConnection(true);
    const before = await refreshGrants(emulator.url);
    const r = await runInProcess(['keepalive', '--json'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ ran: true, refreshed: 1, failed: 0, needsReauth: [] });
    expect(await refreshGrants(emulator.url)).toBe(before + 1);
    const vault = await openVault(loadConfig({ env, dotenvDir: false }));
    try {
      expect((await vault.connections.get(id))?.status).toBe('active');
    } finally {
      await vault.close();
    }
    const again = await runInProcess(['keepalive', '--json'], { env });
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ refreshed: 0, failed: 0 });
    expect(await refreshGrants(emulator.url)).toBe(before + 1);
  });

  it('a refresh token Webex refuses: the connection needs re-authorization and the run exits 4', async () => {
    const { env, id } = await cliWithConnection(true);
    await control(emulator.url, 'faults', { endpoint: 'token', error: 'invalid_grant', count: 1 });
    const r = await runInProcess(['keepalive', '--json'], { env });
    expect(r.code, r.stderr).toBe(4);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({ ran: true, refreshed: 0, failed: 1, exitCode: 4 });
    expect(report.needsReauth).toEqual([{ id, email: 'alice@example.com', displayName: expect.any(String) }]);
    const plain = await runInProcess(['keepalive'], { env });
    expect(plain.code).toBe(4);
    expect(plain.stderr).toMatch(/needs re-authorization: run `webex-auth login`/);
  });

  it('Webex failing (5xx on every attempt): the refresh failed, the connection stays active, the run exits 1', async () => {
    const { env, id } = await cliWithConnection(true);
    await control(emulator.url, 'faults', { endpoint: 'token', status: 503, count: 10 });
    const r = await runInProcess(['keepalive', '--json'], { env });
    expect(r.code, r.stderr).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ ran: true, refreshed: 0, failed: 1, needsReauth: [], exitCode: 1 });
    const vault = await openVault(loadConfig({ env, dotenvDir: false }));
    try {
      expect((await vault.connections.get(id))?.status).toBe('active');
    } finally {
      await vault.close();
    }
  });
});
