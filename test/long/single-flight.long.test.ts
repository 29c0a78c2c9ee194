/** Full size: 1,000 concurrent token requests on an expired token over two `serve` processes on one PostgreSQL. */
import { describe, it } from 'vitest';
import { postgresAvailable } from '../reliability/pg.js';
import { singleFlightScenario } from '../reliability/single-flight.js';
import { report } from './report.js';

const pgUp = await postgresAvailable();

describe.skipIf(!pgUp)('single flight at 1,000 concurrent requests', () => {
  it('no rotation', async () => {
    report('single-flight 1000', await singleFlightScenario(1000, false));
  });
  it('rotating refresh tokens', async () => {
    report('single-flight 1000 rotating', await singleFlightScenario(1000, true));
  });
});
