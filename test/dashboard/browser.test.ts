// The dashboard in a real browser: the customer portal and the staff console working one ticket,
// end to end, against the real app. SQLite only: the API suites already run on both databases,
// and what this file tests (the pages) does not change with the database.
import fs from 'node:fs/promises';
import path from 'node:path';
import axe from 'axe-core';
import type { AxeResults } from 'axe-core';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, DEVELOPMENT_SIGN_IN, type TestApp } from '../helpers.js';
import { ARTIFACTS, launchChromium } from './dashboard.js';

const TITLE = 'Invoices export as an empty CSV';
const REPLY = 'Thanks! We found the bug and are shipping a fix today.';
const NOTE = 'Caused by the new CSV streamer; refund the March invoice.';

describe('the dashboard in Chromium', () => {
  let t: TestApp;
  let url: string;
  let browser: Browser;
  let ticketPath = '';
  // Uncaught errors in each page's scripts, checked by checkPage (a listener that throws would only crash the runner).
  const pageErrors = new Map<Page, Error[]>();

  beforeAll(async () => {
    await fs.mkdir(ARTIFACTS, { recursive: true });
    // Development sign-in (no Clerk key), as `npm start` runs on a fresh clone.
    t = await buildTestApp('sqlite', DEVELOPMENT_SIGN_IN);
    url = await t.app.listen({ host: '127.0.0.1', port: 0 });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  /** A fresh browser (its own session storage) on the sign-in page, recording its page errors. */
  async function openBrowser(options: { colorScheme?: 'light' | 'dark'; width?: number } = {}): Promise<Page> {
    const context = await browser.newContext({ colorScheme: options.colorScheme ?? 'light', viewport: { width: options.width ?? 1280, height: 860 } });
    const page = await context.newPage();
    const errors: Error[] = [];
    pageErrors.set(page, errors);
    page.on('pageerror', (error) => errors.push(error));
    await page.goto(url);
    return page;
  }

  /** A fresh browser, signed in as one of the demo identities. */
  async function signIn(name: RegExp, options: { colorScheme?: 'light' | 'dark'; width?: number } = {}): Promise<Page> {
    const page = await openBrowser(options);
    await page.getByRole('button', { name }).click();
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    return page;
  }

  /** No uncaught script error so far, no serious or critical axe violation, then a full-page screenshot. */
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

  it('signs in on the development sign-in page', async () => {
    const page = await openBrowser();
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

    // Full-text search: words in no ticket empty the list, a word of its description finds it again.
    await page.getByRole('link', { name: 'All', exact: true }).click();
    const search = page.getByRole('searchbox', { name: 'Search' });
    await search.fill('quarterly kangaroo');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await page.waitForURL(/[?&]q=quarterly\+kangaroo(&|$)/);
    await page.getByRole('heading', { name: 'No tickets here' }).waitFor();
    expect(await row.count()).toBe(0);
    await search.fill('header row');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await page.waitForURL(/[?&]q=header\+row(&|$)/);
    await row.waitFor();
    expect(await page.getByText('1 ticket', { exact: true }).count()).toBe(1);

    await row.getByRole('link', { name: TITLE }).click();
    await page.getByRole('heading', { name: TITLE, level: 1 }).waitFor();
    await page.getByRole('button', { name: 'Assign to me' }).click();
    await page.getByRole('button', { name: 'Assign to me' }).waitFor({ state: 'detached' });
    // A triage change not saved yet survives the ticket being fetched again after a reply.
    await page.getByLabel('Priority').selectOption('high');

    const replyBox = page.getByLabel('Reply to the customer');
    await replyBox.fill(REPLY);
    await page.getByRole('button', { name: 'Send reply' }).click();
    // The reply in the conversation, not the text still in the box.
    await page.getByRole('listitem').filter({ hasText: REPLY }).waitFor();
    await expect.poll(() => replyBox.inputValue(), { timeout: 10_000 }).toBe('');
    expect(await page.getByLabel('Priority').inputValue()).toBe('high');
    expect(await page.locator('.side-panel .badge, header .badge').getByText('High').count()).toBe(0);
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.locator('.side-panel .badge, header .badge').getByText('High').first().waitFor();
    await expect.poll(() => page.getByRole('button', { name: 'Save changes' }).isDisabled(), { timeout: 10_000 }).toBe(true);

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
    // The panel shows their change, and nothing of ours was saved (polled: the reload and the message are separate renders).
    await expect
      .poll(async () => [await page.getByLabel('Type').inputValue(), await page.getByLabel('Status').inputValue()], { timeout: 10_000 })
      .toEqual(['billing', 'open']);
    expect(await page.getByRole('button', { name: 'Save changes' }).isDisabled()).toBe(true);
  });

  it('shows the customer the reply and the history, never the note, and lets them close the ticket', async () => {
    const page = await signIn(/Alice/);
    await page.goto(url + ticketPath);
    await page.getByText(REPLY).waitFor();
    expect(await page.getByRole('listitem').filter({ hasText: REPLY }).textContent()).toContain('Support team');
    const history = page.getByRole('region', { name: 'History' });
    expect(await history.textContent()).toMatch(/Priority: Normal → High by a support agent/);
    // Replies, assignees and changes alike: a customer never sees an agent's email.
    expect(await page.locator('main').textContent()).not.toContain('sam@helpdesk.test');
    expect(await page.content()).not.toContain(NOTE);
    await checkPage(page, 'portal-ticket');

    await page.getByRole('button', { name: 'Close ticket' }).click();
    const dialog = page.getByRole('dialog', { name: 'Close this ticket?' });
    await dialog.waitFor();
    await dialog.getByRole('button', { name: 'Close ticket' }).click();
    await page.getByText('This ticket is closed.').waitFor();
    expect(await history.textContent()).toMatch(/Status: Open → Closed by you/);
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
  it('signs out, saying why, when the server stops accepting the session', async () => {
    const page = await signIn(/Alice/);
    await page.getByRole('row', { name: new RegExp(TITLE) }).waitFor();
    // As after the server's development key changed: the stored token no longer verifies.
    await page.evaluate(`(() => {
      const stored = JSON.parse(sessionStorage.getItem('helpdesk.dev-session'));
      sessionStorage.setItem('helpdesk.dev-session', JSON.stringify({ ...stored, token: stored.token.slice(0, -8) + 'AAAAAAAA' }));
    })()`);
    await page.reload();
    await page.getByRole('heading', { name: 'Sign in to helpdesk' }).waitFor();
    expect(await page.getByRole('status').filter({ hasText: 'Your session has ended' }).count()).toBe(1);
    expect(await page.getByText('Something went wrong').count()).toBe(0);
    await checkPage(page, 'sign-in-session-ended');
    // Signing in again works, and the message goes away.
    await page.getByRole('button', { name: /Alice/ }).click();
    await page.getByRole('row', { name: new RegExp(TITLE) }).waitFor();
    expect(await page.getByText('Your session has ended').count()).toBe(0);
  });

  it('falls back to the defaults for page, sort, filter and window parameters the API would refuse', async () => {
    const page = await signIn(/Sam/);
    await page.goto(`${url}/staff/queue?view=all&page=-1&sort=bogus&status=nope&priority=extreme`);
    await page.getByRole('link', { name: TITLE }).waitFor();
    expect(await page.getByLabel('Sort').inputValue()).toBe('-updated_at');
    await page.goto(`${url}/staff/stats?days=13`);
    await page.getByRole('table', { name: 'By status' }).waitFor();
    expect(await page.getByLabel('Response times over').inputValue()).toBe('30');
    expect(await page.getByRole('alert').count()).toBe(0);
    await checkPage(page, 'staff-stats-odd-link');

    const customer = await signIn(/Alice/);
    await customer.goto(`${url}/tickets?page=x&status=gone&type=1`);
    await customer.getByRole('link', { name: TITLE }).waitFor();
    expect(await customer.getByRole('alert').count()).toBe(0);
  });

  it('shows an error about the request as a whole above the form, not as “fields marked below”', async () => {
    const page = await signIn(/Alice/);
    await page.getByRole('link', { name: 'New ticket' }).first().click();
    // What the API answers when the body lacks a property: location "body", not "body.<field>".
    await page.route('**/api/v1/support/tickets', (route) =>
      route.fulfill({
        status: 422,
        contentType: 'application/problem+json',
        body: JSON.stringify({
          title: 'Unprocessable Entity',
          status: 422,
          detail: 'validation failed',
          errors: [{ location: 'body', message: 'expected required property title to be present' }],
        }),
      }),
    );
    await page.getByLabel('Title').fill('Anything');
    await page.getByLabel('Description').fill('Anything at all.');
    await page.getByRole('button', { name: 'Create ticket' }).click();
    const alert = page.getByRole('alert');
    await alert.waitFor();
    expect(await alert.textContent()).toBe('expected required property title to be present');
    expect(await page.locator('[aria-invalid="true"]').count()).toBe(0);
    await page.unroute('**/api/v1/support/tickets');
  });
});
