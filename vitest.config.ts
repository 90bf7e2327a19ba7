import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    globalSetup: ['./test/global-setup.ts', './test/dashboard/global-setup.ts'],
    reporters: ['default', './test/dialect-reporter.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
