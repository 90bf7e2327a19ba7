import fs from 'node:fs/promises';
import path from 'node:path';
import nodemailer, { type SendMailOptions, type Transporter } from 'nodemailer';
import type { Config } from '../config.js';
import type { Db } from '../db/database.js';
import { claimDueMail, finishAttempt } from './mail.repository.js';
import type { MailOutboxRow } from './mail.table.js';

/** Where development messages go when no SMTP server is configured. */
export const OUTBOX_DIR = 'outbox';
const LEASE_MS = 2 * 60_000;
const MAX_ATTEMPTS = 12;
const FIRST_RETRY_MS = 30_000;
const LAST_RETRY_MS = 60 * 60_000;

/** Delivers one built message: over SMTP, or into a file. */
export interface MailTransport {
  deliver(row: MailOutboxRow): Promise<void>;
  close(): void;
}

interface Logger {
  info(object: object, message: string): void;
  warn(object: object, message: string): void;
}

function messageOf(config: Config, row: MailOutboxRow): SendMailOptions {
  const thread = `<${row.thread_id}>`;
  return {
    from: { name: config.mail.fromName, address: config.mail.fromAddress },
    to: row.recipient,
    replyTo: row.reply_to,
    subject: row.subject,
    text: row.body_text,
    html: row.body_html,
    messageId: `<${row.message_id}>`,
    inReplyTo: thread,
    references: [thread],
    date: new Date(row.created_at),
    // Tells auto-responders (and our own receiver) not to answer: no mail loops.
    headers: { 'Auto-Submitted': 'auto-generated', 'X-Auto-Response-Suppress': 'All' },
  };
}

/**
 * The configured transport: SMTP at HELPDESK_SMTP_URL (STARTTLS when the server offers it,
 * TLS from the start with smtps://), or without one `.eml` files under the data directory.
 */
export function createMailTransport(config: Config): MailTransport {
  if (config.mail.smtpUrl) {
    // Short timeouts: a hung server delays the next messages, and a failed try is retried anyway.
    // One pooled connection, reused: a new connection per message costs several times the message.
    const smtp: Transporter = nodemailer.createTransport({
      url: config.mail.smtpUrl,
      pool: true,
      maxConnections: 1,
      connectionTimeout: 10_000,
      greetingTimeout: 10_000,
      socketTimeout: 30_000,
      disableFileAccess: true,
      disableUrlAccess: true,
    });
    return {
      async deliver(row) {
        await smtp.sendMail(messageOf(config, row));
      },
      close: () => smtp.close(),
    };
  }
  const files = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  const dir = path.join(config.dataDir, OUTBOX_DIR);
  return {
    async deliver(row) {
      const info = await files.sendMail({ ...messageOf(config, row), disableFileAccess: true, disableUrlAccess: true });
      await fs.mkdir(dir, { recursive: true });
      // Written whole, then renamed: a reader never sees half a message.
      const file = path.join(dir, `${row.created_at.replace(/[:.]/g, '-')}-${row.id}.eml`);
      await fs.writeFile(`${file}.tmp`, info.message as Buffer);
      await fs.rename(`${file}.tmp`, file);
    },
    close: () => files.close(),
  };
}

/** An SMTP reply code of 5xx: the server refuses the message for good. */
function isPermanent(error: unknown): boolean {
  const code = (error as { responseCode?: unknown }).responseCode;
  return typeof code === 'number' && code >= 500 && code < 600;
}

/** What one round of sending did. */
export interface SendRound {
  sent: number;
  retrying: number;
  failed: number;
}

/**
 * Sends the due messages, a batch at a time, each claimed with a lease so that no other
 * instance sends it meanwhile. A failure is retried with growing delays; a 5xx reply, or too
 * many tries, is recorded on the row and ends it. Every attempt is logged.
 */
export async function sendDueMail(db: Db, transport: MailTransport, log: Logger, options: { now?: () => Date; batch?: number } = {}): Promise<SendRound> {
  const now = options.now ?? (() => new Date());
  const round: SendRound = { sent: 0, retrying: 0, failed: 0 };
  for (;;) {
    const start = now();
    const lease = new Date(start.getTime() + LEASE_MS).toISOString();
    const rows = await claimDueMail(db, start.toISOString(), lease, options.batch ?? 20);
    if (rows.length === 0) return round;
    for (const row of rows) {
      const attempt = { mail_id: row.id, kind: row.kind, attempt: row.attempts };
      try {
        await transport.deliver(row);
        await finishAttempt(db, row.id, lease, { status: 'sent', at: now().toISOString() });
        round.sent++;
        log.info(attempt, 'mail sent');
      } catch (error) {
        const reason = error instanceof Error ? error.message.slice(0, 500) : String(error);
        if (isPermanent(error) || row.attempts >= MAX_ATTEMPTS) {
          await finishAttempt(db, row.id, lease, { status: 'failed', error: reason });
          round.failed++;
          log.warn({ ...attempt, reason }, 'mail not delivered: given up');
        } else {
          const delay = Math.min(FIRST_RETRY_MS * 2 ** (row.attempts - 1), LAST_RETRY_MS);
          await finishAttempt(db, row.id, lease, { status: 'pending', retryAt: new Date(now().getTime() + delay).toISOString(), error: reason });
          round.retrying++;
          log.warn({ ...attempt, reason, retry_in_ms: delay }, 'mail not delivered: will retry');
        }
      }
    }
  }
}
