import type { AddressInfo } from 'node:net';
import nodemailer, { type SendMailOptions } from 'nodemailer';
import type { SMTPServer } from 'smtp-server';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { alice, buildTestApp, carol, createTicketAs, problem, sam, TICKETS, type TestApp } from '../../test/helpers.js';
import { dialects } from '../../test/dialects.js';
import { feedSettled } from '../../test/events.js';
import { memoryLog } from '../../test/mail.js';
import { INBOUND_SECRET_HEADER } from './mail.routes.js';
import { createMailContext } from './mail.service.js';
import { createSmtpReceiver } from './mail.smtp-receiver.js';
import { replyAddress, replyToken } from './mail.tokens.js';
import { queueMailFromEvents } from './mail.worker.js';
import { createTicket } from '../tickets/ticket.service.js';

const ADMIN = '/api/v1/admin/support/tickets';
const SECRET = 's'.repeat(40);
const INBOUND_SECRET = 'i'.repeat(40);
const SUPPORT = 'support@desk.test';
/** The mail settings every desk of this file has. */
const MAIL = { HELPDESK_MAIL_FROM: SUPPORT, HELPDESK_MAIL_SECRET: SECRET, HELPDESK_MAIL_INBOUND_SECRET: INBOUND_SECRET };
const MAX_BYTES = 25 * 1024 * 1024;

/** Builds a raw RFC 822 message as a mail client would. */
async function compose(message: SendMailOptions): Promise<Buffer> {
  const info = await nodemailer.createTransport({ streamTransport: true, buffer: true }).sendMail(message);
  return info.message as Buffer;
}

