import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Integration tests spawn servers; 2-core machines are slow to spawn tsx.
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
