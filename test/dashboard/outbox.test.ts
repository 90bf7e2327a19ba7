// The development outbox in a real browser: with no SMTP server configured (as `npm start` on a
// fresh clone), a staff reply becomes a message staff can read on the Outbox page.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createMailTransport, sendDueMail } from '../../src/mail/mail.sender.js';
import { receiveMail } from '../../src/mail/mail.inbound.js';
import { createMailContext } from '../../src/mail/mail.service.js';
import { queueMailFromEvents } from '../../src/mail/mail.worker.js';
import { memoryLog } from '../mail.js';
import { describeInBrowser, startDashboard, type Dashboard } from './harness.js';

const REPLY = 'Fixed: the March export has all 212 invoices again.';

describeInBrowser('the development outbox in Chromium', () => {
  let d: Dashboard;
  beforeAll(async () => (d = await startDashboard()));
  afterAll(async () => d?.close());

  it('shows a staff reply as a readable message', async () => {
    const context = await createMailContext(d.t.config, d.t.db);
    await queueMailFromEvents(d.t.db, context); // what the worker's first round does: start at the end of the feed
    const customer = await d.devToken('customer-acme');
    const staff = await d.devToken('staff');
    const created = await d.api(customer, 'POST', '/api/v1/support/tickets', { title: 'Export is empty', description: 'Only a header row.', type: 'bug' });
    const ticketId = (created.body as { ticket_id: string }).ticket_id;
    expect((await d.api(staff, 'POST', `/api/v1/admin/support/tickets/${ticketId}/comments`, { content: REPLY })).status).toBe(201);
    expect((await d.api(staff, 'POST', `/api/v1/admin/support/tickets/${ticketId}/comments`, { content: 'Internal only', is_internal: true })).status).toBe(201);
    await queueMailFromEvents(d.t.db, context);
    const transport = createMailTransport(d.t.config);
    expect((await sendDueMail(d.t.db, transport, memoryLog())).sent).toBe(1);
    transport.close();

    const page = await d.signIn(/Sam/);
    await page.getByRole('link', { name: 'Outbox' }).click();
    await page.getByRole('heading', { name: 'Outbox (development)' }).waitFor();
    const message = page.getByRole('listitem').filter({ hasText: 'Re: Export is empty' });
    expect(await message.textContent()).toContain('to alice@acme.test');
    await message.locator('summary').click();
    await message.getByText(REPLY).waitFor();
    expect(await page.getByText('Internal only').count()).toBe(0);
    await d.checkPage(page, 'staff-dev-outbox');

    // The customer answers by mail: staff see the comment marked "via e-mail".
    const raw = Buffer.from(`From: alice@acme.test\r\nTo: helpdesk@localhost\r\nSubject: ${'Re: [#1] Re: Export is empty'}\r\n\r\nAll there now, thanks!\r\n`);
    expect(await receiveMail(context, raw, 'http')).toMatchObject({ outcome: 'comment', ticketId });
    await page.goto(`${d.url}/staff/tickets/${ticketId}`);
    const answer = page.locator('article.message').filter({ hasText: 'All there now, thanks!' });
    expect(await answer.locator('.via-email').textContent()).toBe('via e-mail');
    expect(await page.locator('article.message').filter({ hasText: REPLY }).locator('.via-email').count()).toBe(0);

    // Customers have no such page; they choose what they are mailed about.
    const alice = await d.signIn(/Alice/);
    expect(await alice.getByRole('link', { name: 'Outbox' }).count()).toBe(0);
    await alice.getByLabel('E-mail me about my tickets:').selectOption('replies');
    await alice.getByRole('status').filter({ hasText: 'Saved' }).waitFor();
    await d.checkPage(alice, 'portal-mail-preference');
    expect((await d.api(customer, 'GET', '/api/v1/me/mail')).body).toMatchObject({ email: 'replies' });
  });
});
