import type { TestProject } from 'vitest/node';
import { findBrowser, INSTALL_HINT } from './browser-path.js';
import { ensureDashboardBuilt } from './dashboard.js';
import { addRunNotice } from '../run-notices.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The browser the dashboard tests drive, or null when none was found (locally only: CI fails instead). */
    browserPath: string | null;
  }
}

/**
 * Rebuilds the dashboard once per run when web/ changed since the last build (tests serve dist/dashboard),
 * and finds the browser. Locally a missing browser skips the browser files with a loud notice, as a missing
 * PostgreSQL skips the PostgreSQL half; in CI it fails the run.
 */
export default async function setup(project: TestProject): Promise<void> {
  const found = findBrowser();
  if ('problem' in found) {
    if (process.env.CI) throw new Error(`A browser is required in CI for the dashboard tests: ${found.problem}. ${INSTALL_HINT}`);
    addRunNotice(`Browser tests SKIPPED: ${found.problem}. ${INSTALL_HINT}`);
  }
  project.provide('browserPath', 'path' in found ? found.path : null);
  await ensureDashboardBuilt();
}
