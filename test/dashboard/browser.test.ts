// The dashboard in a real browser: the customer portal and the staff console working one ticket,
// end to end, against the real app. SQLite only: the API suites already run on both databases,
// and what this file tests (the pages) does not change with the database.
import fs from 'node:fs/promises';
import path from 'node:path';
import axe from 'axe-core';
import type { AxeResults } from 'axe-core';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../helpers.js';
import { ARTIFACTS, launchChromium } from './dashboard.js';

const TITLE = 'Invoices export as an empty CSV';
const REPLY = 'Thanks! We found the bug and are shipping a fix today.';
const NOTE = 'Caused by the new CSV streamer; refund the March invoice.';

describe('the dashboard in Chromium', () => {
  let t: TestApp;
  let url: string;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  let ticketPath = '';

  beforeAll(async () => {
    await fs.mkdir(ARTIFACTS, { recursive: true });
    // Development sign-in (no Clerk key), as `npm start` runs on a fresh clone.
    t = await buildTestApp('sqlite', { CLERK_JWT_KEY: '' });
    url = await t.app.listen({ host: '127.0.0.1', port: 0 });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  /** A fresh browser (its own session storage), signed in as one of the demo identities. */
  async function signIn(name: RegExp, options: { colorScheme?: 'light' | 'dark'; width?: number } = {}): Promise<Page> {
    const context = await browser.newContext({ colorScheme: options.colorScheme ?? 'light', viewport: { width: options.width ?? 1280, height: 860 } });
    contexts.push(context);
    const page = await context.newPage();
    page.on('pageerror', (error) => {
      throw error;
    });
    await page.goto(url);
    await page.getByRole('button', { name }).click();
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    return page;
  }

  /** No serious or critical axe violation, then a full-page screenshot. */
  async function checkPage(page: Page, name: string): Promise<void> {
    await page.evaluate(axe.source);
    const results = (await page.evaluate('axe.run(document, { resultTypes: ["violations"] })')) as AxeResults;
    const serious = results.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`);
    expect(serious, `${name}: accessibility`).toEqual([]);
    await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
  }

  it('signs in on the development sign-in page', async () => {
    const context = await browser.newContext();
    contexts.push(context);
    const page = await context.newPage();
    await page.goto(url);
    await page.getByRole('heading', { name: 'Sign in to helpdesk' }).waitFor();
    expect(await page.getByRole('button', { name: /, (a customer|support staff)/ }).count()).toBe(3);
    await checkPage(page, 'sign-in');
  });

  it('lets a customer open a ticket, showing the server’s field errors inline, and lists it', async () => {
    const page = await signIn(/Alice/);
    await page.getByRole('heading', { name: 'No tickets yet' }).waitFor();
    await checkPage(page, 'portal-empty');

    await page.getByRole('link', { name: 'New ticket' }).first().click();
    await page.getByRole('button', { name: 'Create ticket' }).click();
    // Nothing filled in: the API's 422 errors[] land next to their fields.
    const title = page.getByLabel('Title');
    await page.locator('#title-error').waitFor();
    expect(await title.getAttribute('aria-invalid')).toBe('true');
    expect(await page.locator('#description-error').textContent()).toBeTruthy();
    await checkPage(page, 'portal-new-ticket-errors');

    await title.fill(TITLE);
    await page.getByRole('radio', { name: /Bug/ }).check();
    await page.getByLabel('Description').fill('Exporting March invoices downloads a CSV with only a header row.');
    await page.getByRole('button', { name: 'Create ticket' }).click();
    await page.getByRole('heading', { name: TITLE, level: 1 }).waitFor();
    ticketPath = new URL(page.url()).pathname;
    expect(ticketPath).toMatch(/^\/tickets\/[0-9a-f-]{36}$/);

    await page.getByRole('link', { name: 'My tickets' }).first().click();
    const row = page.getByRole('row', { name: new RegExp(TITLE) });
    await row.waitFor();
    expect(await row.textContent()).toContain('Open');
    await checkPage(page, 'portal-my-tickets');
  });

  it('does not show the ticket to a customer of another organization', async () => {
    const page = await signIn(/Carol/);
    await page.getByRole('heading', { name: 'No tickets yet' }).waitFor();
    await page.goto(url + ticketPath);
    await page.getByRole('heading', { name: 'Not found' }).waitFor();
    expect(await page.getByText(TITLE).count()).toBe(0);
    await checkPage(page, 'portal-not-found');
  });

  it('lets staff find it unassigned, assign it, set its priority, reply and add an internal note', async () => {
    const page = await signIn(/Sam/);
    await page.getByRole('heading', { name: 'Queue' }).waitFor();
    const row = page.getByRole('row', { name: new RegExp(TITLE) });
    await row.waitFor();
    expect(await row.textContent()).toContain('org_acme');
    await checkPage(page, 'staff-queue');

    // Full-text search finds it by a word of its description.
    await page.getByRole('link', { name: 'All', exact: true }).click();
    await page.getByRole('searchbox', { name: 'Search' }).fill('header row');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await page.getByText('1 ticket', { exact: true }).waitFor();

    await row.getByRole('link', { name: TITLE }).click();
    await page.getByRole('heading', { name: TITLE, level: 1 }).waitFor();
    await page.getByRole('button', { name: 'Assign to me' }).click();
    await page.getByRole('button', { name: 'Assign to me' }).waitFor({ state: 'detached' });
    await page.getByLabel('Priority').selectOption('high');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.locator('.side-panel .badge, header .badge').getByText('High').first().waitFor();

    await page.getByLabel('Reply to the customer').fill(REPLY);
    await page.getByRole('button', { name: 'Send reply' }).click();
    await page.getByText(REPLY).waitFor();

    await page.getByRole('radio', { name: 'Internal note' }).check();
    await page.getByLabel(/Internal note \(only the support team/).fill(NOTE);
    await page.getByRole('button', { name: 'Add internal note' }).click();
    const note = page.getByRole('listitem').filter({ hasText: NOTE });
    await note.waitFor();
    expect(await note.textContent()).toMatch(/Internal note · not visible to the customer/);
    expect(await page.getByRole('listitem').filter({ hasText: REPLY }).textContent()).not.toMatch(/Internal note/);
    await checkPage(page, 'staff-workspace');
    await page.emulateMedia({ colorScheme: 'dark' });
    await checkPage(page, 'staff-workspace-dark');
  });

  it('explains a change refused because someone else changed the ticket first', async () => {
    const page = await signIn(/Sam/);
    await page.goto(url + ticketPath.replace('/tickets/', '/staff/tickets/'));
    await page.getByRole('heading', { name: TITLE, level: 1 }).waitFor();
    // Another agent changes the type while this page still shows the old version.
    const { token } = (await t.app.inject({ method: 'POST', url: '/api/v1/dev/tokens', payload: { identity: 'staff' } })).json<{ token: string }>();
    const other = await t.app.inject({
      method: 'PATCH',
      url: `/api/v1/admin/support${ticketPath}`,
      headers: { authorization: `Bearer ${token}` },
      payload: { type: 'billing' },
    });
    expect(other.statusCode).toBe(200);
    await page.getByLabel('Status').selectOption('in_progress');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByRole('alert').filter({ hasText: 'Someone else changed this ticket' }).waitFor();
    // The panel now shows their change, and nothing of ours was saved.
    expect(await page.getByLabel('Type').inputValue()).toBe('billing');
    expect(await page.getByLabel('Status').inputValue()).toBe('open');
  });

  it('shows the customer the reply and the history, never the note, and lets them close the ticket', async () => {
    const page = await signIn(/Alice/);
    await page.goto(url + ticketPath);
    await page.getByText(REPLY).waitFor();
    expect(await page.getByRole('listitem').filter({ hasText: REPLY }).textContent()).toContain('Support team');
    const history = page.getByRole('region', { name: 'History' });
    expect(await history.textContent()).toMatch(/Priority: Normal → High/);
    expect(await page.content()).not.toContain(NOTE);
    await checkPage(page, 'portal-ticket');

    await page.getByRole('button', { name: 'Close ticket' }).click();
    const dialog = page.getByRole('dialog', { name: 'Close this ticket?' });
    await dialog.waitFor();
    await dialog.getByRole('button', { name: 'Close ticket' }).click();
    await page.getByText('This ticket is closed.').waitFor();
    expect(await page.getByRole('heading', { level: 1 }).locator('..').textContent()).toContain('Closed');
    expect(await page.getByLabel('Your reply').count()).toBe(0);
    await page.emulateMedia({ colorScheme: 'dark' });
    await checkPage(page, 'portal-ticket-closed-dark');
  });

  it('shows staff the queue counts and response times', async () => {
    const page = await signIn(/Sam/);
    await page.getByRole('link', { name: 'Stats' }).click();
    const firstResponse = page.getByRole('definition').filter({ hasText: 'over 1 tickets' }).first();
    await firstResponse.waitFor();
    expect(await page.getByRole('table', { name: 'By status' }).textContent()).toMatch(/Closed1/);
    await checkPage(page, 'staff-stats');
  });

  it('fits a phone’s width', async () => {
    const page = await signIn(/Sam/, { width: 390 });
    await page.getByRole('link', { name: 'All', exact: true }).click();
    await page.getByRole('link', { name: TITLE }).waitFor();
    expect(await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth')).toBe(true);
    await checkPage(page, 'staff-queue-phone');
  });

  it('says so when the server cannot be reached, and recovers on retry', async () => {
    const page = await signIn(/Alice/);
    await page.getByRole('row', { name: new RegExp(TITLE) }).waitFor();
    await page.route('**/api/v1/support/tickets?**', (route) => route.abort('internetdisconnected'));
    await page.reload();
    await page.getByRole('heading', { name: 'Cannot reach the server' }).waitFor();
    await checkPage(page, 'portal-network-error');
    await page.unroute('**/api/v1/support/tickets?**');
    await page.getByRole('button', { name: 'Try again' }).click();
    await page.getByRole('row', { name: new RegExp(TITLE) }).waitFor();
  });
});
