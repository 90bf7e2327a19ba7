// Mail figures: fan-out and SMTP sending of N notifications to a relay on loopback, and the cost
// of taking replies in over HTTP (a small one, and one near the size limit, which is parsed on
// the event loop). Run: node --import tsx bench/mail.ts [sqlite|postgres] [N]
import nodemailer from 'nodemailer';
import { performance } from 'node:perf_hooks';
import { alice, buildTestApp, createTicketAs, sam } from '../test/helpers.js';
import { memoryLog, TestMta } from '../test/mail.js';
import { feedSettled } from '../test/events.js';
import { createMailTransport, sendDueMail } from '../src/mail/mail.sender.js';
import { createMailContext } from '../src/mail/mail.service.js';
import { receiveMail } from '../src/mail/mail.inbound.js';
import { queueMailFromEvents } from '../src/mail/mail.worker.js';
import { replyAddress, replyToken } from '../src/mail/mail.tokens.js';

const dialect = (process.argv[2] ?? 'sqlite') as 'sqlite' | 'postgres';
const n = Number(process.argv[3] ?? 500);
const mta = new TestMta();
await mta.start();
const t = await buildTestApp(dialect, {
  HELPDESK_SMTP_URL: `smtp://127.0.0.1:${mta.port}`,
  HELPDESK_MAIL_FROM: 'support@desk.test',
  HELPDESK_MAIL_SECRET: 's'.repeat(40),
  HELPDESK_MAIL_SENDER_HOURLY_LIMIT: '1000000',
  LOG_LEVEL: 'silent',
});
const context = await createMailContext(t.config, t.db);
await queueMailFromEvents(t.db, context);
const ticket = await createTicketAs(t, alice);
for (let i = 0; i < n; i++) await t.as(sam, { method: 'POST', url: `/api/v1/admin/support/tickets/${ticket.ticket_id}/comments`, payload: { content: `Reply ${i}` } });
await feedSettled(t.db);

let start = performance.now();
while ((await queueMailFromEvents(t.db, context)) > 0);
const fanOutMs = performance.now() - start;
const transport = createMailTransport(t.config);
start = performance.now();
const round = await sendDueMail(t.db, transport, memoryLog());
const sendMs = performance.now() - start;
transport.close();

const compose = async (text: string) =>
  (await nodemailer.createTransport({ streamTransport: true, buffer: true }).sendMail({
    from: alice.email,
    to: replyAddress(t.config.mail, replyToken('s'.repeat(40), ticket.ticket_id, alice.email)),
    subject: 'Re',
    text,
  })).message as Buffer;
const small = await compose('Thanks, that works.\n\nOn Mon, Support wrote:\n> Reply 1');
const inbound = Math.min(n, 200);
start = performance.now();
for (let i = 0; i < inbound; i++) await receiveMail(context, Buffer.concat([small, Buffer.from(`\n${i}`)]), 'http');
const inboundMs = (performance.now() - start) / inbound;
const big = await compose('x'.repeat(20 * 1024 * 1024));
start = performance.now();
await receiveMail(context, big, 'http');
const bigMs = performance.now() - start;

process.stdout.write(
  `${JSON.stringify({ dialect, notifications: n, sent: round.sent, fan_out_ms: Math.round(fanOutMs), send_ms: Math.round(sendMs), sent_per_s: Math.round(round.sent / (sendMs / 1000)), inbound_ms_each: +inboundMs.toFixed(1), inbound_20mib_ms: Math.round(bigMs) })}\n`,
);
await t.close();
await mta.stop();