describe.each(dialects())('%s: replies and new tickets by e-mail', (dialect) => {
  let t: TestApp;
  let receiver: SMTPServer;
  let port: number;
  let ticketId: string;

  beforeEach(async () => {
    t = await buildTestApp(dialect, {
      ...MAIL,
      HELPDESK_PUBLIC_URL: 'https://desk.test',
    });
    const context = await createMailContext(t.config, t.db);
    receiver = createSmtpReceiver(context, {}, memoryLog());
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', () => resolve()));
    port = (receiver.server.address() as AddressInfo).port;
    ticketId = (await createTicketAs(t, alice, { title: 'Export broken', description: 'The export button does nothing.' })).ticket_id;
    await t.as(sam, { url: ADMIN }); // sam is known as staff from his verified token
  });
  afterEach(async () => {
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
    await t.close();
  });

  /** Sends over SMTP to the built-in receiver; resolves to the server's reply or rejects with its error. */
  const smtp = async (message: SendMailOptions | Buffer, envelope?: { from: string; to: string[] }) => {
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true });
    try {
      const raw = Buffer.isBuffer(message) ? { raw: message, envelope } : message;
      return (await transport.sendMail(raw as SendMailOptions)).response;
    } finally {
      transport.close();
    }
  };
  const http = (raw: Buffer, secret = INBOUND_SECRET) =>
    t.app.inject({ method: 'POST', url: '/api/v1/inbound/email', headers: { 'content-type': 'message/rfc822', [INBOUND_SECRET_HEADER]: secret }, payload: raw });
  const customerComments = async (id = ticketId) =>
    (await t.as(alice, { url: `${TICKETS}/${id}` })).json<{ ticket: { comments: Array<{ comment_id: string; content: string; author_type: string }> } }>().ticket.comments;
  const staffComments = async (id = ticketId) =>
    (await t.as(sam, { url: `${ADMIN}/${id}` })).json<{ ticket: { comments: Array<{ content: string; channel: string; is_internal: boolean }> } }>().ticket.comments;
  const allComments = async (id = ticketId) =>
    t.db.selectFrom('ticket_comments').select(['content', 'is_internal', 'author_type']).where('ticket_id', '=', id).orderBy('created_at').execute();
  const tokenAddress = (recipient: string, secret = SECRET, id = ticketId) => replyAddress(t.config.mail, replyToken(secret, id, recipient));
  const numberOf = async (id = ticketId) => (await t.db.selectFrom('tickets').select('number').where('id', '=', id).executeTakeFirstOrThrow()).number;
  const inbound = () => t.db.selectFrom('mail_inbound').selectAll().orderBy('received_at').execute();

  it('takes a reply matched by its token over SMTP, keeping only the new text and the raw message', async () => {
    const response = await smtp({
      from: alice.email,
      to: tokenAddress(alice.email),
      subject: 'Re: [#1] Re: Export broken',
      text: 'Still broken after the update.\n\nOn Mon, 7 Dec 2026 at 10:00, Acme Support <support@desk.test> wrote:\n> Please update and try again.\n> \n> -- \n> Acme Support',
    });
    expect(response).toMatch(/^250 .*comment/);
    const comments = await customerComments();
    expect(comments.map((c) => [c.author_type, c.content])).toEqual([['user', 'Still broken after the update.']]);
    // Staff see that it came by mail; the customer's view of the comment is the contract's shape.
    expect(comments[0]).not.toHaveProperty('channel');
    await t.as(sam, { method: 'POST', url: `${ADMIN}/${ticketId}/comments`, payload: { content: 'Looking.' } });
    expect((await staffComments()).map((c) => [c.content, c.channel])).toEqual([
      ['Still broken after the update.', 'email'],
      ['Looking.', 'web'],
    ]);
    const [record] = await inbound();
    expect(record).toMatchObject({ via: 'smtp', outcome: 'comment', sender: alice.email, ticket_id: ticketId });
    expect(Buffer.from(record?.raw ?? '', 'base64').toString()).toContain('Please update and try again.');
  });

  it('matches by In-Reply-To, by References alone (Outlook) and by the subject tag', async () => {
    await queueMailFromEvents(t.db, await createMailContext(t.config, t.db));
    await t.as(sam, { method: 'POST', url: `${ADMIN}/${ticketId}/comments`, payload: { content: 'Please update.' } });
    await feedSettled(t.db);
    await queueMailFromEvents(t.db, await createMailContext(t.config, t.db));
    const sent = await t.db.selectFrom('mail_outbox').select('message_id').where('recipient', '=', alice.email).executeTakeFirstOrThrow();

    const byInReplyTo = await http(await compose({ from: alice.email, to: SUPPORT, subject: 'Re: hi', inReplyTo: `<${sent.message_id}>`, text: 'One' }));
    expect(byInReplyTo.json()).toEqual({ outcome: 'comment', ticket_id: ticketId });
    const outlook = await compose({
      from: alice.email,
      to: SUPPORT,
      subject: 'RE: hi',
      references: [`<unrelated@mail.example>`, `<ticket-${ticketId}@desk.test>`],
      headers: { 'Thread-Index': 'AQHa1b2c3d4e5f6g7h8i9j0k==' },
      text: 'Two\r\n\r\n________________________________\r\nFrom: Acme Support <support@desk.test>\r\nSent: Monday, December 7, 2026 10:00\r\nSubject: Export broken\r\n\r\nPlease update.',
    });
    expect((await http(outlook)).json()).toEqual({ outcome: 'comment', ticket_id: ticketId });
    const byTag = await http(await compose({ from: alice.email, to: SUPPORT, subject: `Re: [#${await numberOf()}] Export broken`, text: 'Three' }));
    expect(byTag.json()).toEqual({ outcome: 'comment', ticket_id: ticketId });
    expect((await customerComments()).map((c) => c.content)).toEqual(['Please update.', 'One', 'Two', 'Three']);
  });

  it('refuses a forged token, a CC’d stranger and an unknown sender, and adds nothing', async () => {
    const forged = await http(await compose({ from: carol.email, to: tokenAddress(carol.email, 'f'.repeat(40)), subject: 'hi', text: 'Let me in' }));
    expect(forged.json()).toEqual({ outcome: 'refused', reason: 'reply token not issued to this sender' });
    const borrowed = await http(await compose({ from: carol.email, to: tokenAddress(alice.email), subject: 'hi', text: 'Let me in' }));
    expect(borrowed.json()).toMatchObject({ outcome: 'refused' });
    const stranger = await http(
      await compose({ from: 'dave@acme.test', to: SUPPORT, cc: alice.email, subject: `Re: [#${await numberOf()}] Export broken`, text: 'Me too!' }),
    );
    expect(stranger.json()).toEqual({ outcome: 'refused', reason: 'the sender may not act on this ticket' });
    const unknown = await http(await compose({ from: 'eve@nowhere.test', to: SUPPORT, subject: 'Help', text: 'New problem' }));
    expect(unknown.json()).toEqual({ outcome: 'refused', reason: 'unknown sender' });
    expect(await allComments()).toEqual([]);
    expect((await t.as(sam, { url: ADMIN })).json<{ total: number }>().total).toBe(1);
    expect((await inbound()).map((r) => r.outcome)).toEqual(['refused', 'refused', 'refused', 'refused']);
  });

  it('takes a staff reply as public, or as an internal note the customer never sees', async () => {
    await http(await compose({ from: sam.email, to: tokenAddress(sam.email), subject: 'Re: Export broken', text: 'We are on it.' }));
    await http(await compose({ from: sam.email, to: tokenAddress(sam.email), subject: 'Re: Export broken', text: '#internal\nLegacy plan customer.' }));
    expect(await allComments()).toEqual([
      { content: 'We are on it.', is_internal: 0, author_type: 'staff' },
      { content: 'Legacy plan customer.', is_internal: 1, author_type: 'staff' },
    ]);
    expect((await customerComments()).map((c) => c.content)).toEqual(['We are on it.']);
    expect((await staffComments()).map((c) => [c.is_internal, c.channel])).toEqual([
      [false, 'email'],
      [true, 'email'],
    ]);
  });

  it('opens a new ticket, naming the old one, for a reply to a closed ticket; and one for a known customer’s new mail', async () => {
    await t.as(alice, { method: 'POST', url: `${TICKETS}/${ticketId}/close` });
    const reply = (await http(await compose({ from: alice.email, to: tokenAddress(alice.email), subject: 'Re: Export broken', text: 'It is back.' }))).json();
    expect(reply.outcome).toBe('ticket');
    expect(reply.ticket_id).not.toBe(ticketId);
    const followUp = (await t.as(alice, { url: `${TICKETS}/${reply.ticket_id}` })).json<{ ticket: { title: string; description: string } }>().ticket;
    expect(followUp).toMatchObject({ title: 'Re: Export broken', description: `Follow-up to #${await numberOf()} (closed):\n\nIt is back.` });
    expect(await allComments()).toEqual([]);
    const fresh = (await smtp({ from: alice.email, to: SUPPORT, subject: 'Fwd: Billing question', text: 'Why two invoices?' })) as string;
    expect(fresh).toMatch(/ticket/);
    const list = (await t.as(alice, { url: TICKETS })).json<{ tickets: Array<{ title: string }> }>();
    expect(list.tickets.map((x) => x.title).sort()).toEqual(['Billing question', 'Export broken', 'Re: Export broken']);
  });

  it('keeps only the new text of a reply that quotes the whole thread, in HTML alone or in plain text', async () => {
    // Gmail's HTML-only reply: each earlier message nested in a blockquote under its attribution.
    const gmail = await compose({
      from: alice.email,
      to: tokenAddress(alice.email),
      subject: 'Re: [#1] Re: Export broken',
      html:
        '<div dir="ltr">Still failing on Firefox.<br><b>Chrome</b> works.</div><br><div class="gmail_quote"><div class="gmail_attr">On Tue, Dec 8, 2026 at 9:12 AM Acme Support &lt;support@desk.test&gt; wrote:<br></div>' +
        '<blockquote class="gmail_quote">Please clear the cache.<br><br><div class="gmail_quote"><div class="gmail_attr">On Mon, Dec 7, 2026 at 5:00 PM Alice &lt;alice@acme.test&gt; wrote:<br></div>' +
        '<blockquote class="gmail_quote">The export button does nothing.</blockquote></div></blockquote></div>',
    });
    expect((await smtp(gmail as Buffer, { from: alice.email, to: [tokenAddress(alice.email)] })) as string).toMatch(/^250/);
    // A plain-text reply on top of the whole thread, each level quoted once more.
    const thread = await compose({
      from: alice.email,
      to: tokenAddress(alice.email),
      subject: 'Re: Re: Export broken',
      text: [
        'Cleared it, same result.',
        '',
        'On Tue, 8 Dec 2026 at 10:00, Acme Support <support@desk.test> wrote:',
        '> Did clearing the cache help?',
        '>',
        '> On Tue, 8 Dec 2026 at 09:30, Alice <alice@acme.test> wrote:',
        '>> Still failing on Firefox.',
        '>>',
        '>> On Mon, 7 Dec 2026, Acme Support <support@desk.test> wrote:',
        '>>> Please clear the cache.',
      ].join('\r\n'),
    });
    expect((await http(thread)).json()).toEqual({ outcome: 'comment', ticket_id: ticketId });
    expect((await customerComments()).map((c) => c.content)).toEqual(['Still failing on Firefox.\nChrome works.', 'Cleared it, same result.']);
  });

  it('ignores auto-replies, bulk mail, our own messages and a second delivery of the same message', async () => {
    const auto = await compose({ from: alice.email, to: tokenAddress(alice.email), subject: 'Out of office', headers: { 'Auto-Submitted': 'auto-replied' }, text: 'Away' });
    expect((await http(auto)).json()).toMatchObject({ outcome: 'ignored' });
    const bulk = await compose({ from: alice.email, to: tokenAddress(alice.email), subject: 'News', headers: { Precedence: 'bulk' }, text: 'Sale' });
    expect((await http(bulk)).json()).toMatchObject({ outcome: 'ignored' });
    const ours = await compose({ from: SUPPORT, to: tokenAddress(alice.email), subject: 'Loop', text: 'Echo' });
    expect((await http(ours)).json()).toMatchObject({ outcome: 'ignored', reason: 'sent from our own address' });
    const once = await compose({ from: alice.email, to: tokenAddress(alice.email), subject: 'Re', messageId: '<once@mail.example>', text: 'Once' });
    expect((await http(once)).json().outcome).toBe('comment');
    expect((await http(once)).json()).toEqual({ outcome: 'ignored', reason: 'already received' });
    expect((await customerComments()).map((c) => c.content)).toEqual(['Once']);
    // No loop: nothing ignored became an event, so nothing is mailed back.
    await feedSettled(t.db);
    await queueMailFromEvents(t.db, await createMailContext(t.config, t.db)); // the consumer's first round: the end of the feed
    await http(await compose({ from: alice.email, to: tokenAddress(alice.email), subject: 'Auto', headers: { 'Auto-Submitted': 'auto-replied' }, text: 'Away again' }));
    await feedSettled(t.db);
    expect(await queueMailFromEvents(t.db, await createMailContext(t.config, t.db))).toBe(0);
    expect(await t.db.selectFrom('mail_outbox').select('id').execute()).toEqual([]);
  });

  it('reads ISO-8859-1 and Shift_JIS messages', async () => {
    const raw = (charset: string, body: Buffer) =>
      Buffer.concat([
        Buffer.from(`From: ${alice.email}\r\nTo: ${tokenAddress(alice.email)}\r\nSubject: Re\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=${charset}\r\nContent-Transfer-Encoding: 8bit\r\n\r\n`),
        body,
        Buffer.from('\r\n'),
      ]);
    expect((await http(raw('ISO-8859-1', Buffer.from([0x47, 0x72, 0xfc, 0xdf, 0x65])))).json().outcome).toBe('comment');
    const konnichiwa = Buffer.from([0x82, 0xb1, 0x82, 0xf1, 0x82, 0xc9, 0x82, 0xbf, 0x82, 0xcd]);
    expect((await http(raw('Shift_JIS', konnichiwa))).json().outcome).toBe('comment');
    expect((await customerComments()).map((c) => c.content)).toEqual(['Grüße', 'こんにちは']);
    // Over SMTP, a new ticket whose subject is a Shift_JIS encoded word and body ISO-8859-1 quoted-printable.
    const subject = `=?Shift_JIS?B?${Buffer.from([0x90, 0xbf, 0x8b, 0x81, 0x8f, 0x91]).toString('base64')}?=`; // 請求書
    const fresh = Buffer.from(
      `From: ${alice.email}\r\nTo: ${SUPPORT}\r\nSubject: ${subject}\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=ISO-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nO=F9 est ma facture=3F\r\n`,
    );
    expect(await smtp(fresh, { from: alice.email, to: [SUPPORT] })).toMatch(/ticket/);
    const opened = (await t.as(alice, { url: TICKETS })).json<{ tickets: Array<{ title: string }> }>().tickets.map((x) => x.title);
    expect(opened).toContain('請求書');
    const [record] = await t.db.selectFrom('mail_inbound').select('ticket_id').where('outcome', '=', 'ticket').execute();
    const description = (await t.as(alice, { url: `${TICKETS}/${record?.ticket_id}` })).json<{ ticket: { description: string } }>().ticket.description;
    expect(description).toBe('Où est ma facture?');
  });

  it('refuses malformed and oversized messages with an SMTP error and stays up', async () => {
    await expect(smtp(Buffer.from('this is not an e-mail at all\r\n'), { from: alice.email, to: [SUPPORT] })).rejects.toMatchObject({ responseCode: 550 });
    // Malformed MIME: a multipart message cut off before its closing boundary, one without a boundary.
    const truncated = Buffer.from(
      `From: ${alice.email}\r\nTo: ${tokenAddress(alice.email)}\r\nSubject: Re\r\nMIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary="b1"\r\n\r\n` +
        '--b1\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\nU3RpbGwg\r\n--b1\r\nContent-Type: text/html\r\n\r\n<p>Still',
    );
    await expect(smtp(truncated, { from: alice.email, to: [tokenAddress(alice.email)] })).rejects.toMatchObject({ responseCode: 550, response: expect.stringContaining('closing boundary') });
    const noBoundary = Buffer.from(`From: ${alice.email}\r\nTo: ${tokenAddress(alice.email)}\r\nSubject: Re\r\nContent-Type: multipart/mixed\r\n\r\nStill broken\r\n`);
    expect(problem(await http(noBoundary), 422).detail).toContain('without a boundary');
    const huge = await compose({ from: alice.email, to: tokenAddress(alice.email), subject: 'Big', text: 'x'.repeat(30 * 1024 * 1024) });
    expect(huge.length).toBeGreaterThan(MAX_BYTES);
    await expect(smtp(huge, { from: alice.email, to: [tokenAddress(alice.email)] })).rejects.toMatchObject({ responseCode: 552 });
    await expect(smtp({ from: alice.email, to: 'someone@elsewhere.test', subject: 'x', text: 'x' })).rejects.toMatchObject({ responseCode: 550 });
    expect(await smtp({ from: alice.email, to: tokenAddress(alice.email), subject: 'Re', text: 'Still here' })).toMatch(/^250/);
    problem(await http(Buffer.from('garbage without headers')), 422);
    problem(await http(huge), 413);
    // Well past the JSON body limit, well below the mail one: taken in, attachment and all.
    const withAttachment = await compose({
      from: alice.email,
      to: tokenAddress(alice.email),
      subject: 'Re',
      text: 'Log attached',
      attachments: [{ filename: 'app.log', content: Buffer.alloc(2 * 1024 * 1024, 'log line\n') }],
    });
    expect((await http(withAttachment)).json()).toEqual({ outcome: 'comment', ticket_id: ticketId });
    expect((await customerComments()).map((c) => c.content)).toEqual(['Still here', 'Log attached']);
  });

  it('records the channel itself: a request body naming one is refused', async () => {
    problem(await t.as(alice, { method: 'POST', url: `${TICKETS}/${ticketId}/comments`, payload: { content: 'Hi', channel: 'email' } }), 422);
    problem(await t.as(sam, { method: 'POST', url: `${ADMIN}/${ticketId}/comments`, payload: { content: 'Hi', channel: 'email' } }), 422);
    const created = await t.as(sam, { method: 'POST', url: `${ADMIN}/${ticketId}/comments`, payload: { content: 'Hi' } });
    expect(created.json()).toMatchObject({ channel: 'web', $schema: expect.stringContaining('StaffTicketComment') });
    expect(await allComments()).toHaveLength(1);
  });

  it('answers the HTTP endpoint only with its shared secret', async () => {
    const message = await compose({ from: alice.email, to: tokenAddress(alice.email), subject: 'Re', text: 'Hi' });
    problem(await http(message, 'wrong'), 401);
    problem(await t.app.inject({ method: 'POST', url: '/api/v1/inbound/email', headers: { 'content-type': 'message/rfc822' }, payload: message }), 401);
    expect(await allComments()).toEqual([]);
  });
});

