import fs from 'node:fs/promises';
import path from 'node:path';
import { sql } from 'kysely';
import { simpleParser } from 'mailparser';
import nodemailer from 'nodemailer';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { alice, buildTestApp, createTicketAs, sam, TICKETS, type TestApp } from '../../test/helpers.js';
import { dialects } from '../../test/dialects.js';
import { memoryLog } from '../../test/mail.js';
import { MAIL_CONSUMER, startMail, type MailWorker } from './mail.worker.js';

/** Polls `check` until it holds (the worker runs on its own timers), failing after 20 s. */
async function until<T>(check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not reached in 20 s');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe.each(dialects())('%s: the mail worker started by serve', (dialect) => {
  let t: TestApp;
  let worker: MailWorker | undefined;
  beforeEach(async () => {
    t = await buildTestApp(dialect, { HELPDESK_MAIL_FROM: 'support@desk.test', HELPDESK_SMTP_INBOUND_PORT: '0', HELPDESK_SMTP_INBOUND_HOST: '127.0.0.1' });
  });
  afterEach(async () => {
    await worker?.stop();
    await t.close();
  });

  it('writes a staff reply to the development outbox, and takes the customer’s answer by SMTP', async () => {
    const log = memoryLog();
    worker = await startMail(t.config, t.db, log);
    // The consumer's first round places it at the end of the feed; what follows is mailed.
    await until(async () => (await sql`select position from event_consumers where name = ${MAIL_CONSUMER}`.execute(t.db)).rows[0]);
    const ticket = await createTicketAs(t, alice);
    await t.as(sam, { method: 'POST', url: `/api/v1/admin/support/tickets/${ticket.ticket_id}/comments`, payload: { content: 'Please try again now.' } });
    const outbox = path.join(t.dir, 'outbox');
    const file = await until(async () => (await fs.readdir(outbox).catch(() => [] as string[])).find((f) => f.endsWith('.eml')));
    const mail = await simpleParser(await fs.readFile(path.join(outbox, file)));
    expect(mail.to).toMatchObject({ value: [{ address: alice.email }] });
    expect(mail.text).toContain('Please try again now.');

    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: worker.inboundPort, secure: false, ignoreTLS: true });
    await transport.sendMail({ from: alice.email, to: mail.replyTo?.value[0]?.address, subject: `Re: ${mail.subject}`, text: 'Works now, thanks!' });
    transport.close();
    const comments = (await t.as(alice, { url: `${TICKETS}/${ticket.ticket_id}` })).json<{ ticket: { comments: Array<{ content: string }> } }>().ticket.comments;
    expect(comments.map((c) => c.content)).toEqual(['Please try again now.', 'Works now, thanks!']);
    expect(log.lines.some((l) => l.message === 'mail sent')).toBe(true);
  });
});
