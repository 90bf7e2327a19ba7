import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { chromium, type Browser } from 'playwright-core';
import { DASHBOARD_DIR } from '../../src/web/dashboard.routes.js';
import { ROOT } from '../processes.js';
import { findBrowser, INSTALL_HINT } from './browser-path.js';

const WEB = path.join(ROOT, 'web');

async function newestChange(dir: string): Promise<number> {
  const entries = await fs.readdir(dir, { recursive: true, withFileTypes: true });
  const times = await Promise.all(entries.filter((e) => e.isFile()).map(async (e) => (await fs.stat(path.join(e.parentPath, e.name))).mtimeMs));
  return Math.max(0, ...times);
}

/** Builds the dashboard unless dist/dashboard is newer than every source file under web/. */
export async function ensureDashboardBuilt(): Promise<void> {
  const built = await fs.stat(path.join(DASHBOARD_DIR, 'index.html')).then((s) => s.mtimeMs, () => 0);
  if (built > (await newestChange(WEB))) return;
  // In its own process: under vitest NODE_ENV is "test", which would make a development build of React.
  const vite = path.join(ROOT, 'node_modules/vite/bin/vite.js');
  await promisify(execFile)(process.execPath, [vite, 'build', '--config', path.join(WEB, 'vite.config.ts'), '--logLevel', 'warn'], {
    cwd: ROOT,
    env: { ...process.env, NODE_ENV: 'production' },
  });
}

/** The browser findBrowser() names (CHROMIUM_PATH or a usual place); playwright-core never downloads one. */
export function launchChromium(executablePath?: string): Promise<Browser> {
  if (!executablePath) {
    const found = findBrowser();
    if ('problem' in found) throw new Error(`${found.problem}. ${INSTALL_HINT}`);
    executablePath = found.path;
  }
  return chromium.launch({
    executablePath,
    // Headless, and quiet: without the networking flags Chromium keeps calling home.
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** Where screenshots go (gitignored). */
export const ARTIFACTS = path.join(ROOT, 'test-artifacts', 'screenshots');
