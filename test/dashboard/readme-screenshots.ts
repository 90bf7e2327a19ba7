// The README's screenshots of the dashboard, from a small realistic desk (a few dozen tickets from
// several customers, a worked thread with notes and changes), at 1440×900 and 390×844, light and dark.
//
//   npx tsx test/dashboard/readme-screenshots.ts            writes docs/screenshots/*.png
//   npx tsx test/dashboard/readme-screenshots.ts --serve    also keeps the desk running to look around
//
// Not a test: the browser tests check the pages; this only takes pictures of them.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createDb } from '../../src/db/database.js';
import { migrateToLatest } from '../../src/db/migrator.js';
import { loadOrCreateDevKeys, signDevToken } from '../../src/http/dev-keys.js';
import { ROOT } from '../processes.js';
import { ensureDashboardBuilt, launchChromium } from './dashboard.js';

const OUT = path.join(ROOT, 'docs', 'screenshots');
const MINUTE = 60_000;

const CUSTOMERS = [
  { id: 'user_alice', email: 'alice@acme.test', org: 'org_acme' },
  { id: 'user_bob', email: 'bob.stone@acme.test', org: 'org_acme' },
  { id: 'user_carol', email: 'carol@globex.test', org: 'org_globex' },
  { id: 'user_dana', email: 'dana.ortiz@initech.test', org: 'org_initech' },
  { id: 'user_eli', email: 'eli@umbrella.test', org: 'org_umbrella' },
  { id: 'user_fay', email: 'fay.lin@hooli.test', org: 'org_hooli' },
];
const KAI = { id: 'user_kai', email: 'kai@helpdesk.test' };

const TITLES: Array<[string, string, string]> = [
  ['Invoices export as an empty CSV', 'bug', 'high'],
  ['SSO login loops back to the sign-in page', 'bug', 'urgent'],
  ['Please add a dark mode to the mobile app', 'feature_request', 'low'],
  ['Charged twice for the March invoice', 'billing', 'urgent'],
  ['Cannot invite a new team member', 'account', 'normal'],
  ['Webhook deliveries time out since Monday', 'bug', 'high'],
  ['How do I change the billing e-mail?', 'billing', 'normal'],
  ['Dashboard charts are blank in Safari 17', 'bug', 'normal'],
  ['Request: export tickets as PDF', 'feature_request', 'low'],
  ['Password reset e-mail never arrives', 'account', 'high'],
  ['API rate limit too low for our nightly sync', 'support', 'normal'],
  ['Calendar shows meetings in the wrong time zone', 'bug', 'normal'],
  ['Upgrade from Team to Business plan', 'billing', 'normal'],
  ['Search does not find tickets by customer name', 'bug', 'normal'],
  ['Onboarding checklist stuck at 80 %', 'support', 'low'],
  ['SAML certificate expires next week', 'account', 'urgent'],
  ['Slow page loads in the EU region', 'bug', 'high'],
  ['Can we get an audit log of admin actions?', 'feature_request', 'normal'],
  ['Refund for unused seats', 'billing', 'normal'],
  ['Mobile app crashes when uploading a photo', 'bug', 'high'],
  ['Two-factor codes rejected after phone change', 'account', 'high'],
  ['Import from Zendesk skipped attachments', 'support', 'normal'],
  ['Translations missing in the German UI', 'bug', 'low'],
  ['Custom domain shows a certificate warning', 'support', 'urgent'],
  ['Receipts should include our VAT number', 'billing', 'low'],
  ['Team workspace deleted by mistake', 'account', 'urgent'],
  ['Filters reset after opening a ticket', 'bug', 'normal'],
  ['Duplicate notifications for every comment', 'bug', 'normal'],
  ['Trial ended early', 'billing', 'normal'],
  ['Chart legend overlaps on small screens', 'bug', 'low'],
  ['Need a sandbox environment for testing', 'feature_request', 'normal'],
  ['Cannot download the monthly report', 'support', 'normal'],
  ['Payment card declined although it is valid', 'billing', 'high'],
  ['Permissions: viewers can edit projects', 'bug', 'urgent'],
  ['Where do I find the API key?', 'support', 'low'],
  ['Schedule emails for a later time', 'feature_request', 'low'],
];

const THREAD: Array<{ by: 'customer' | 'agent' | 'kai'; text: string; internal?: boolean }> = [
  { by: 'agent', text: 'Thanks for the report, Alice! Could you tell me which **date range** you exported, and whether the file has a header row?' },
  { by: 'customer', text: 'March 1–31. The file has the header row and nothing else. February works fine.' },
  { by: 'kai', internal: true, text: 'Same as #4211 last week: the new CSV streamer drops rows when an invoice has a credit note. Fix is in review: https://github.example/acme/billing/pull/918' },
  { by: 'agent', text: 'Got it. We found the cause: invoices with a credit note stop the export.\n\nUntil the fix ships, you can:\n\n1. Open **Invoices → March**\n2. Filter out credit notes\n3. Export again' },
  { by: 'customer', text: 'That worked, thank you. Will the full export work again soon? Our accountant needs it by Friday.' },
  { by: 'kai', internal: true, text: 'Fix deployed to staging; production tomorrow 09:00 UTC.' },
];

