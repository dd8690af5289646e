import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'targets/**/*.test.ts', 'test/**/*.test.ts'],
    // Integration tests start real PostgreSQL servers and real targets: give them room, and keep
    // them from fighting over the machine's two cores.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    fileParallelism: false,
  },
});
