// The closing line of `npm test` as a person (or a CI log reader) sees it: never "0 failed" for a failing run.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';
import { ROOT } from './processes.js';

it('counts a test file that fails to import as a failure and says FAILED on the last line', async () => {
  const vitest = path.join(ROOT, 'node_modules/vitest/vitest.mjs');
  const config = path.join(ROOT, 'test/fixtures/reporter/vitest.config.ts');
  const run = await promisify(execFile)(process.execPath, [vitest, 'run', '--config', config], { cwd: ROOT, env: { ...process.env, CI: '' } }).then(
    () => ({ code: 0, stdout: '' }),
    (error: { code: number; stdout: string }) => error,
  );
  expect(run.code).toBe(1);
  const lines = run.stdout.trim().split('\n');
  expect(lines.at(-2)).toBe('1 test file failed to load or in a hook');
  expect(lines.at(-1)).toBe('FAILED: 1 passed, 1 failed, 0 skipped');
});
