/** Full size: 100 SIGKILLed refreshes per store (SQLite without rotation, PostgreSQL with rotation). */
import { describe, it } from 'vitest';
import { kill9Scenario } from '../reliability/kill9.js';
import { postgresAvailable } from '../reliability/pg.js';
import { report } from './report.js';

const pgUp = await postgresAvailable();

describe('kill -9 during refreshes, 100 rounds', () => {
  it('SQLite', async () => {
    report('kill9 100 sqlite', await kill9Scenario(100, { store: 'sqlite', rotate: false }));
  });
  it.skipIf(!pgUp)('PostgreSQL, rotating refresh tokens', async () => {
    report('kill9 100 postgres rotating', await kill9Scenario(100, { store: 'postgres', rotate: true }));
  });
});
