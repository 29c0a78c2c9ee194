/**
 * `kill -9` a broker process at random points of a refresh, 10 rounds (PostgreSQL with refresh-token rotation when
 * it is up, else a SQLite file): afterwards the connection still refreshes and its token works, 0 refresh tokens
 * lost. The 100-round versions (both stores, with and without rotation) are test/long/kill9.long.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { kill9Scenario } from './kill9.js';
import { postgresAvailable } from './pg.js';

const pgUp = await postgresAvailable();

describe('kill -9 during refreshes', () => {
  it(`${pgUp ? 'PostgreSQL, rotating refresh tokens' : 'SQLite'}: 10 SIGKILLed refreshes, every one recovered`, async () => {
    const r = await kill9Scenario(10, { store: pgUp ? 'postgres' : 'sqlite', rotate: pgUp });
    expect(r).toMatchObject({ rounds: 10, recovered: 10, lostRefreshTokens: 0 });
    // Some kills landed after Webex had granted the refresh (the dangerous window), not only before.
    expect(r.killedAfterGrant).toBeGreaterThan(0);
  });
});
