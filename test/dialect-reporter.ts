import type { SerializedError } from 'vitest';
import type { Reporter, TestModule, TestRunEndReason } from 'vitest/node';
import { runNotices } from './run-notices.js';

/** Files whose tests drive a browser, counted on their own row (they run on SQLite only). */
const BROWSER_FILE = /test\/dashboard\/(?!api-types)[^/]+\.test\.ts$/;

/**
 * Prints how many tests ran on each database (and in the browser), so a run shows the PostgreSQL half and the
 * browser tests really ran, then any notice of a skipped half, and closes with a plain "N passed, N failed" line.
 * That line counts as failed every failed test, every test file that failed to load (or failed in a hook outside
 * any test) and every unhandled error, and starts with FAILED whenever the run failed: it never says "0 failed"
 * for a failing run.
 */
export default class DialectReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<SerializedError> = [], reason: TestRunEndReason = 'passed'): void {
    const counts = new Map<string, { passed: number; failed: number; skipped: number }>();
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    let brokenFiles = 0;
    for (const module of testModules) {
      const browser = BROWSER_FILE.test(module.moduleId.replaceAll('\\', '/'));
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        const dialect = /^(sqlite|postgres)\b/.exec(test.fullName)?.[1] ?? (browser ? 'browser' : 'no database');
        const entry = counts.get(dialect) ?? { passed: 0, failed: 0, skipped: 0 };
        if (state === 'passed') entry.passed++;
        else if (state === 'failed') entry.failed++;
        else entry.skipped++;
        counts.set(dialect, entry);
        if (state === 'passed') passed++;
        else if (state === 'failed') failed++;
        else skipped++;
      }
      // A file that failed to import, or whose hooks failed, has errors of its own that no test carries.
      if (module.state() === 'failed' && module.errors().length > 0) brokenFiles++;
    }
    const problems = failed + brokenFiles + unhandledErrors.length;
    const runFailed = reason !== 'passed' || problems > 0;
    const lines = [...counts].map(([dialect, c]) => `  ${dialect.padEnd(12)} ${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped`);
    const details = [
      failed > 0 ? `${failed} failed test${failed === 1 ? '' : 's'}` : '',
      brokenFiles > 0 ? `${brokenFiles} test file${brokenFiles === 1 ? '' : 's'} failed to load or in a hook` : '',
      unhandledErrors.length > 0 ? `${unhandledErrors.length} unhandled error${unhandledErrors.length === 1 ? '' : 's'}` : '',
      reason === 'interrupted' ? 'the run was interrupted' : '',
    ].filter(Boolean);
    const notices = runNotices().map((n) => `*** ${n} ***`);
    // The run failed for a reason none of the counts shows (a coverage threshold, say): still never "0 failed".
    const failedCount = runFailed ? Math.max(problems, 1) : 0;
    const closing = `${runFailed ? 'FAILED' : 'tests'}: ${passed} passed, ${failedCount} failed, ${skipped} skipped`;
    process.stdout.write(
      `\nTests by database:\n${lines.join('\n')}\n${notices.length ? `${notices.join('\n')}\n` : ''}${details.length ? `${details.join(', ')}\n` : ''}${closing}\n`,
    );
  }
}
