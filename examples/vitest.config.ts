import { defineConfig } from 'vitest/config';

/** The examples' own config: they import the built package (`whatbreaks` → dist/src/index.js). */
export default defineConfig({
  test: {
    include: ['examples/**/*.test.ts'],
    testTimeout: 300_000,
    fileParallelism: false,
  },
});
