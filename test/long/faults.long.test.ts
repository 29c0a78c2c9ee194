/**
 * Full size: 100 due connections under ~30% upstream 5xx/429 + slow responses; midway a private PostgreSQL server is
 * really restarted (pg_ctl restart -m fast) → every connection refreshed, none needs_reauth, the broker keeps serving.
 */
import { describe, expect, it } from 'vitest';
import { faultsScenario } from '../reliability/faults.js';
import { freePort } from '../security/support.js';
import { startPrivatePostgres } from './private-pg.js';
import { report } from './report.js';

describe('upstream faults and a real PostgreSQL restart', () => {
  it('100 connections, restart mid-run', async () => {
    const pg = startPrivatePostgres(await freePort());
    let restarted = false;
    try {
      const r = await faultsScenario({
        connections: 100,
        url: pg.url,
        disrupt: async () => {
          pg.restart();
          restarted = true;
        },
      });
      expect(restarted).toBe(true);
      report('faults 100 + postgres restart', r);
    } finally {
      pg.stop();
    }
  });
});
