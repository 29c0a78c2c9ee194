/** A test seed: the demo seed plus a second integration (for cross-client checks) and extra rooms for paging. */
import { DEMO_SEED } from '../../src/emulator/index.js';

export const OTHER = {
  clientId: `C${'ab'.repeat(32)}`,
  clientSecret: 'cd'.repeat(32),
  redirectUris: ['http://127.0.0.1:9999/cb'],
  scopes: ['spark:people_read', 'openid', 'email'],
};

export const TEST_SEED = {
  ...DEMO_SEED,
  integrations: [...DEMO_SEED.integrations, OTHER],
  rooms: [
    ...DEMO_SEED.rooms,
    ...Array.from({ length: 5 }, (_, i) => ({
      title: `Room ${i + 1}`,
      members: ['alice@example.com', 'bob@example.com'],
    })),
  ],
};
