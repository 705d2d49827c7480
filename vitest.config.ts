import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Held-back stderr, printed only for a failing test (HEALTHSPAN_TEST_OUTPUT=all: always).
    setupFiles: ['test/helpers/quiet-output.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Preload and integration tests spawn child processes and share real services;
    // two workers fit this 2-core machine without starving the children.
    maxWorkers: 2,
  },
});
