// Live updates in a real browser: pages change as the desk changes, without a reload. SQLite
// only, like the other browser tests: the streams themselves are tested on both databases in
// src/live/live.routes.test.ts.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeInBrowser, startDashboard, type Dashboard } from './harness.js';

describeInBrowser('live updates in Chromium', () => {
  let d: Dashboard;
  let alice: string;
  let sam: string;

  beforeAll(async () => {
    d = await startDashboard();
    alice = await d.devToken('customer-acme');
    sam = await d.devToken('staff');
    // Sam becomes an assignable agent, as on a real desk.
    await d.api(sam, 'GET', '/api/v1/admin/support/agents');
  });
  afterAll(async () => {
    await d?.close();
  });

  const live = (page: Page) => page.getByRole('status').filter({ hasText: /^Live$/ }).waitFor();
  const newTicket = async (title: string) =>
    (await d.api(alice, 'POST', '/api/v1/support/tickets', { title, description: 'Nothing happens when I click export.', type: 'bug' })).body as { ticket_id: string };

  it('shows the customer a staff reply on her open ticket without a reload, and never an internal note', async () => {
    const { ticket_id: id } = await newTicket('Export does nothing');
    const page = await d.signIn(/Alice/);
    await page.goto(`${d.url}/tickets/${id}`);
    await page.getByRole('heading', { name: 'Export does nothing', level: 1 }).waitFor();
    await live(page);
    // What she is typing stays while the page updates.
    await page.getByLabel('Your reply').fill('Half-written answer');

    const note = 'Refund approved internally, do not tell yet';
    expect((await d.api(sam, 'POST', `/api/v1/admin/support/tickets/${id}/comments`, { content: note, is_internal: true })).status).toBe(201);
    const sent = Date.now();
    expect((await d.api(sam, 'POST', `/api/v1/admin/support/tickets/${id}/comments`, { content: 'We found the bug, a fix ships today.' })).status).toBe(201);
    await page.getByText('We found the bug, a fix ships today.').waitFor();
    process.stdout.write(`live: a staff reply appeared on the customer's page ${Date.now() - sent} ms after it was sent\n`);

    expect(await page.getByText(note).count()).toBe(0);
    expect(await page.content()).not.toContain('Refund approved');
    expect(await page.getByLabel('Your reply').inputValue()).toBe('Half-written answer');
    await d.checkPage(page, 'live-customer-reply');
  });

  it('brings a new ticket into the staff queue without a reload', async () => {
    const page = await d.signIn(/Sam/);
    await page.getByRole('table').waitFor();
    await live(page);
    const created = Date.now();
    await newTicket('Arrived while the queue was open');
    const row = page.locator('tr[data-arrived]').filter({ hasText: 'Arrived while the queue was open' });
    await row.waitFor();
    process.stdout.write(`live: a new ticket entered the staff queue ${Date.now() - created} ms after it was created\n`);
    await d.checkPage(page, 'live-queue-arrival');
  });

  it('shows two agents on one ticket each other', async () => {
    const { ticket_id: id } = await newTicket('Two agents, one customer');
    const samPage = await d.signIn(/Sam/);
    // Kai is not a demo identity: his browser starts with a development session of his own.
    const kaiToken = await d.tokenFor({ id: 'user_kai', email: 'kai@helpdesk.test', org: 'org_helpdesk', isStaff: true });
    const kaiPage = await d.openBrowser();
    const identity = { id: 'kai', name: 'Kai, support staff', user_id: 'user_kai', email: 'kai@helpdesk.test', org_id: 'org_helpdesk', is_staff: true };
    const stored = JSON.stringify({ token: kaiToken, expiresAt: new Date(Date.now() + 3_600_000).toISOString(), identity });
    await kaiPage.evaluate(`sessionStorage.setItem('helpdesk.dev-session', ${JSON.stringify(stored)})`);

    await samPage.goto(`${d.url}/staff/tickets/${id}`);
    await kaiPage.goto(`${d.url}/staff/tickets/${id}`);
    await samPage.getByText('Kai is viewing').waitFor();
    await kaiPage.getByText('Sam is viewing').waitFor();

    await kaiPage.locator('textarea').first().fill('Let me take this one');
    await samPage.getByText('Kai is replying…').waitFor();
    await d.checkPage(samPage, 'live-presence');

    // Kai goes back to the queue: Sam sees him go, well before his announcement would expire.
    await kaiPage.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Queue' }).click();
    await samPage.getByText('Kai is').waitFor({ state: 'detached' });
  });
});