async function main(): Promise<void> {
  const serve = process.argv.includes('--serve');
  await ensureDashboardBuilt();
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'helpdesk-screens-'));
  const config = loadConfig({ NODE_ENV: 'development', HELPDESK_DATA_DIR: dir, DATABASE_URL: `sqlite:${path.join(dir, 'desk.db')}`, LOG_LEVEL: 'warn', HELPDESK_RATE_LIMIT: '0' });
  const db = createDb(config.database);
  await migrateToLatest(db, config.database.kind);
  const app = await buildApp(config, db, { logStream: false });
  const url = await app.listen({ host: '127.0.0.1', port: serve ? 8090 : 0 });
  const keys = await loadOrCreateDevKeys(dir);
  const tokenOf = (user: { id: string; email: string; org?: string }, isStaff = false) => signDevToken(keys, { userId: user.id, email: user.email, orgId: user.org, isStaff });
  const call = async (token: string, method: 'GET' | 'POST' | 'PATCH' | 'PUT', url: string, payload?: object, headers: Record<string, string> = {}) => {
    const res = await app.inject({ method, url, payload: payload as Record<string, unknown>, headers: { authorization: `Bearer ${token}`, ...headers } });
    if (res.statusCode >= 300) throw new Error(`${method} ${url}: ${res.statusCode} ${res.body}`);
    return res;
  };
  const sam = (await app.inject({ method: 'POST', url: '/api/v1/dev/tokens', payload: { identity: 'staff' } })).json<{ token: string }>().token;
  const kai = await tokenOf(KAI, true);
  // Both agents are assignable once they have called the API.
  await call(sam, 'GET', '/api/v1/admin/support/agents');
  await call(kai, 'GET', '/api/v1/admin/support/agents');

  const now = Date.now();
  const ids: string[] = [];
  for (const [i, [title, type, priority]] of TITLES.entries()) {
    const customer = CUSTOMERS[i % CUSTOMERS.length] as (typeof CUSTOMERS)[number];
    const token = await tokenOf(customer);
    const ticket = (await call(token, 'POST', '/api/v1/support/tickets', { title, type, description: `${title}. It started this week; details below.\n\nSteps: open the page, try again, same result.` })).json<{ ticket_id: string }>();
    ids.push(ticket.ticket_id);
    const path = `/api/v1/admin/support/tickets/${ticket.ticket_id}`;
    const changes: Record<string, unknown> = { priority };
    if (i % 3 === 1) Object.assign(changes, { assigned_to: 'user_sam', status: 'in_progress' });
    if (i % 5 === 2) Object.assign(changes, { assigned_to: KAI.id, status: i % 2 ? 'resolved' : 'in_progress' });
    await call(sam, 'PATCH', path, changes);
    if (i % 4 === 0) await call(sam, 'POST', `${path}/comments`, { content: 'Thanks, we are looking into it.' });
    if (i % 4 === 0 && i % 8 === 0) await call(token, 'POST', `/api/v1/support/tickets/${ticket.ticket_id}/comments`, { content: 'Any news on this?' });
  }

  // The worked thread: Alice's export ticket, with replies, notes and triage along the way.
  const threadId = ids[0] as string;
  const alice = await tokenOf(CUSTOMERS[0] as (typeof CUSTOMERS)[number]);
  const threadPath = `/api/v1/admin/support/tickets/${threadId}`;
  await call(sam, 'PATCH', threadPath, { assigned_to: 'user_sam', status: 'in_progress' });
  for (const message of THREAD) {
    if (message.by === 'customer') await call(alice, 'POST', `/api/v1/support/tickets/${threadId}/comments`, { content: message.text });
    else await call(message.by === 'kai' ? kai : sam, 'POST', `${threadPath}/comments`, { content: message.text, is_internal: message.internal ?? false });
  }

  // Spread everything that happened over the last day, in the order it happened, so times read like a real desk's.
  const events = [
    ...(await db.selectFrom('tickets').select(['id', 'created_at']).execute()).map((r) => ({ ...r, table: 'tickets' as const })),
    ...(await db.selectFrom('ticket_comments').select(['id', 'created_at']).execute()).map((r) => ({ ...r, table: 'ticket_comments' as const })),
    ...(await db.selectFrom('ticket_history').select(['id', 'created_at']).execute()).map((r) => ({ ...r, table: 'ticket_history' as const })),
  ].sort((a, b) => a.created_at.localeCompare(b.created_at));
  for (const [i, event] of events.entries()) {
    const at = new Date(now - (events.length - i) * 11 * MINUTE).toISOString();
    await db.updateTable(event.table).set({ created_at: at }).where('id', '=', event.id).execute();
  }
  await db.updateTable('tickets').set((eb) => ({ updated_at: eb.ref('created_at') })).execute();
  const lastComment = await db.selectFrom('ticket_comments').select(['ticket_id', (eb) => eb.fn.max('created_at').as('at')]).groupBy('ticket_id').execute();
  for (const row of lastComment) await db.updateTable('tickets').set({ updated_at: String(row.at) }).where('id', '=', row.ticket_id).execute();
  // Whose move it is, since when, who spoke last: as the writes would have kept them at those times.
  const publicComments = await db.selectFrom('ticket_comments').select(['ticket_id', 'author_type', 'created_at']).where('is_internal', '=', 0).orderBy('created_at').execute();
  for (const ticket of await db.selectFrom('tickets').select(['id', 'status', 'created_at']).execute()) {
    const messages = [{ from: 'customer', at: ticket.created_at }, ...publicComments.filter((c) => c.ticket_id === ticket.id).map((c) => ({ from: c.author_type === 'staff' ? 'staff' : 'customer', at: c.created_at }))];
    const last = messages.at(-1) as (typeof messages)[number];
    // The wait began with the first message of the side that spoke last, after the other side's last.
    const turn = messages.slice(messages.findLastIndex((m) => m.from !== last.from) + 1)[0] as (typeof messages)[number];
    const solved = ticket.status === 'resolved' || ticket.status === 'closed';
    await db
      .updateTable('tickets')
      .set({
        last_customer_message_at: messages.filter((m) => m.from === 'customer').at(-1)?.at as string,
        last_staff_reply_at: messages.filter((m) => m.from === 'staff').at(-1)?.at ?? null,
        waiting_on: solved ? null : last.from === 'customer' ? 'support' : 'customer',
        waiting_since: solved ? null : turn.at,
      })
      .where('id', '=', ticket.id)
      .execute();
  }
  // Sam has opened most tickets already: the queue marks only those the customer wrote on since.
  for (const [i, id] of ids.entries()) if (i % 8 !== 0 && i % 5 !== 3) await call(sam, 'PUT', `/api/v1/admin/support/tickets/${id}/read`);

  await fs.mkdir(OUT, { recursive: true });
  const browser = await launchChromium();
  const shoot = async (scheme: 'light' | 'dark', width: number, height: number, go: (page: Page) => Promise<void>, name: string, who = /Sam/) => {
    const context = await browser.newContext({ colorScheme: scheme, viewport: { width, height } });
    const page = await context.newPage();
    await page.goto(url);
    await page.getByRole('button', { name: who }).click();
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    await go(page);
    await page.screenshot({ path: path.join(OUT, `${name}.png`) });
    await context.close();
  };
  const queue = async (page: Page) => {
    await page.goto(`${url}/staff/queue?view=all`);
    await page.getByRole('link', { name: 'Trial ended early' }).waitFor();
    await page.keyboard.press('j');
    await page.keyboard.press('j');
  };
  const workspace = async (page: Page) => {
    await page.goto(`${url}/staff/queue?view=mine`);
    await page.getByRole('link', { name: 'Invoices export as an empty CSV' }).click();
    await page.getByRole('heading', { name: 'Invoices export as an empty CSV', level: 1 }).waitFor();
    await page.locator('.conversation strong').first().waitFor();
    await page.getByLabel('Reply to the customer').fill('Good news: the fix is **live**. Could you try the March export again?');
    await page.evaluate('window.scrollTo(0, 0)');
  };
  for (const scheme of ['light', 'dark'] as const) {
    const suffix = scheme === 'dark' ? '-dark' : '';
    await shoot(scheme, 1440, 900, queue, `staff-queue${suffix}`);
    await shoot(scheme, 1440, 900, workspace, `staff-console${suffix}`);
  }
  await shoot('light', 390, 844, workspace, 'staff-console-phone');
  const customerTicket = async (page: Page) => {
    await page.goto(`${url}/tickets/${threadId}`);
    await page.getByRole('heading', { name: 'Invoices export as an empty CSV', level: 1 }).waitFor();
    await page.locator('.conversation strong').first().waitFor();
  };
  await shoot('light', 1280, 900, customerTicket, 'customer-portal', /Alice/);
  await browser.close();
  console.warn(`wrote screenshots to ${path.relative(process.cwd(), OUT)}`);
  if (serve) {
    console.warn(`serving the desk at ${url} (Ctrl+C to stop)`);
    return;
  }
  await app.close();
  await db.destroy();
  await fs.rm(dir, { recursive: true, force: true });
}

await main();
