import fs from 'node:fs';

/** Where a Chromium or Google Chrome usually lives, after CHROMIUM_PATH: Debian, Ubuntu, Fedora, macOS. */
export const BROWSER_CANDIDATES = [
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/usr/bin/google-chrome',
  '/usr/bin/google-chrome-stable',
  '/snap/bin/chromium',
  '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
  '/Applications/Chromium.app/Contents/MacOS/Chromium',
];

export const INSTALL_HINT =
  'Install one (Debian/Ubuntu: `sudo apt-get install chromium`; macOS: Google Chrome in /Applications) or set CHROMIUM_PATH to its executable.';

function executable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/**
 * The browser the dashboard tests drive: CHROMIUM_PATH when set (and only it, so a wrong path is reported
 * rather than silently replaced), else the first usual place that has one. playwright-core never downloads one.
 */
export function findBrowser(env: NodeJS.ProcessEnv = process.env): { path: string } | { problem: string } {
  const chosen = env.CHROMIUM_PATH;
  if (chosen) return executable(chosen) ? { path: chosen } : { problem: `CHROMIUM_PATH=${chosen} is not an executable file` };
  const found = BROWSER_CANDIDATES.find(executable);
  return found ? { path: found } : { problem: `no Chromium or Chrome found (CHROMIUM_PATH is unset; looked in ${BROWSER_CANDIDATES.join(', ')})` };
}
