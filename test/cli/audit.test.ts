// `webex-auth audit` on a real SQLite store seeded through the vault: --json is an array, --since takes a UTC date or
// a while ago, a bad --since or --limit is one line and exit 2, entries past AUDIT_RETENTION_DAYS are purged, text
// is terminal-safe, and `logout` leaves a `connection.delete` entry by the CLI.
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import type { AuditEntry } from '../../src/vault/types.js';
import { openVault } from '../../src/vault/vault.js';
import { CLIENT_ID, CLIENT_SECRET } from './emulator.js';
import { isolatedEnv, runInProcess } from './helpers.js';

const DAY = 86_400_000;
const HOUR = 3_600_000;

describe('webex-auth audit', () => {
  const env = isolatedEnv({ AUDIT_RETENTION_DAYS: '30' });
  const now = Date.now();

  beforeAll(async () => {
    let at = now;
    const vault = await openVault(loadConfig({ env, dotenvDir: false }), { clock: () => at });
    try {
      const record = async (ago: number, entry: Omit<AuditEntry, 'id' | 'at'>) => {
        at = now - ago;
        await vault.audit.record(entry);
      };
      const alice = { kind: 'account', id: 'acct_a', label: 'alice@example.com' } as const;
      await record(40 * DAY, { actor: alice, action: 'signin', ownerId: 'acct_a', address: '192.0.2.1' });
      await record(10 * DAY, { actor: alice, action: 'connect', ownerId: 'acct_a', target: 'conn_old' });
      await record(HOUR, { actor: { kind: 'key', id: 'key_1', label: 'wak_AbCd' }, action: 'refresh.forced' });
      // A row the vault would refuse (a terminal escape in Webex text), written past it: the CLI still prints it safely.
      await vault.store.insertAudit({
        id: 'aud_hostile',
        at: now - 2 * HOUR,
        actorKind: 'account',
        actorId: 'acct_m',
        actorLabel: 'mallory@example.com\u001b]0;pwned\u0007',
        action: 'connect',
        ownerId: 'acct_m',
        target: 'conn_m',
        address: '192.0.2.9',
        detail: 'Mallory\u001b[2J\u001b[31m <m@example.com>\u202e',
      });
    } finally {
      await vault.close();
    }
  });

  it('prints --json as an array, newest first, since a while ago', async () => {
    const r = await runInProcess(['audit', '--json', '--since', '7d'], { env });
    expect(r.code, r.stderr).toBe(0);
    const entries = JSON.parse(r.stdout) as AuditEntry[];
    expect(Array.isArray(entries)).toBe(true);
    expect(entries.map((e) => e.action)).toEqual(['refresh.forced', 'connect']);
    expect(entries[0]).toMatchObject({ actor: { kind: 'key', id: 'key_1', label: 'wak_AbCd' }, at: now - HOUR });
  });

  it('takes a UTC date for --since, purges entries past the retention, and honours --limit', async () => {
    const since = new Date(now - 15 * DAY).toISOString().slice(0, 10);
    const r = await runInProcess(['audit', '--json', '--since', since], { env });
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as AuditEntry[]).map((e) => e.target ?? e.action)).toEqual([
      'refresh.forced',
      'conn_m',
      'conn_old',
    ]);
    // The 40-day-old sign-in is gone (AUDIT_RETENTION_DAYS=30), whatever --since asks.
    const all = await runInProcess(['audit', '--json', '--since', '365d'], { env });
    expect((JSON.parse(all.stdout) as AuditEntry[]).some((e) => e.action === 'signin')).toBe(false);
    const one = await runInProcess(['audit', '--json', '--limit', '1'], { env });
    expect(JSON.parse(one.stdout)).toHaveLength(1);
  });

  it('prints a terminal-safe table', async () => {
    const r = await runInProcess(['audit'], { env });
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^TIME \(UTC\)\s+ACTOR\s+ACTION\s+TARGET\s+ADDRESS\s+DETAIL$/);
    expect(lines).toHaveLength(4);
    expect(r.stdout).toContain('API key wak_AbCd');
    expect(r.stdout).toMatch(/mallory@example\.com\s+connect\s+conn_m\s+192\.0\.2\.9\s+Mallory <m@example\.com>/);
    expect(r.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202e]/);
    expect(r.stdout).not.toContain('pwned');
  });

  it('refuses a bad --since or --limit in one line, exit 2', async () => {
    for (const argv of [
      ['--since', 'yesterday'],
      ['--since', '2026-02-30'],
      ['--since', '7w'],
      ['--since', '\u001b[2Jx'],
      ['--limit', '0'],
      ['--limit', '5000'],
      ['--limit', 'ten'],
    ]) {
      const r = await runInProcess(['audit', ...argv], { env });
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n'), argv.join(' ')).toHaveLength(1);
      expect(r.stderr).toMatch(/^error: --(since|limit) /);
      expect(r.stderr).not.toContain('\u001b');
      expect(r.stdout).toBe('');
    }
  });

  it('records a logout as a connection.delete by the CLI', async () => {
    const e = isolatedEnv();
    const vault = await openVault(loadConfig({ env: e, dotenvDir: false }));
    let id: string;
    try {
      const integration = await vault.integrations.upsert({
        clientId: CLIENT_ID,
        clientSecret: CLIENT_SECRET,
        redirectUri: 'http://localhost:8080/oauth',
        apiBase: 'http://127.0.0.1:9/v1',
        scopes: ['spark:people_read'],
      });
      const t = Date.now();
      id = (
        await vault.connections.saveFromGrant({
          integrationId: integration.id,
          tokens: {
            accessToken: `access-${'a'.repeat(40)}`,
            refreshToken: `refresh-${'r'.repeat(40)}`,
            tokenType: 'Bearer',
            expiresAt: t + 12 * HOUR,
            refreshExpiresAt: t + 14 * DAY,
            scopes: ['spark:people_read'],
            scopeReported: true,
            receivedAt: t,
          },
          person: { id: 'person-1', emails: ['pat@example.com'], displayName: 'Pat Example' },
          requestedScopes: ['spark:people_read'],
        })
      ).id;
    } finally {
      await vault.close();
    }
    const logout = await runInProcess(['logout', '--connection', id], { env: e });
    expect(logout.code, logout.stderr).toBe(0);
    const r = await runInProcess(['audit', '--json'], { env: e });
    expect(JSON.parse(r.stdout)).toEqual([
      {
        id: expect.stringMatching(/^aud_/),
        at: expect.any(Number),
        actor: { kind: 'cli' },
        action: 'connection.delete',
        ownerId: 'local',
        target: id,
        address: 'cli',
        detail: 'Pat Example <pat@example.com>',
      },
    ]);
  });
});
