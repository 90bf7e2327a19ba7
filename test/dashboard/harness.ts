// What the browser test files share: the real app on a port (development sign-in, as `npm start`
// runs on a fresh clone), one Chromium, fresh browser contexts signed in as the demo people, and
// checkPage (no script errors, axe clean, a screenshot).
import fs from 'node:fs/promises';
import path from 'node:path';
import axe from 'axe-core';
import type { AxeResults } from 'axe-core';
import type { Browser, Page } from 'playwright-core';
import { describe, expect, inject } from 'vitest';
import { loadOrCreateDevKeys, signDevToken } from '../../src/http/dev-keys.js';
import { buildTestApp, DEVELOPMENT_SIGN_IN, type TestApp } from '../helpers.js';
import { ARTIFACTS, launchChromium } from './dashboard.js';

/**
 * `describe` for a file that drives the browser: skipped when the global setup found none (locally;
 * in CI a missing browser fails the run there), so such a file is reported skipped, never failed.
 */
export const describeInBrowser = describe.skipIf(!inject('browserPath'));

export interface BrowserOptions {
  colorScheme?: 'light' | 'dark';
  width?: number;
  height?: number;
}

export interface Dashboard {
  t: TestApp;
  url: string;
  browser: Browser;
  /** A fresh browser (its own storage) on the sign-in page, recording its page errors. */
  openBrowser(options?: BrowserOptions): Promise<Page>;
  /** A fresh browser, signed in as one of the demo identities. */
  signIn(name: RegExp, options?: BrowserOptions): Promise<Page>;
  /** No uncaught script error so far, no serious or critical axe violation, then a full-page screenshot. */
  checkPage(page: Page, name: string): Promise<void>;
  /** A development token for a demo identity ('customer-acme', 'customer-globex', 'staff'). */
  devToken(identity: string): Promise<string>;
  /** A development token for anyone, e.g. a second agent the demo identities do not have. */
  tokenFor(user: { id: string; email: string; org?: string; isStaff?: boolean }): Promise<string>;
  /** An API call with a bearer token, through the app (not the browser). */
  api(token: string, method: 'GET' | 'POST' | 'PATCH', url: string, payload?: object): Promise<{ status: number; body: unknown; headers: Record<string, unknown> }>;
  close(): Promise<void>;
}

/** `env` is added to the app's configuration (e.g. to let webhooks reach a receiver on loopback). */
export async function startDashboard(env: Record<string, string> = {}): Promise<Dashboard> {
  await fs.mkdir(ARTIFACTS, { recursive: true });
  // No rate limit: a file of browser tests signs the same demo agent in again and again (rate limits have their own tests).
  const t = await buildTestApp('sqlite', { ...DEVELOPMENT_SIGN_IN, HELPDESK_RATE_LIMIT: '0', ...env });
  const url = await t.app.listen({ host: '127.0.0.1', port: 0 });
  const browser = await launchChromium(inject('browserPath') ?? undefined);
  // Uncaught errors in each page's scripts, checked by checkPage (a listener that throws would only crash the runner).
  const pageErrors = new Map<Page, Error[]>();

  async function openBrowser(options: BrowserOptions = {}): Promise<Page> {
    const context = await browser.newContext({
      colorScheme: options.colorScheme ?? 'light',
      viewport: { width: options.width ?? 1280, height: options.height ?? 860 },
    });
    const page = await context.newPage();
    const errors: Error[] = [];
    pageErrors.set(page, errors);
    page.on('pageerror', (error) => errors.push(error));
    await page.goto(url);
    return page;
  }

  async function signIn(name: RegExp, options: BrowserOptions = {}): Promise<Page> {
    const page = await openBrowser(options);
    await page.getByRole('button', { name }).click();
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    return page;
  }

  async function checkPage(page: Page, name: string): Promise<void> {
    expect((pageErrors.get(page) ?? []).map((e) => e.message), `${name}: page errors`).toEqual([]);
    await page.evaluate(axe.source);
    const results = (await page.evaluate('axe.run(document, { resultTypes: ["violations"] })')) as AxeResults;
    const serious = results.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`);
    expect(serious, `${name}: accessibility`).toEqual([]);
    await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
  }

  async function devToken(identity: string): Promise<string> {
    return (await t.app.inject({ method: 'POST', url: '/api/v1/dev/tokens', payload: { identity } })).json<{ token: string }>().token;
  }

  async function tokenFor(user: { id: string; email: string; org?: string; isStaff?: boolean }): Promise<string> {
    const keys = await loadOrCreateDevKeys(t.dir);
    // Signed as the server's own development sign-in signs them (its issuer and audience, when set).
    const { issuer, authorizedParties } = t.config.auth;
    return signDevToken(keys, { userId: user.id, email: user.email, orgId: user.org, isStaff: user.isStaff, issuer, authorizedParty: authorizedParties[0] });
  }

  async function api(token: string, method: 'GET' | 'POST' | 'PATCH', apiUrl: string, payload?: object) {
    const res = await t.app.inject({
      method,
      url: apiUrl,
      headers: { authorization: `Bearer ${token}` },
      ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
    });
    return { status: res.statusCode, body: res.body ? (JSON.parse(res.body) as unknown) : undefined, headers: res.headers };
  }

  return {
    t,
    url,
    browser,
    openBrowser,
    signIn,
    checkPage,
    devToken,
    tokenFor,
    api,
    async close() {
      await browser.close();
      await t.close();
    },
  };
}
