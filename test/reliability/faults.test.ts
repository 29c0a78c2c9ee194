/**
 * Upstream faults and a database outage: the emulator fails ~30% of token requests (500/503/429 with Retry-After)
 * and slows 20% more while 10 connections are due; midway the broker process loses every PostgreSQL connection.
 * Every connection ends refreshed, none `needs_reauth`, and the same broker process keeps serving. The long suite
 * runs 100 connections and really restarts a private PostgreSQL server (test/long/faults.long.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { faultsScenario, terminateBackends } from './faults.js';
import { postgresAvailable } from './pg.js';

const pgUp = await postgresAvailable();

describe.skipIf(!pgUp)('refreshes under upstream faults and a database outage', () => {
  it('10 due connections, ~30% 5xx/429 + slow responses, PostgreSQL connections cut midway', async () => {
    const r = await faultsScenario({ connections: 10, disrupt: terminateBackends });
    expect(r).toMatchObject({ refreshed: 10, needsReauth: 0 });
  }, 240_000);
});
