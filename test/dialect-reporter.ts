import type { Reporter, TestModule } from 'vitest/node';

/**
 * Prints how many tests ran on each database, so a run shows the PostgreSQL half really ran,
 * and closes with a plain "N passed, N failed" line.
 */
export default class DialectReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const counts = new Map<string, { passed: number; failed: number; skipped: number }>();
    let passed = 0;
    let failed = 0;
    for (const module of testModules) {
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        const dialect = /^(sqlite|postgres)\b/.exec(test.fullName)?.[1] ?? 'no database';
        const entry = counts.get(dialect) ?? { passed: 0, failed: 0, skipped: 0 };
        if (state === 'passed') entry.passed++;
        else if (state === 'failed') entry.failed++;
        else entry.skipped++;
        counts.set(dialect, entry);
        if (state === 'passed') passed++;
        if (state === 'failed') failed++;
      }
    }
    const lines = [...counts].map(([dialect, c]) => `  ${dialect.padEnd(12)} ${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped`);
    process.stdout.write(`\nTests by database:\n${lines.join('\n')}\ntests: ${passed} passed, ${failed} failed\n`);
  }
}
