/**
 * `webex-auth keepalive` finds the connections needing re-authorization by a store query on their status, never by
 * reading every connection: the store's list of all connections throws here. In-process CLI on its own SQLite store.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { SqlStore } from '../../src/vault/store/sql.js';
import { openVault } from '../../src/vault/vault.js';
import { tokenSet } from '../vault/helpers.js';
import { isolatedEnv, runInProcess } from './helpers.js';

describe('webex-auth keepalive: the needs-reauth listing', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('reports each connection needing re-authorization (exit 4) without listing every connection', async () => {
    const env = isolatedEnv();
    const vault = await openVault(loadConfig({ env, dotenvDir: false }));
    const refused: string[] = [];
    try {
      const now = Date.now();
      const integ = await vault.integrations.upsert({
        clientId: 'C1',
        clientSecret: 'CLIENT-SECRET-CANARY',
        redirectUri: 'http://localhost:8080/oauth',
        scopes: ['spark:all'],
        apiBase: 'https://webex.test/v1',
      });
      for (let i = 0; i < 4; i++) {
        const c = await vault.connections.saveFromGrant({
          integrationId: integ.id,
          // Not due for keep-alive: the sweep refreshes nothing (and calls no Webex).
          tokens: tokenSet(
            { accessToken: `ACCESS-${i}`, refreshToken: `REFRESH-${i}`, expiresAt: now + 3_600_000 },
            now,
          ),
          person: { id: `person-${i}`, emails: [`p${i}@example.com`], displayName: `Person ${i}` },
          requestedScopes: ['spark:all'],
        });
        if (i % 2 === 1) {
          await vault.connections.markNeedsReauth(c.id);
          refused.push(c.id);
        }
      }
    } finally {
      await vault.close();
    }
    const listAll = vi.spyOn(SqlStore.prototype, 'listConnections').mockImplementation(async () => {
      throw new Error('a full listing of the connections');
    });

    const r = await runInProcess(['keepalive', '--json'], { env });
    expect(r.code, r.stderr).toBe(4);
    const report = JSON.parse(r.stdout) as { ran: boolean; refreshed: number; needsReauth: { id: string }[] };
    expect(report).toMatchObject({ ran: true, refreshed: 0, failed: 0, exitCode: 4 });
    expect(report.needsReauth.map((c) => c.id).sort()).toEqual([...refused].sort());
    expect(listAll).not.toHaveBeenCalled();
  });
});
