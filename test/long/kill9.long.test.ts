/** Full size: 100 SIGKILLed refreshes per store (SQLite without rotation, PostgreSQL with rotation). */
import { describe, expect, it } from 'vitest';
import { kill9Scenario } from '../reliability/kill9.js';
import { postgresAvailable } from '../reliability/pg.js';
import { report } from './report.js';

const pgUp = await postgresAvailable();

describe('kill -9 during refreshes, 100 rounds', () => {
  it('SQLite', async () => {
    const r = await kill9Scenario(100, { store: 'sqlite', rotate: false });
    report('kill9 100 sqlite', r);
    expect(r.killedAfterGrant).toBeGreaterThan(0);
  });
  it.skipIf(!pgUp)('PostgreSQL, rotating refresh tokens', async () => {
    const r = await kill9Scenario(100, { store: 'postgres', rotate: true });
    report('kill9 100 postgres rotating', r);
    expect(r.killedAfterGrant).toBeGreaterThan(0);
  });
});