describe('the HTTP endpoint without its secret configured', () => {
  let t: TestApp;
  beforeAll(async () => (t = await buildTestApp('sqlite')));
  afterAll(() => t.close());
  it('does not exist', async () => {
    problem(await t.app.inject({ method: 'POST', url: '/api/v1/inbound/email', headers: { 'content-type': 'message/rfc822' }, payload: 'From: a@b.c\r\n\r\nhi' }), 404);
  });
});

describe.each(dialects())('%s: upgrading to comments that record their channel (migration 028)', (dialect) => {
  it('marks the comments that came by mail before the upgrade, and only those', async () => {
    let ticketId = '';
    const t = await buildTestApp(
      dialect,
      {},
      {
        migration: '027_event_consumers',
        fill: async (db) => {
          ticketId = (await createTicket(db, { userId: alice.id, tenantId: 'org_acme', email: alice.email, isStaff: false }, { title: 'Old', description: 'Old', type: 'bug' }))
            .ticket_id;
          const comment = (id: string, content: string, minute: number) => ({
            id,
            ticket_id: ticketId,
            author_id: alice.id,
            author_email: alice.email,
            author_type: 'user',
            content,
            is_internal: 0,
            created_at: `2026-06-01T10:0${minute}:00.000Z`,
            indexed_chars: null,
          });
          await db
            .insertInto('ticket_comments')
            .values([comment('0190a000-0000-7000-8000-000000000101', 'Typed in the portal', 1), comment('0190a000-0000-7000-8000-000000000102', 'Sent by mail', 2)] as never)
            .execute();
          await db
            .insertInto('mail_inbound')
            .values({ id: 'in-1', received_at: '2026-06-01T10:02:00.000Z', via: 'smtp', message_id: 'm@x', sender: alice.email, subject: 'Re', outcome: 'comment', reason: null, ticket_id: ticketId, comment_id: '0190a000-0000-7000-8000-000000000102', raw: '', raw_bytes: 0 })
            .execute();
        },
      },
    );
    try {
      await t.as(sam, { url: ADMIN }); // sam is known as staff
      const comments = (await t.as(sam, { url: `${ADMIN}/${ticketId}` })).json<{ ticket: { comments: Array<{ content: string; channel: string }> } }>().ticket.comments;
      expect(comments.map((c) => [c.content, c.channel])).toEqual([
        ['Typed in the portal', 'web'],
        ['Sent by mail', 'email'],
      ]);
    } finally {
      await t.close();
    }
  });
});

