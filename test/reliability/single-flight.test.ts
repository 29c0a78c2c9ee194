/**
 * Single flight across processes: two real `serve` processes on one PostgreSQL, 200 concurrent token requests on an
 * expired access token → one refresh grant, one token for all (and again with the emulator rotating refresh tokens).
 * The 1,000-request version is test/long/single-flight.long.test.ts.
 */
import { describe, it } from 'vitest';
import { postgresAvailable } from './pg.js';
import { singleFlightScenario } from './single-flight.js';

const pgUp = await postgresAvailable();

describe.skipIf(!pgUp)('single flight across two broker processes on PostgreSQL', () => {
  it('200 concurrent token requests on an expired token → exactly one refresh grant, one token for all', async () => {
    await singleFlightScenario(200, false);
  });
  it('the same with the emulator rotating refresh tokens', async () => {
    await singleFlightScenario(200, true);
  });
});
