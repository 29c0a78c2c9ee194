import { defineConfig } from 'vitest/config';

// Every test file runs in its own fork: the integration tests start real servers on loopback ports and
// native modules (better-sqlite3) are happiest outside worker threads.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/long/**', 'node_modules/**'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    reporters: ['default'],
  },
});
