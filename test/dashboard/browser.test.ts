// The dashboard in a real browser: the customer portal and the staff console working one ticket,
// end to end, against the real app. SQLite only: the API suites already run on both databases,
// and what this file tests (the pages) does not change with the database.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeInBrowser, startDashboard, type BrowserOptions, type Dashboard } from './harness.js';

const TITLE = 'Invoices export as an empty CSV';
const REPLY = 'Thanks! We found the bug and are shipping a fix today.';
const NOTE = 'Caused by the new CSV streamer; refund the March invoice.';

describeInBrowser('the dashboard in Chromium', () => {
  let d: Dashboard;
  let url: string;
  let ticketPath = '';

  beforeAll(async () => {
    d = await startDashboard();
    url = d.url;
  });

  afterAll(async () => {
    await d?.close();
  });

  const openBrowser = (options?: BrowserOptions): Promise<Page> => d.openBrowser(options);
  const signIn = (name: RegExp, options?: BrowserOptions): Promise<Page> => d.signIn(name, options);
  const checkPage = (page: Page, name: string): Promise<void> => d.checkPage(page, name);

  it('signs in on the development sign-in page', async () => {
    const page = await openBrowser();
    await page.getByRole('heading', { name: 'Sign in to helpdesk' }).waitFor();
    expect(await page.getByRole('button', { name: /, (a customer|support staff)/ }).count()).toBe(3);
    await checkPage(page, 'sign-in');
  });

  it('lets a customer open a ticket, saying what is missing next to each field, and lists it', async () => {
    const page = await signIn(/Alice/);
    await page.getByRole('heading', { name: 'No tickets yet' }).waitFor();
    await checkPage(page, 'portal-empty');

    await page.getByRole('link', { name: 'New ticket' }).first().click();
    await page.getByRole('button', { name: 'Create ticket' }).click();
    // Nothing filled in: each field says what it needs, in words.
    const title = page.getByLabel('Title');
    await page.locator('#title-error').waitFor();
    expect(await title.getAttribute('aria-invalid')).toBe('true');
    expect(await page.locator('#title-error').textContent()).toBe('Please give your ticket a title');
    expect(await page.locator('#description-error').textContent()).toBe('Please describe what happened');
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
    await page.getByRole('heading', { name: 'Ticket not found' }).waitFor();
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
    expect(await page.locator('.queue-count').getByText('1 ticket', { exact: true }).count()).toBe(1);

    await row.getByRole('link', { name: TITLE }).click();
    await page.getByRole('heading', { name: TITLE, level: 1 }).waitFor();
    await page.getByRole('button', { name: 'Assign to me' }).click();
    await page.getByRole('button', { name: 'Assign to me' }).waitFor({ state: 'detached' });
    await page.getByRole('status').filter({ hasText: 'Assigned to you.' }).waitFor();
    // Triage is saved as it is chosen: no save button, the badge follows.
    await page.getByLabel('Priority').selectOption('high');
    await page.locator('.page-head .badge').getByText('High').waitFor();
    expect(await page.getByRole('button', { name: /Save/ }).count()).toBe(0);

    const replyBox = page.getByLabel('Reply to the customer');
    await replyBox.fill(REPLY);
    await page.getByRole('button', { name: 'Send reply' }).click();
    // The reply in the conversation, not the text still in the box.
    await page.getByRole('listitem').filter({ hasText: REPLY }).waitFor();
    await expect.poll(() => replyBox.inputValue(), { timeout: 10_000 }).toBe('');
    expect(await page.getByLabel('Priority').inputValue()).toBe('high');

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

  it('explains a change refused because someone else changed the ticket first, naming them', async () => {
    const page = await signIn(/Sam/);
    // A page whose live stream is down (a proxy that buffers, a dropped connection): live updates
    // would otherwise show the other agent's change before this one is tried.
    await page.route('**/events/stream**', (route) => route.abort());
    await page.goto(url + ticketPath.replace('/tickets/', '/staff/tickets/'));
    await page.getByRole('heading', { name: TITLE, level: 1 }).waitFor();
    // Another agent changes the type while this page still shows the old version.
    const kai = await d.tokenFor({ id: 'user_kai', email: 'kai@helpdesk.test', isStaff: true });
    const other = await d.api(kai, 'PATCH', `/api/v1/admin/support${ticketPath}`, { type: 'billing' });
    expect(other.status).toBe(200);
    await page.getByLabel('Status').selectOption('in_progress');
    const alert = page.getByRole('alert').filter({ hasText: 'was not saved' });
    await alert.waitFor();
    expect(await alert.textContent()).toMatch(/Your change \(status set to In progress\) was not saved.*Kai changed type to Billing/);
    // The panel shows their change, and nothing of ours was saved.
    await expect
      .poll(async () => [await page.getByLabel('Type').inputValue(), await page.getByLabel('Status').inputValue()], { timeout: 10_000 })
      .toEqual(['billing', 'open']);
    await checkPage(page, 'staff-workspace-conflict');
    // Keeping theirs leaves the ticket as it is (the customer's part below closes it from Open).
    await alert.getByRole('button', { name: 'Keep theirs' }).click();
    await alert.waitFor({ state: 'detached' });
    expect(await page.getByLabel('Status').inputValue()).toBe('open');
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

  it('shows an error about the request as a whole above the form, in words, not as “fields marked below”', async () => {
    const page = await signIn(/Alice/);
    await page.getByRole('link', { name: 'New ticket' }).first().click();
    // An answer about the body as a whole, naming no field of the form.
    await page.route('**/api/v1/support/tickets', (route) =>
      route.fulfill({
        status: 422,
        contentType: 'application/problem+json',
        body: JSON.stringify({ title: 'Unprocessable Entity', status: 422, detail: 'validation failed', errors: [{ location: 'body', message: 'expected object' }] }),
      }),
    );
    await page.getByLabel('Title').fill('Anything');
    await page.getByLabel('Description').fill('Anything at all.');
    await page.getByRole('button', { name: 'Create ticket' }).click();
    const alert = page.getByRole('alert');
    await alert.waitFor();
    expect(await alert.textContent()).toBe('Something this form sent was not accepted. Please reload the page and try again.');
    expect(await page.locator('[aria-invalid="true"]').count()).toBe(0);
    await page.unroute('**/api/v1/support/tickets');
  });

  it('puts the server’s field errors next to their fields in people’s words', async () => {
    const page = await signIn(/Alice/);
    await page.getByRole('link', { name: 'New ticket' }).first().click();
    // What the API answers for a missing title: the body as the location, the property named in the message.
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
    await page.getByLabel('Title').fill('Export');
    await page.getByLabel('Description').fill('Short enough here.');
    await page.getByRole('button', { name: 'Create ticket' }).click();
    await page.locator('#title-error').waitFor();
    expect(await page.locator('#title-error').textContent()).toBe('Please give your ticket a title');
    expect(await page.getByLabel('Title').getAttribute('aria-invalid')).toBe('true');
    expect(await page.locator('#description-error').count()).toBe(0);
    expect(await page.getByRole('alert').textContent()).toBe('Please correct the fields marked below.');
    expect(await page.locator('main').textContent()).not.toMatch(/expected|property/);
    await page.unroute('**/api/v1/support/tickets');
  });
});
