import { defineConfig } from 'vitest/config';

/** The long suites (soak, fuzz at scale): `npm run test:long`, not part of `npm test`. */
export default defineConfig({
  test: { include: ['test/long/**/*.test.ts'], pool: 'forks', testTimeout: 1_800_000, hookTimeout: 120_000 },
});
