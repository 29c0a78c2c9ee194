import { defineConfig } from 'vitest/config';

// Every test file runs in its own fork: the integration tests start real servers on loopback ports and
// native modules (better-sqlite3) are happiest outside worker threads.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/long/**', 'node_modules/**'],
    pool: 'forks',
    // Tests never put keys in the developer's own OS keychain (the keychain tests start a private one and opt in).
    env: { WEBEX_AUTH_KEYCHAIN: 'off' },
    testTimeout: 60_000,
    hookTimeout: 60_000,
    reporters: ['default'],
  },
});
