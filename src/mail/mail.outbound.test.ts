import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { alice, bob, buildTestApp, carol, createTicketAs, problem, sam, TICKETS, type TestApp, type TestUser } from '../../test/helpers.js';
import { dialects } from '../../test/dialects.js';
import { feedSettled } from '../../test/events.js';
import { memoryLog, TestMta, type Received } from '../../test/mail.js';
import { createDb } from '../db/database.js';
import { claimDueMail } from './mail.repository.js';
import { createMailTransport, sendDueMail } from './mail.sender.js';
import { createMailContext } from './mail.service.js';
import { readReplyToken, tokenOfAddress } from './mail.tokens.js';
import { pruneOldMail, queueMailFromEvents } from './mail.worker.js';
import type { MailContext } from './mail.notifications.js';

const ADMIN = '/api/v1/admin/support/tickets';
const SECRET = 's'.repeat(40);
const TEAM = 'team@desk.test';
const mailEnv = (mta: TestMta | undefined) => ({
  HELPDESK_SMTP_URL: mta ? `smtp://127.0.0.1:${mta.port}` : undefined,
  HELPDESK_MAIL_FROM: 'support@desk.test',
  HELPDESK_MAIL_FROM_NAME: 'Acme Support',
  HELPDESK_MAIL_TEAM: TEAM,
  HELPDESK_PUBLIC_URL: 'https://desk.test',
  HELPDESK_MAIL_SECRET: SECRET,
});

