// Which browser the dashboard tests drive: CHROMIUM_PATH, and only it when set; else the usual places.
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
