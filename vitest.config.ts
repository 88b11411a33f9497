import { defineConfig } from 'vitest/config';

// Integration tests start real servers; generous timeouts keep them stable on a noisy 2-core machine.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'gateway/**/*.test.ts', 'edge-runtime/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: 2,
    reporters: ['default'],
  },
});
