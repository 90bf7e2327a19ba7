// An agent's day and a customer's view in a real browser: the keyboard workflow, drafts, triage
// conflicts, long threads, Markdown, messages in people's words, titles and focus, and the phone.
// SQLite only, like browser.test.ts: what is tested here is the pages.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeInBrowser, startDashboard, type Dashboard } from './harness.js';

interface Ticket {
  ticket_id: string;
  number: number;
  unread: boolean;
  title: string;
  status: string;
  priority: string;
  assigned_to: string | null;
  comments: Array<{ content: string; author_type: string; is_internal: boolean }>;
}

const ADMIN = '/api/v1/admin/support/tickets';

describeInBrowser('the agent’s day and the customer’s view', () => {
  let d: Dashboard;
  let alice: string;
  let sam: string;

  beforeAll(async () => {
    d = await startDashboard();
    alice = await d.devToken('customer-acme');
    sam = await d.devToken('staff');
  });

  afterAll(async () => {
    await d?.close();
  });

  async function createTicket(title: string, description = 'Something does not work.'): Promise<string> {
    const res = await d.api(alice, 'POST', '/api/v1/support/tickets', { title, description, type: 'bug' });
    expect(res.status).toBe(201);
    return (res.body as Ticket).ticket_id;
  }

  async function staffTicket(id: string): Promise<Ticket> {
    return ((await d.api(sam, 'GET', `${ADMIN}/${id}`)).body as { ticket: Ticket }).ticket;
  }

  /** Where keyboard focus is: the focused element's tag, id and accessible text. */
  const focused = (page: Page) =>
    page.evaluate('({ tag: document.activeElement?.tagName, id: document.activeElement?.id, text: document.activeElement?.textContent })') as Promise<{
      tag?: string;
      id?: string;
      text?: string;
    }>;

  it('triages three tickets with the keyboard alone: open, assign to me, reply with Ctrl+Enter, next', async () => {
    const titles = ['Keyboard one: export fails', 'Keyboard two: login loops', 'Keyboard three: charts blank'];
    const ids: string[] = [];
    for (const title of titles) ids.push(await createTicket(title));
    const page = await d.signIn(/Sam/, { width: 1440, height: 900 });
    await page.getByRole('link', { name: titles[2] }).waitFor();
    await d.checkPage(page, 'agent-queue');

    // Longest waiting first in Unassigned: j selects the first row, Enter opens it.
    await page.keyboard.press('j');
    expect((await focused(page)).text).toBe(titles[0]);
    await page.keyboard.press('j');
    await page.keyboard.press('k');
    expect((await focused(page)).text).toBe(titles[0]);
    await page.keyboard.press('Enter');

    for (const [step, title] of titles.entries()) {
      const heading = page.getByRole('heading', { name: title, level: 1 });
      await heading.waitFor();
      // Focus moved to the new page's heading.
      await expect.poll(async () => (await focused(page)).text).toBe(title);
      await page.keyboard.press('a');
      await page.getByRole('status').filter({ hasText: 'Assigned to you.' }).waitFor();
      await page.keyboard.press('r');
      await expect.poll(async () => (await focused(page)).id).toBe('reply-content');
      // Letters that are shortcuts elsewhere are only text in the box.
      const reply = `Reply ${step + 1}: just a quick check [j/k/a/r/?] and we are on it.`;
      await page.keyboard.type(reply);
      expect(await page.getByLabel('Reply to the customer').inputValue()).toBe(reply);
      await page.keyboard.press('Control+Enter');
      await page.getByRole('listitem').filter({ hasText: reply }).waitFor();
      await expect.poll(() => page.getByLabel('Reply to the customer').inputValue()).toBe('');
      if (step < 2) {
        // Escape leaves the box, then ] goes to the next ticket of the queue the agent came from.
        await page.keyboard.press('Escape');
        await page.keyboard.press(']');
      }
    }
    // The last ticket of the queue: ] says so instead of going anywhere.
    await page.keyboard.press('Escape');
    await page.keyboard.press(']');
    await page.getByRole('status').filter({ hasText: 'That was the last ticket in Unassigned.' }).waitFor();

    for (const [i, id] of ids.entries()) {
      const ticket = await staffTicket(id);
      expect(ticket.assigned_to, titles[i]).toBe('user_sam');
      expect(ticket.comments.map((c) => c.content)).toEqual([`Reply ${i + 1}: just a quick check [j/k/a/r/?] and we are on it.`]);
    }
    await d.checkPage(page, 'agent-workspace-after-keyboard');
  });

  it('shows the queue one line per ticket across the screen, with the columns the view needs and one Tab stop per row', async () => {
    for (let i = 1; i <= 24; i++) await createTicket(`Dense queue ${String(i).padStart(2, '0')}: a title long enough to need some of the line`);
    const page = await d.signIn(/Sam/, { width: 1440, height: 900 });
    const rows = page.locator('table.queue tbody tr');
    await page.getByRole('link', { name: /^Dense queue 24/ }).waitFor();
    const boxes = await rows.evaluateAll((trs) => trs.map((tr) => tr.getBoundingClientRect().toJSON() as { top: number; bottom: number; height: number }));
    // One line each (no cell wraps), and at least fifteen whole rows on the first screen.
    expect(Math.max(...boxes.map((b) => b.height))).toBeLessThan(40);
    expect(boxes.filter((b) => b.bottom <= 900).length).toBeGreaterThanOrEqual(15);
    expect((await page.locator('table.queue').boundingBox())?.width).toBeGreaterThan(1300);

    // Unassigned: not the assignee (the view says it), but how long each has waited; All: the assignee too.
    const headers = () => page.locator('table.queue thead th').allTextContents();
    expect(await headers()).toEqual(['#', 'Title', 'Waiting', 'Type', 'Requester', 'Tenant', 'Priority', 'Status', 'Replies', 'Updated']);
    const first = rows.filter({ hasText: 'Dense queue 01' });
    const updated = first.locator('td[data-label="Updated"] time');
    expect(await updated.textContent()).toMatch(/^(just now|\d+ s ago|\d+ min ago)$/);
    expect(await updated.getAttribute('title')).toMatch(/\d{1,2}:\d{2}:\d{2}.*\b([A-Z]{2,5}|GMT[+-][\d:]+)$/);
    // Whose move and for how long, and the last message after the title.
    expect(await first.locator('td[data-label="Waiting"]').textContent()).toMatch(/^Needs reply · (under 1 min|\d+ min)$/);
    expect(await first.locator('.last-message').textContent()).toBe('Alice: Something does not work.');
    expect(await first.locator('td[data-label="Number"]').textContent()).toMatch(/^#\d+$/);
    await page.getByRole('link', { name: 'All', exact: true }).click();
    await expect.poll(headers).toEqual(['#', 'Title', 'Waiting', 'Type', 'Requester', 'Tenant', 'Priority', 'Status', 'Assignee', 'Replies', 'Updated']);

    // Tab goes from one ticket to the next: nothing else in a row takes a stop. Tried until the
    // view's rows have settled: a row replaced between the focus and the Tab (the All view's
    // list arriving, a live update) drops the focus to the page, which a person would not see.
    await expect
      .poll(async () => {
        await page.getByRole('link', { name: /^Dense queue 24/ }).focus();
        await page.keyboard.press('Tab');
        return (await focused(page)).text;
      })
      .toMatch(/^Dense queue 23/);
  });

  it('puts the longest-waiting ticket first, follows a customer reply to “needs reply” and unread, and reads it on opening', async () => {
    // The older ticket waits longest; the newer one was touched last (a staff-only change keeps its wait).
    const older = await createTicket('Zeppelin one: the first to ask');
    const newer = await createTicket('Zeppelin two: asked later, touched last');
    expect((await d.api(sam, 'PATCH', `${ADMIN}/${newer}`, { priority: 'high' })).status).toBe(200);
    const page = await d.signIn(/Sam/, { width: 1440, height: 900 });
    await page.goto(`${d.url}/staff/queue?q=zeppelin`);
    const rows = page.locator('table.queue tbody tr');
    await rows.nth(1).waitFor();
    expect(await rows.locator('.title-cell a').allTextContents()).toEqual(['Zeppelin one: the first to ask', 'Zeppelin two: asked later, touched last']);
    expect(await page.getByLabel('Sort').inputValue()).toBe('waiting_since');

    // The tabs count their tickets, as the API does.
    const unassigned = (await d.api(sam, 'GET', `${ADMIN}?assigned_to=none&status=open&status=in_progress&limit=1`)).body as { total: number };
    await page.getByRole('link', { name: 'Mine' }).click();
    await expect.poll(() => page.locator('#count-unassigned').textContent()).toBe(`${unassigned.total} tickets`);
    expect(await page.getByRole('link', { name: 'Unassigned' }).getAttribute('aria-describedby')).toBe('count-unassigned');

    // Sam takes the older one and answers: now the customer's move. Never opened by Sam, it is unread for him.
    await d.api(sam, 'PATCH', `${ADMIN}/${older}`, { assigned_to: 'user_sam' });
    await d.api(sam, 'POST', `${ADMIN}/${older}/comments`, { content: 'Which browser do you use?' });
    await page.reload();
    const row = page.getByRole('row', { name: /Zeppelin one/ });
    await row.waitFor();
    expect(await row.locator('td[data-label="Waiting"]').textContent()).toMatch(/^On customer · /);
    expect(await row.locator('.last-message').textContent()).toBe('Support: Which browser do you use?');
    expect(await row.getByText('Unread:').count()).toBe(1);

    // u, once the ticket's page is up (focus on its heading), goes back to the queue it came from.
    const backToQueue = async () => {
      await expect.poll(async () => (await focused(page)).tag).toBe('H1');
      await page.keyboard.press('u');
      await page.waitForURL(/\/staff\/queue\?view=/);
    };

    // Opening it reads it: the mark is gone from the queue, and for Sam in the API.
    const open = async () => {
      await page.getByRole('link', { name: 'Zeppelin one: the first to ask' }).click();
      await page.getByRole('heading', { name: 'Zeppelin one: the first to ask', level: 1 }).waitFor();
      await expect.poll(async () => (await staffTicket(older)).unread).toBe(false);
      await backToQueue();
      await row.waitFor();
      await expect.poll(() => row.locator('.unread-mark').count()).toBe(0);
    };
    await open();

    // The customer answers: the team's move again, and unread for Sam, here and in Needs reply.
    await d.api(alice, 'POST', `/api/v1/support/tickets/${older}/comments`, { content: 'Firefox, on a Mac.' });
    await page.reload();
    await row.waitFor();
    expect(await row.locator('td[data-label="Waiting"]').textContent()).toMatch(/^Needs reply · /);
    expect(await row.locator('.last-message').textContent()).toBe('Alice: Firefox, on a Mac.');
    expect(await row.getByText('Unread:').count()).toBe(1);
    await d.checkPage(page, 'agent-queue-unread');
    await page.getByRole('link', { name: 'Needs reply' }).click();
    await row.locator('.unread-mark').waitFor();
    await page.getByRole('link', { name: 'Zeppelin one: the first to ask' }).click();
    await page.getByRole('heading', { name: 'Zeppelin one: the first to ask', level: 1 }).waitFor();
    const number = (await staffTicket(older)).number;
    expect(await page.locator('.meta .ticket-number').textContent()).toBe(`#${number}`);
    expect(await page.locator('.page-head .wait').textContent()).toMatch(/^Needs reply · /);
    await expect.poll(async () => (await staffTicket(older)).unread).toBe(false);
    await backToQueue();
    await row.waitFor();
    await expect.poll(() => row.locator('.unread-mark').count()).toBe(0);

    // Its number finds it.
    await page.getByRole('searchbox', { name: 'Search' }).fill(`#${number}`);
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await page.waitForURL(new RegExp(`[?&]q=%23${number}(&|$)`));
    await expect.poll(() => rows.locator('.title-cell a').allTextContents()).toEqual(['Zeppelin one: the first to ask']);

    // The customer sees whose move it is, latest activity first, and the number to quote.
    await d.api(sam, 'POST', `${ADMIN}/${older}/comments`, { content: 'Thanks: please try a private window.' });
    const customer = await d.signIn(/Alice/);
    const first = customer.locator('table.tickets tbody tr').first();
    await first.getByText('Zeppelin one: the first to ask').waitFor();
    expect(await first.textContent()).toContain('Awaiting your reply');
    expect(await first.textContent()).toContain(`#${number}`);
    const other = customer.getByRole('row', { name: /Zeppelin two/ });
    expect(await other.textContent()).toContain('With support');
    await d.checkPage(customer, 'portal-awaiting-reply');
    await first.getByRole('link').click();
    await customer.getByRole('heading', { name: 'Zeppelin one: the first to ask', level: 1 }).waitFor();
    expect(await customer.locator('.page-head').textContent()).toContain('Awaiting your reply');
    expect(await customer.locator('.meta').textContent()).toContain(`Ticket #${number}`);

    // Another answer after she looked: a new reply, until she reads it. A change without a message is none.
    // (She has left the ticket first: a reply arriving live on the open ticket is one she has seen.)
    const mine = customer.getByRole('row', { name: /Zeppelin one/ });
    await customer.getByRole('link', { name: 'My tickets' }).first().click();
    await mine.waitFor();
    await d.api(sam, 'POST', `${ADMIN}/${older}/comments`, { content: 'Also: which version of the app?' });
    await expect.poll(() => mine.locator('.wait').textContent()).toBe('New reply');
    expect(await other.locator('.wait').textContent()).toBe('With support');
    await mine.getByRole('link').click();
    await customer.getByText('Also: which version of the app?').waitFor();
    await customer.getByRole('link', { name: 'My tickets' }).first().click();
    await expect.poll(() => mine.locator('.wait').textContent()).toBe('Awaiting your reply');
    expect((await d.api(sam, 'PATCH', `${ADMIN}/${older}`, { priority: 'urgent' })).status).toBe(200);
    await customer.reload();
    await mine.waitFor();
    expect(await mine.locator('.wait').textContent()).toBe('Awaiting your reply');
  });

  it('lists the shortcuts on ? and in the header, and never takes a key typed into a field', async () => {
    const page = await d.signIn(/Sam/);
    await page.getByRole('heading', { name: 'Queue' }).waitFor();
    await page.getByRole('searchbox', { name: 'Search' }).click();
    await page.keyboard.type('j?');
    expect(await page.getByRole('searchbox', { name: 'Search' }).inputValue()).toBe('j?');
    expect(await page.getByRole('dialog').count()).toBe(0);
    await page.getByRole('heading', { name: 'Queue' }).click();
    await page.keyboard.press('?');
    const dialog = page.getByRole('dialog', { name: 'Keyboard shortcuts' });
    await dialog.waitFor();
    for (const does of ['Move to the next or previous ticket', 'Search', 'Reply to the customer', 'Send (in the composer)', 'Next ticket of the queue you came from']) {
      expect(await dialog.getByText(does, { exact: true }).count(), does).toBe(1);
    }
    await d.checkPage(page, 'agent-shortcuts');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    await page.getByRole('button', { name: 'Shortcuts' }).click();
    await dialog.waitFor();
    // / goes to the search box once the dialog is closed.
    await dialog.getByRole('button', { name: 'Close' }).click();
    await page.keyboard.press('/');
    expect(await page.evaluate('document.activeElement?.name')).toBe('q');
  });

  it('keeps a draft per ticket through navigation and reloads until it is sent, and warns before the page is left', async () => {
    const id = await createTicket('Draft test: invoices are late');
    const page = await d.signIn(/Sam/);
    await page.goto(`${d.url}/staff/tickets/${id}`);
    await page.getByRole('heading', { name: 'Draft test: invoices are late', level: 1 }).waitFor();
    await page.getByRole('radio', { name: 'Internal note' }).check();
    const draft = 'Half-written: check the **billing** run first';
    await page.getByLabel(/Internal note \(only the support team/).fill(draft);

    // Away to the queue and back: the ticket is marked, the text and its kind are there.
    await page.getByRole('link', { name: 'Queue', exact: true }).first().click();
    const row = page.getByRole('row', { name: /Draft test: invoices are late/ });
    await row.waitFor();
    expect(await row.getByText('Draft', { exact: true }).count()).toBe(1);
    await row.getByRole('link').click();
    await page.getByRole('heading', { name: 'Draft test: invoices are late', level: 1 }).waitFor();
    expect(await page.getByLabel(/Internal note \(only the support team/).inputValue()).toBe(draft);
    expect(await page.getByRole('radio', { name: 'Internal note' }).isChecked()).toBe(true);

    // Leaving the page with it asks first (the draft is kept either way).
    let asked = '';
    page.once('dialog', (dialog) => {
      asked = dialog.type();
      void dialog.dismiss();
    });
    await page.close({ runBeforeUnload: true });
    await expect.poll(() => asked).toBe('beforeunload');

    // Another tab of the same browser (its storage; a development session is per tab) still has it; sending clears it.
    const again = await page.context().newPage();
    await again.goto(d.url);
    await again.getByRole('button', { name: /Sam/ }).click();
    await again.getByRole('button', { name: 'Sign out' }).waitFor();
    await again.goto(`${d.url}/staff/tickets/${id}`);
    const box = again.getByLabel(/Internal note \(only the support team/);
    await box.waitFor();
    expect(await box.inputValue()).toBe(draft);
    await again.getByRole('button', { name: 'Add internal note' }).click();
    await again.getByRole('listitem').filter({ hasText: 'Half-written: check the billing run first' }).waitFor();
    await again.reload();
    await again.getByLabel('Reply to the customer').waitFor();
    expect(await again.getByLabel('Reply to the customer').inputValue()).toBe('');
    expect((await staffTicket(id)).comments).toMatchObject([{ content: draft, is_internal: true }]);
  });

  it('names the other agent when a triage change meets theirs, re-applies in one click, and undoes', async () => {
    const id = await createTicket('Conflict test: refund twice');
    const page = await d.signIn(/Sam/);
    // Live updates down on this page (they would show Kai's change before ours is tried).
    await page.route('**/events/stream**', (route) => route.abort());
    await page.goto(`${d.url}/staff/tickets/${id}`);
    await page.getByRole('heading', { name: 'Conflict test: refund twice', level: 1 }).waitFor();
    const kai = await d.tokenFor({ id: 'user_kai', email: 'kai@helpdesk.test', isStaff: true });
    expect((await d.api(kai, 'PATCH', `${ADMIN}/${id}`, { priority: 'urgent' })).status).toBe(200);

    await page.getByLabel('Priority').selectOption('high');
    const alert = page.getByRole('alert').filter({ hasText: 'was not saved' });
    await alert.waitFor();
    expect(await alert.textContent()).toMatch(/Your change \(priority changed to High\) was not saved.*Kai changed priority to Urgent/);
    expect(await alert.locator('time').getAttribute('title')).toMatch(/\d{1,2}:\d{2}:\d{2}/);
    await expect.poll(() => page.getByLabel('Priority').inputValue()).toBe('urgent');
    expect((await staffTicket(id)).priority).toBe('urgent');

    await alert.getByRole('button', { name: 'Apply mine again' }).click();
    await page.getByRole('status').filter({ hasText: 'Priority changed to High.' }).waitFor();
    expect((await staffTicket(id)).priority).toBe('high');
    await page.getByRole('button', { name: 'Undo' }).click();
    await page.getByRole('status').filter({ hasText: 'Undone: priority changed to Urgent.' }).waitFor();
    expect((await staffTicket(id)).priority).toBe('urgent');
  });

  it('sends a reply and sets the status in one action', async () => {
    const id = await createTicket('Send and resolve: CSV header only');
    const page = await d.signIn(/Sam/);
    await page.goto(`${d.url}/staff/tickets/${id}`);
    await page.getByRole('heading', { name: 'Send and resolve: CSV header only', level: 1 }).waitFor();
    await page.getByLabel('Reply to the customer').fill('Fixed in today’s release.');
    await page.getByLabel('Then').selectOption('resolved');
    await page.getByRole('button', { name: 'Send reply and set Resolved' }).click();
    await page.getByRole('status').filter({ hasText: 'Reply sent, status set to Resolved.' }).waitFor();
    const ticket = await staffTicket(id);
    expect([ticket.status, ticket.comments.map((c) => c.content)]).toEqual(['resolved', ['Fixed in today’s release.']]);
    // In the conversation: the reply, then the change (once the page has read them back).
    await page.locator('.conversation > li').filter({ hasText: /^You changed status to Resolved/ }).waitFor();
    const items = await page.locator('.conversation > li').allTextContents();
    expect(items.at(-2)).toContain('Fixed in today’s release.');
    expect(items.at(-1)).toMatch(/^You changed status to Resolved/);

    // The customer is told that a reply reopens it.
    const customer = await d.signIn(/Alice/);
    await customer.goto(`${d.url}/tickets/${id}`);
    await customer.getByText('If something is still not right, reply below and it opens again.').waitFor();
    expect(await customer.getByRole('button', { name: 'Send and reopen' }).count()).toBe(1);
    await d.checkPage(customer, 'portal-ticket-resolved');
  });

  it('folds a long thread, shows changes inline, jumps to the latest, and renders Markdown safely', async () => {
    const id = await createTicket('Long thread: sync keeps failing', 'It fails **every night** at 02:00.\n\nSee https://status.example.com/incidents/42');
    await d.api(sam, 'PATCH', `${ADMIN}/${id}`, { status: 'in_progress', assigned_to: 'user_sam' });
    for (let i = 1; i <= 11; i++) {
      const content = `Message ${i}`;
      if (i % 2) await d.api(alice, 'POST', `/api/v1/support/tickets/${id}/comments`, { content });
      else await d.api(sam, 'POST', `${ADMIN}/${id}/comments`, { content });
    }
    const hostile = [
      'Last one, with [a bad link](javascript:alert(1)) and <img src=x onerror="window.__xss = 1"> and <b>raw tags</b>',
      '![tracker](https://tracker.example/pixel.gif) and mail to <support@example.com>',
    ].join('\n\n');
    await d.api(alice, 'POST', `/api/v1/support/tickets/${id}/comments`, { content: hostile });

    const page = await d.signIn(/Sam/);
    await page.goto(`${d.url}/staff/tickets/${id}`);
    const fold = page.getByRole('button', { name: /^Show 7 earlier messages and 2 changes$/ });
    await fold.waitFor();
    expect(await page.getByText('Message 1', { exact: true }).count()).toBe(0);
    expect(await page.getByText('Message 11', { exact: true }).count()).toBe(1);

    // Markdown: the description's bold and its URL as a safe link.
    const description = page.getByRole('region', { name: 'Description' });
    await description.locator('strong').getByText('every night').waitFor();
    const link = description.getByRole('link', { name: 'https://status.example.com/incidents/42' });
    expect(await link.getAttribute('href')).toBe('https://status.example.com/incidents/42');
    expect(await link.getAttribute('rel')).toBe('noopener noreferrer nofollow');
    // Hostile text: no javascript: link, no image, no script ran; raw tags show as text.
    const last = page.getByRole('listitem').filter({ hasText: 'Last one' });
    expect(await last.locator('a[href^="javascript"], img, b').count()).toBe(0);
    expect(await last.textContent()).toContain('<b>raw tags</b>');
    expect(await last.getByRole('link', { name: 'tracker' }).getAttribute('href')).toBe('https://tracker.example/pixel.gif');
    expect(await last.getByRole('link', { name: 'support@example.com' }).getAttribute('href')).toBe('mailto:support@example.com');
    expect(await page.evaluate('window.__xss')).toBeUndefined();

    await page.getByRole('button', { name: 'Jump to latest' }).click();
    await expect.poll(async () => (await focused(page)).text).toMatch(/^Alice.*Last one/);
    await fold.click();
    await page.getByText('Message 1', { exact: true }).waitFor();
    const changes = page.locator('.conversation > li.change');
    expect(await changes.allTextContents()).toEqual([expect.stringMatching(/^You changed status to In progress/), expect.stringMatching(/^You took it/)]);
    await d.checkPage(page, 'agent-long-thread');
  });

  it('tells a customer in words what is wrong with their text, with counters on long fields', async () => {
    const page = await d.signIn(/Alice/);
    await page.getByRole('link', { name: 'New ticket' }).first().click();
    const title = page.getByLabel('Title');
    await title.fill('x'.repeat(212));
    expect(await page.locator('#title-hint').textContent()).toBe('212 / 200 characters');
    await page.getByLabel('Description').fill('   ');
    await page.getByRole('button', { name: 'Create ticket' }).click();
    expect(await page.locator('#title-error').textContent()).toBe('Your title is too long: 212 of 200 characters');
    expect(await page.locator('#description-error').textContent()).toBe('Please describe what happened');
    await d.checkPage(page, 'portal-new-ticket-too-long');

    const id = await createTicket('Validation test: reply too long');
    await page.goto(`${d.url}/tickets/${id}`);
    const reply = page.getByLabel('Your reply');
    await reply.fill('y'.repeat(20_412));
    await page.getByRole('button', { name: 'Send reply' }).click();
    expect(await page.locator('#reply-content-error').textContent()).toBe('Your message is too long: 20,412 of 20,000 characters');
    expect(await page.locator('#reply-content-hint').textContent()).toBe('20,412 / 20,000 characters');
    // Nothing was sent, and the text is still there to shorten.
    expect(await reply.inputValue()).toHaveLength(20_412);
    expect((await staffTicket(id)).comments).toEqual([]);
  });

  it('gives every page its own title and a friendly not-found page for bad links', async () => {
    const page = await d.openBrowser();
    await page.getByRole('heading', { name: 'Sign in to helpdesk' }).waitFor();
    expect(await page.title()).toBe('Sign in · helpdesk');
    await page.getByRole('button', { name: /Alice/ }).click();
    await page.getByRole('heading', { name: 'My tickets' }).waitFor();
    expect(await page.title()).toBe('My tickets · helpdesk');
    await page.getByRole('link', { name: 'New ticket' }).first().click();
    await page.getByRole('heading', { name: 'New ticket' }).waitFor();
    expect(await page.title()).toBe('New ticket · helpdesk');
    // Focus is on the heading of the page navigated to.
    expect(await focused(page)).toMatchObject({ tag: 'H1', text: 'New ticket' });

    for (const [path, heading] of [
      ['/tickets/not-a-ticket-id', 'Ticket not found'],
      ['/tickets/0195e3a0-0000-7000-8000-000000000000', 'Ticket not found'],
      ['/tickets/anything/else', 'Page not found'],
      ['/staff/queue', 'Page not found'],
      // Outside the app's sections: the server hands the app over rather than its JSON 404.
      ['/nowhere/at-all', 'Page not found'],
    ] as const) {
      await page.goto(d.url + path);
      await page.getByRole('heading', { name: heading }).waitFor();
      expect(await page.title(), path).toBe(`${heading} · helpdesk`);
      expect(await page.locator('main').textContent(), path).not.toMatch(/validation|Something went wrong/);
    }
    await d.checkPage(page, 'portal-bad-link');

    const staff = await d.signIn(/Sam/);
    await staff.getByRole('heading', { name: 'Queue' }).waitFor();
    expect(await staff.title()).toBe('Unassigned · Queue · helpdesk');
    await staff.getByRole('link', { name: 'All open' }).click();
    await expect.poll(() => staff.title()).toBe('All open · Queue · helpdesk');
    await staff.getByRole('link', { name: 'Stats' }).click();
    await staff.getByRole('heading', { name: 'Stats' }).waitFor();
    expect(await staff.title()).toBe('Stats · helpdesk');
    const id = await createTicket('Title test: shows in the tab');
    await staff.goto(`${d.url}/staff/tickets/${id}`);
    await staff.getByRole('heading', { name: 'Title test: shows in the tab' }).waitFor();
    expect(await staff.title()).toBe('Title test: shows in the tab · helpdesk');
    await staff.goto(`${d.url}/staff/nowhere`);
    await staff.getByRole('heading', { name: 'Page not found' }).waitFor();
  });

  it('puts triage above the thread on a phone and folds the queue filters behind a button', async () => {
    const id = await createTicket('Phone test: app crashes on upload');
    const page = await d.signIn(/Sam/, { width: 390, height: 844 });
    await page.getByRole('link', { name: 'Phone test: app crashes on upload' }).waitFor();
    const toggle = page.getByRole('button', { name: /^Filters/ });
    expect(await toggle.getAttribute('aria-expanded')).toBe('false');
    expect(await page.getByLabel('Priority').isVisible()).toBe(false);
    expect(await page.getByRole('searchbox', { name: 'Search' }).isVisible()).toBe(true);
    await toggle.click();
    expect(await page.getByLabel('Priority').isVisible()).toBe(true);
    expect(await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth')).toBe(true);
    await d.checkPage(page, 'agent-queue-phone');

    await page.goto(`${d.url}/staff/tickets/${id}`);
    await page.getByRole('heading', { name: 'Phone test: app crashes on upload', level: 1 }).waitFor();
    const top = async (name: string) => (await page.getByRole(name === 'Triage' ? 'complementary' : 'region', { name }).boundingBox())?.y ?? Number.NaN;
    const [triage, conversation] = [await top('Triage'), await top('Conversation')];
    expect(triage).toBeLessThan(conversation);
    // Triage starts within the first screen.
    expect(triage).toBeLessThan(844);
    expect(await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth')).toBe(true);
    await d.checkPage(page, 'agent-workspace-phone');
  });
});
