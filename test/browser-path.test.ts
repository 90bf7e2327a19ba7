// Which browser the dashboard tests drive: CHROMIUM_PATH, and only it when set; else the usual places.
import { readdir, readFile } from 'node:fs/promises';
import { expect, it } from 'vitest';
import { BROWSER_CANDIDATES, findBrowser } from './dashboard/browser-path.js';

it('takes CHROMIUM_PATH when it is an executable file, and names it when it is not', () => {
  expect(findBrowser({ CHROMIUM_PATH: process.execPath })).toEqual({ path: process.execPath });
  expect(findBrowser({ CHROMIUM_PATH: '/nowhere/chromium' })).toEqual({ problem: 'CHROMIUM_PATH=/nowhere/chromium is not an executable file' });
  // A folder is not a browser, even an executable one.
  expect(findBrowser({ CHROMIUM_PATH: '/usr' })).toHaveProperty('problem');
});

it('looks in the usual Linux and macOS places when CHROMIUM_PATH is unset', () => {
  expect(BROWSER_CANDIDATES).toEqual(
    expect.arrayContaining([
      '/usr/bin/chromium',
      '/usr/bin/chromium-browser',
      '/usr/bin/google-chrome',
      '/usr/bin/google-chrome-stable',
      '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
      '/Applications/Chromium.app/Contents/MacOS/Chromium',
    ]),
  );
  const found = findBrowser({});
  if ('path' in found) expect(BROWSER_CANDIDATES).toContain(found.path);
  else expect(found.problem).toContain('no Chromium or Chrome found');
});

it('has every browser test file declare its suites with describeInBrowser, so a missing browser skips them', async () => {
  const folder = new URL('./dashboard/', import.meta.url);
  const files = (await readdir(folder)).filter((name) => name.endsWith('.test.ts'));
  const driving = [];
  for (const name of files) {
    const text = await readFile(new URL(name, folder), 'utf8');
    if (!/startDashboard|launchChromium/.test(text)) continue;
    driving.push(name);
    expect(text, name).toMatch(/^describeInBrowser\(/m);
    expect(text, name).not.toMatch(/^describe(\.\w+)*\(/m);
  }
  expect(driving.length).toBeGreaterThanOrEqual(6);
});
