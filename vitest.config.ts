import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // e2e tests start real processes; two at a time on a 2-core machine
    maxWorkers: 2,
    pool: 'forks',
  },
});