describe.each(dialects())('%s: mail from unknown senders, when the operator opts in', (dialect) => {
  let t: TestApp;
  let receiver: SMTPServer;
  let port: number;
  const dave = 'dave@nowhere.test';
  beforeEach(async () => {
    t = await buildTestApp(dialect, {
      ...MAIL,
      HELPDESK_MAIL_UNKNOWN_SENDERS: 'open',
      HELPDESK_MAIL_INBOUND_TENANT: 'org_inbox',
      HELPDESK_MAIL_INBOUND_TENANTS: 'acme@desk.test=org_acme, help@globex.example=org_globex',
    });
    receiver = createSmtpReceiver(await createMailContext(t.config, t.db), {}, memoryLog());
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', () => resolve()));
    port = (receiver.server.address() as AddressInfo).port;
    await t.as(sam, { url: ADMIN }); // sam is known as staff
  });
  afterEach(async () => {
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
    await t.close();
  });
  const smtp = async (message: SendMailOptions) => {
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true });
    try {
      return (await transport.sendMail(message)).response as string;
    } finally {
      transport.close();
    }
  };
  const http = async (message: SendMailOptions) =>
    (
      await t.app.inject({
        method: 'POST',
        url: '/api/v1/inbound/email',
        headers: { 'content-type': 'message/rfc822', [INBOUND_SECRET_HEADER]: INBOUND_SECRET },
        payload: await compose(message),
      })
    ).json<{ outcome: string; reason?: string; ticket_id?: string }>();
  const staffTicket = async (id: string) =>
    (await t.as(sam, { url: `${ADMIN}/${id}` })).json<{ ticket: { tenant_id: string; created_by: string; created_by_email: string; title: string; comments: Array<{ content: string; channel: string }> } }>().ticket;
  const ticketsOf = async (sender: string) => t.db.selectFrom('tickets').select(['id', 'tenant_id']).where('created_by_email', '=', sender).execute();

  it('opens a stranger’s ticket in the tenant of the address they wrote to, and takes their reply to it', async () => {
    expect(await smtp({ from: dave, to: SUPPORT, subject: 'Pricing question', text: 'Do you have a plan for schools?' })).toMatch(/^250 .*ticket/);
    const [first] = await ticketsOf(dave);
    expect(first?.tenant_id).toBe('org_inbox');
    expect(await staffTicket(first?.id ?? '')).toMatchObject({ created_by: `email:${dave}`, created_by_email: dave, title: 'Pricing question' });

    // Written to the address that names a tenant: the ticket opens there.
    const mapped = await http({ from: 'erin@elsewhere.test', to: 'acme@desk.test', subject: 'Invoice', text: 'Where is my invoice?' });
    expect(mapped.outcome).toBe('ticket');
    expect(await staffTicket(mapped.ticket_id ?? '')).toMatchObject({ tenant_id: 'org_acme', created_by_email: 'erin@elsewhere.test' });
    // The receiver takes mail for a named address off the reply domain too.
    expect(await smtp({ from: 'frank@elsewhere.test', to: 'help@globex.example', subject: 'Login', text: 'Cannot log in.' })).toMatch(/^250 .*ticket/);
    expect((await ticketsOf('frank@elsewhere.test')).map((x) => x.tenant_id)).toEqual(['org_globex']);

    // The stranger is now the ticket's customer: their answer to our reply is a comment on it.
    const reply = await http({ from: dave, to: replyAddress(t.config.mail, replyToken(SECRET, first?.id ?? '', dave)), subject: 'Re: Pricing question', text: 'Thanks!' });
    expect(reply).toEqual({ outcome: 'comment', ticket_id: first?.id });
    expect((await staffTicket(first?.id ?? '')).comments.map((c) => [c.content, c.channel])).toEqual([['Thanks!', 'email']]);
    expect(await ticketsOf(dave)).toHaveLength(1);
  });

  it('opens it as the customer who signed in with that address, seen in their portal', async () => {
    expect((await t.as(alice, { url: TICKETS })).json().total).toBe(0); // alice signed in, never opened a ticket
    const opened = await http({ from: alice.email, to: 'acme@desk.test', subject: 'Hello', text: 'First time writing.' });
    expect(opened.outcome).toBe('ticket');
    const mine = (await t.as(alice, { url: TICKETS })).json<{ tickets: Array<{ ticket_id: string }> }>().tickets;
    expect(mine.map((x) => x.ticket_id)).toEqual([opened.ticket_id]);
  });

  it('still refuses a stranger on someone else’s ticket, auto-replies, and staff mail that answers no ticket', async () => {
    const alices = await createTicketAs(t, alice, { title: 'Export broken' });
    const number = (await t.db.selectFrom('tickets').select('number').where('id', '=', alices.ticket_id).executeTakeFirstOrThrow()).number;
    const cced = await http({ from: dave, to: SUPPORT, cc: alice.email, subject: `Re: [#${number}] Export broken`, text: 'Me too!' });
    expect(cced).toEqual({ outcome: 'refused', reason: 'the sender may not act on this ticket' });
    const borrowed = await http({ from: dave, to: replyAddress(t.config.mail, replyToken(SECRET, alices.ticket_id, alice.email)), subject: 'Re', text: 'Me too!' });
    expect(borrowed.outcome).toBe('refused');
    const auto = await http({ from: dave, to: SUPPORT, subject: 'Out of office', headers: { 'Auto-Submitted': 'auto-replied' }, text: 'Away' });
    expect(auto.outcome).toBe('ignored');
    const staff = await http({ from: sam.email, to: SUPPORT, subject: 'Note to self', text: 'Hello' });
    expect(staff).toEqual({ outcome: 'refused', reason: 'a staff message that answers no ticket' });
    expect(await ticketsOf(dave)).toEqual([]);
    expect(await t.db.selectFrom('ticket_comments').select('id').execute()).toEqual([]);
    const recorded = await t.db.selectFrom('mail_inbound').select(['sender', 'outcome']).orderBy('received_at').execute();
    expect(recorded.map((r) => r.outcome)).toEqual(['refused', 'refused', 'ignored', 'refused']);
  });
});
