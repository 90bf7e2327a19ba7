import os from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    globalSetup: ['./test/global-setup.ts', './test/dashboard/global-setup.ts'],
    reporters: ['default', './test/dialect-reporter.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // One more test file at a time than there are cores (vitest's default is one fewer, so one
    // file at a time on a 2-core machine): a file spends much of its time waiting on PostgreSQL,
    // child processes and the browser. VITEST_MAX_WORKERS overrides it.
    maxWorkers: os.availableParallelism() + 1,
    // Test files share their worker's modules instead of loading and warming up the app's anew in
    // each (a third less CPU for the whole suite, measured): every file builds its own app,
    // database and keys, and leaves no state behind that another file reads.
    isolate: false,
    // expect.poll waits for the browser or a live update to catch up; its own default (1 s) is
    // shorter than a loaded CI machine (two suites and Chromium on two cores) can take. A
    // condition that never comes true still fails, at the deadline.
    expect: { poll: { timeout: 15_000 } },
  },
});