describe.each(dialects())('%s: e-mail notifications', (dialect) => {
  let t: TestApp;
  let mta: TestMta;
  let context: MailContext;
  let log = memoryLog();

  beforeEach(async () => {
    log = memoryLog();
    mta = new TestMta((address) => address.startsWith('bounce'));
    await mta.start();
    t = await buildTestApp(dialect, mailEnv(mta));
    context = await createMailContext(t.config, t.db);
    await queueMailFromEvents(t.db, context); // the consumer starts at the end of the feed
  });
  afterEach(async () => {
    await t.close();
    await mta.stop();
  });

  /** What the background worker does: events to the outbox, then the due messages out. */
  const deliver = async (now?: Date) => {
    await feedSettled(t.db);
    while ((await queueMailFromEvents(t.db, context)) > 0);
    const transport = createMailTransport(t.config);
    try {
      return await sendDueMail(t.db, transport, log, now ? { now: () => now } : {});
    } finally {
      transport.close();
    }
  };
  const reply = (ticketId: string, content: string, isInternal = false) =>
    t.as(sam, { method: 'POST', url: `${ADMIN}/${ticketId}/comments`, payload: { content, is_internal: isInternal } });
  const numberOf = async (ticketId: string) => (await t.db.selectFrom('tickets').select('number').where('id', '=', ticketId).executeTakeFirstOrThrow()).number;

  it('tells the team of a new ticket, threaded, tagged, with a reply token that names the ticket', async () => {
    const ticket = await createTicketAs(t, alice, { title: 'Invoices missing', description: 'Where did March go?' });
    expect(await deliver()).toEqual({ sent: 1, retrying: 0, failed: 0 });
    expect(mta.received.map((r) => r.to)).toEqual([[TEAM]]);
    const { mail } = mta.received[0] as Received;
    expect(mail.subject).toBe(`[#${await numberOf(ticket.ticket_id)}] New ticket: Invoices missing`);
    expect(mail.from?.value[0]).toEqual({ address: 'support@desk.test', name: 'Acme Support' });
    expect(mail.headers.get('auto-submitted')).toBe('auto-generated');
    expect(mail.inReplyTo).toBe(`<ticket-${ticket.ticket_id}@desk.test>`);
    expect(mail.references).toBe(`<ticket-${ticket.ticket_id}@desk.test>`);
    expect(mail.text).toContain('Where did March go?');
    expect(mail.html).toContain('Where did March go?');
    expect(mail.text).toContain(`https://desk.test/staff/tickets/${ticket.ticket_id}`);
    const stored = await t.db.selectFrom('mail_outbox').select(['message_id', 'status']).executeTakeFirstOrThrow();
    expect(mail.messageId).toBe(`<${stored.message_id}>`);
    expect(stored.status).toBe('sent');
    const token = tokenOfAddress(t.config.mail, mail.replyTo?.value[0]?.address ?? '') ?? '';
    expect(readReplyToken(SECRET, token, TEAM)).toEqual({ ticketId: ticket.ticket_id, isGenuine: true });
    expect(readReplyToken(SECRET, token, 'mallory@evil.test')?.isGenuine).toBe(false);
  });

  it('mails the customer a public reply in both parts, and nothing of an internal note', async () => {
    const ticket = await createTicketAs(t, alice);
    await deliver();
    mta.received.length = 0;
    expect((await reply(ticket.ticket_id, 'Internal: customer is on the legacy plan <b>', true)).statusCode).toBe(201);
    expect((await reply(ticket.ticket_id, 'Fixed it: <try> again & tell us')).statusCode).toBe(201);
    expect(await deliver()).toEqual({ sent: 1, retrying: 0, failed: 0 });
    expect(mta.received.map((r) => r.to)).toEqual([[alice.email]]);
    const { mail, raw } = mta.received[0] as Received;
    expect(mail.text).toContain('Fixed it: <try> again & tell us');
    expect(mail.html).toContain('Fixed it: &lt;try&gt; again &amp; tell us');
    expect(mail.text).toContain(`https://desk.test/tickets/${ticket.ticket_id}`);
    expect(mail.inReplyTo).toBe(`<ticket-${ticket.ticket_id}@desk.test>`);
    expect(raw).not.toContain('legacy plan');
    expect(await t.db.selectFrom('mail_outbox').select('body_text').where('body_text', 'like', '%legacy plan%').execute()).toEqual([]);
  });

  it('mails the assignee (or the team) a customer reply, never its author, and the customer when staff resolve', async () => {
    const ticket = await createTicketAs(t, alice);
    await t.as(alice, { method: 'POST', url: `${TICKETS}/${ticket.ticket_id}/comments`, payload: { content: 'Any news?' } });
    await deliver();
    expect(mta.to(TEAM).map((r) => r.mail.text?.split('\n')[0])).toEqual([`${alice.email} opened a ticket:`, `${alice.email} replied:`]);
    mta.received.length = 0;
    expect((await t.as(sam, { method: 'PATCH', url: `${ADMIN}/${ticket.ticket_id}`, payload: { assigned_to: sam.id } })).statusCode).toBe(200);
    await t.as(alice, { method: 'POST', url: `${TICKETS}/${ticket.ticket_id}/comments`, payload: { content: 'Hello?' } });
    expect((await t.as(sam, { method: 'PATCH', url: `${ADMIN}/${ticket.ticket_id}`, payload: { status: 'resolved' } })).statusCode).toBe(200);
    await deliver();
    expect(mta.received.map((r) => [r.to[0], r.mail.subject?.replace(/^\[#\d+\] /, '')])).toEqual([
      [sam.email, 'Re: Cannot export invoices'],
      [alice.email, 'Resolved: Cannot export invoices'],
    ]);
    // The customer closing their own ticket tells no one; another tenant's customer hears nothing.
    await t.as(alice, { method: 'POST', url: `${TICKETS}/${ticket.ticket_id}/close` });
    mta.received.length = 0;
    await deliver();
    expect(mta.received).toEqual([]);
    expect(mta.to(carol.email)).toEqual([]);
  });

  it('mails a customer only what they chose: all updates, only replies, or nothing, per tenant', async () => {
    const ticket = await createTicketAs(t, alice);
    const resolve = (status: string) => t.as(sam, { method: 'PATCH', url: `${ADMIN}/${ticket.ticket_id}`, payload: { status } });
    expect((await t.as(alice, { url: '/api/v1/me/mail' })).json()).toMatchObject({ email: 'all' });
    const set = await t.as(alice, { method: 'PUT', url: '/api/v1/me/mail', payload: { email: 'replies' } });
    expect(set.json()).toMatchObject({ email: 'replies' });
    await reply(ticket.ticket_id, 'First answer');
    await resolve('resolved');
    await deliver();
    expect(mta.to(alice.email).map((r) => r.mail.subject?.replace(/^\[#\d+\] /, ''))).toEqual(['Re: Cannot export invoices']);
    await t.as(alice, { method: 'PUT', url: '/api/v1/me/mail', payload: { email: 'none' } });
    await reply(ticket.ticket_id, 'Second answer');
    await deliver();
    expect(mta.to(alice.email)).toHaveLength(1);
    // The choice is alice's in her organization only.
    expect((await t.as({ ...alice, org: 'org_other' }, { url: '/api/v1/me/mail' })).json()).toMatchObject({ email: 'all' });
    problem(await t.as(alice, { method: 'PUT', url: '/api/v1/me/mail', payload: { email: 'sometimes' } }), 422);
    expect((await t.as(alice, { url: '/api/v1/me/mail' })).json()).toMatchObject({ email: 'none' });
  });

  it('makes one batch of events over many tickets into each customer’s own messages, as each chose', async () => {
    await t.as(alice, { method: 'PUT', url: '/api/v1/me/mail', payload: { email: 'replies' } });
    await t.as(bob, { method: 'PUT', url: '/api/v1/me/mail', payload: { email: 'none' } });
    const owners = [alice, bob, carol];
    const tickets = [];
    for (const owner of owners) tickets.push((await createTicketAs(t, owner, { title: `Problem of ${owner.id}` })).ticket_id);
    for (const [i, id] of tickets.entries()) await reply(id, `Answer for ${owners[i]?.id}`);
    for (const id of tickets) await t.as(sam, { method: 'PATCH', url: `${ADMIN}/${id}`, payload: { status: 'resolved' } });
    await deliver(); // one fan-out round takes all nine events
    const seen = (user: TestUser) => mta.to(user.email).map((r) => [r.mail.subject?.replace(/^\[#\d+\] /, ''), r.mail.text?.includes(`Answer for ${user.id}`)]);
    expect(seen(alice)).toEqual([[`Re: Problem of ${alice.id}`, true]]);
    expect(seen(bob)).toEqual([]);
    expect(seen(carol)).toEqual([
      [`Re: Problem of ${carol.id}`, true],
      [`Resolved: Problem of ${carol.id}`, false],
    ]);
    expect(mta.to(TEAM)).toHaveLength(3);
  });

  it('records a refusal (5xx) on the delivery and does not retry it', async () => {
    const ticket = await createTicketAs(t, { id: 'user_bounce', email: 'bounce@acme.test', org: 'org_acme' });
    await deliver();
    await reply(ticket.ticket_id, 'Answer');
    expect(await deliver()).toEqual({ sent: 0, retrying: 0, failed: 1 });
    const row = await t.db.selectFrom('mail_outbox').selectAll().where('recipient', '=', 'bounce@acme.test').executeTakeFirstOrThrow();
    expect(row).toMatchObject({ status: 'failed', attempts: 1 });
    expect(row.last_error).toContain('550');
    expect(await deliver(new Date(Date.now() + 86_400_000))).toEqual({ sent: 0, retrying: 0, failed: 0 });
  });

  it('prunes sent messages past the retention, never one still waiting to be sent', async () => {
    const ticket = await createTicketAs(t, alice);
    await deliver();
    await mta.stop();
    await reply(ticket.ticket_id, 'Queued while the relay is down');
    expect(await deliver()).toMatchObject({ retrying: 1 });
    expect(await pruneOldMail(t.db, 30, Date.now() + 29 * 86_400_000)).toBe(0);
    expect(await pruneOldMail(t.db, 30, Date.now() + 31 * 86_400_000)).toBe(1);
    expect(await t.db.selectFrom('mail_outbox').select(['recipient', 'status']).execute()).toEqual([{ recipient: alice.email, status: 'pending' }]);
  });

  it('sends what a killed sender had claimed once its lease has run out, and not before', async () => {
    await createTicketAs(t, alice);
    await feedSettled(t.db);
    await queueMailFromEvents(t.db, context);
    // A sender claims the row, then dies (kill -9) before sending it.
    const claimed = await claimDueMail(t.db, new Date().toISOString(), new Date(Date.now() + 120_000).toISOString(), 10);
    expect(claimed).toHaveLength(1);
    expect(await deliver()).toEqual({ sent: 0, retrying: 0, failed: 0 });
    expect(await deliver(new Date(Date.now() + 121_000))).toEqual({ sent: 1, retrying: 0, failed: 0 });
    expect(mta.to(TEAM)).toHaveLength(1);
  });

  it('delivers every notification exactly once after the relay comes back, with two instances making and sending them', async () => {
    await mta.stop(); // the relay is down
    const tickets = [];
    for (let i = 0; i < 4; i++) tickets.push(await createTicketAs(t, alice, { title: `Outage ${i}` }));
    for (const ticket of tickets) await reply(ticket.ticket_id, 'We are on it');
    // Two instances make the notifications and send them: on PostgreSQL each with its own pool;
    // SQLite is one process with one writer, so there two instances share its connection.
    const other = dialect === 'postgres' ? createDb(t.config.database) : t.db;
    await feedSettled(t.db);
    const fanOut = async (db: typeof t.db) => {
      while ((await queueMailFromEvents(db, context)) > 0);
    };
    await Promise.all([fanOut(t.db), fanOut(other), fanOut(t.db), fanOut(other)]);
    const down = await deliver();
    expect(down).toEqual({ sent: 0, retrying: 8, failed: 0 });
    expect(log.lines.filter((l) => l.message === 'mail not delivered: will retry')).toHaveLength(8);
    await mta.start(); // back, on the same port

    // Both send at once when the retries are due.
    const later = new Date(Date.now() + 3_600_000);
    const send = (db: typeof t.db) => {
      const transport = createMailTransport(t.config);
      return sendDueMail(db, transport, log, { now: () => later }).finally(() => transport.close());
    };
    const rounds = await Promise.all([send(t.db), send(other), send(t.db), send(other)]);
    if (other !== t.db) await other.destroy();
    expect(rounds.reduce((n, r) => n + r.sent, 0)).toBe(8);
    expect(mta.to(TEAM)).toHaveLength(4);
    expect(mta.to(alice.email)).toHaveLength(4);
    expect(new Set(mta.received.map((r) => r.mail.messageId)).size).toBe(8);
    expect(await deliver(later)).toEqual({ sent: 0, retrying: 0, failed: 0 });
  });
});

describe('without SMTP: the development outbox', () => {
  it('writes each notification as an .eml file in the data directory', async () => {
    const t = await buildTestApp('sqlite', mailEnv(undefined));
    try {
      const context = await createMailContext(t.config, t.db);
      await queueMailFromEvents(t.db, context);
      const ticket = await createTicketAs(t, alice);
      await t.as(sam, { method: 'POST', url: `${ADMIN}/${ticket.ticket_id}/comments`, payload: { content: 'Try the new export' } });
      await queueMailFromEvents(t.db, context);
      const transport = createMailTransport(t.config);
      expect(await sendDueMail(t.db, transport, memoryLog())).toEqual({ sent: 2, retrying: 0, failed: 0 });
      transport.close();
      const files = await fs.readdir(path.join(t.dir, 'outbox'));
      expect(files).toHaveLength(2);
      const texts = await Promise.all(files.map((f) => fs.readFile(path.join(t.dir, 'outbox', f), 'utf8')));
      expect(texts.some((text) => text.includes(`To: ${alice.email}`) && text.includes('Try the new export'))).toBe(true);

      // Staff read them in the dashboard's outbox; customers may not.
      const outbox = await t.as(sam, { url: '/api/v1/admin/mail/outbox' });
      expect(outbox.statusCode).toBe(200);
      const messages = outbox.json<{ messages: Array<{ to: string; subject: string; text: string }> }>().messages;
      expect(messages.map((m) => m.to)).toEqual([alice.email, TEAM]);
      expect(messages[0]?.text).toContain('Try the new export');
      expect(messages[0]?.subject).toMatch(/^\[#\d+\] Re: Cannot export invoices$/);
      problem(await t.as(alice, { url: '/api/v1/admin/mail/outbox' }), 403);
      expect((await t.as(null, { url: '/api/v1/dashboard/config' })).json()).toMatchObject({ dev_outbox: true });
    } finally {
      await t.close();
    }
  });

  it('has no outbox page when SMTP is configured', async () => {
    const t = await buildTestApp('sqlite', { ...mailEnv(undefined), HELPDESK_SMTP_URL: 'smtp://127.0.0.1:1' });
    try {
      problem(await t.as(sam, { url: '/api/v1/admin/mail/outbox' }), 404);
      expect((await t.as(null, { url: '/api/v1/dashboard/config' })).json()).toMatchObject({ dev_outbox: false });
    } finally {
      await t.close();
    }
  });
});
