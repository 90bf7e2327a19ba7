import type { SMTPServer } from 'smtp-server';
import type { Config } from '../config.js';
import type { Db } from '../db/database.js';
import { consumeEvents, startConsumerLoop } from '../events/event.consumer.js';
import { NOTIFYING_EVENTS, queueNotifications, type MailContext } from './mail.notifications.js';
import { createMailTransport, sendDueMail, type MailTransport } from './mail.sender.js';
import { createMailContext } from './mail.service.js';
import { createSmtpReceiver } from './mail.smtp-receiver.js';
import { pruneMail } from './mail.repository.js';

/** The events consumer that makes notifications (its cursor is in event_consumers). */
export const MAIL_CONSUMER = 'mail';
const FAN_OUT_BATCH = 100;

interface Logger {
  info(object: object, message: string): void;
  warn(object: object, message: string): void;
  error(object: object, message: string): void;
}

/** One round of fan-out: the next events become outbox rows, in the transaction that moves the cursor. */
export function queueMailFromEvents(db: Db, context: MailContext): Promise<number> {
  return consumeEvents(db, MAIL_CONSUMER, (trx, rows) => queueNotifications(trx, rows, context), { batch: FAN_OUT_BATCH, filter: { types: NOTIFYING_EVENTS } });
}

const PRUNE_BATCH = 1_000;
const DAY_MS = 86_400_000;

/** Deletes mail records older than the events' retention, a batch at a time; returns how many went. */
export async function pruneOldMail(db: Db, retentionDays: number, now = Date.now()): Promise<number> {
  const before = new Date(now - retentionDays * DAY_MS).toISOString();
  let total = 0;
  for (let n = PRUNE_BATCH; n >= PRUNE_BATCH; total += n) n = await pruneMail(db, before, PRUNE_BATCH);
  return total;
}

/** The running mail machinery; `stop` ends it, letting a round under way finish. */
export interface MailWorker {
  /** The SMTP receiver's port, when one listens. */
  inboundPort: number | undefined;
  stop(): Promise<void>;
}

/**
 * Starts mail off the request path: events to outbox rows every second, due rows sent every
 * two seconds (each claimed with a lease), records older than HELPDESK_EVENT_RETENTION_DAYS pruned
 * every ten minutes, and the SMTP receiver when a port is configured.
 */
export async function startMail(config: Config, db: Db, log: Logger, options: { transport?: MailTransport } = {}): Promise<MailWorker> {
  const context = await createMailContext(config, db);
  const transport = options.transport ?? createMailTransport(config);
  const fanOut = startConsumerLoop(() => queueMailFromEvents(db, context), {
    intervalMs: 1_000,
    batch: FAN_OUT_BATCH,
    onError: (error) => log.error({ err: error }, 'making mail notifications failed; trying again'),
  });
  const sender = startConsumerLoop(async () => (await sendDueMail(db, transport, log), 0), {
    intervalMs: 2_000,
    batch: 1,
    onError: (error) => log.error({ err: error }, 'sending mail failed; trying again'),
  });
  const pruner = startConsumerLoop(() => pruneOldMail(db, config.eventRetentionDays), {
    intervalMs: 10 * 60_000,
    batch: Number.POSITIVE_INFINITY,
    onError: (error) => log.error({ err: error }, 'pruning old mail records failed; trying again later'),
  });
  let receiver: SMTPServer | undefined;
  let inboundPort: number | undefined;
  if (config.mail.inboundPort !== undefined) {
    const server = createSmtpReceiver(context, { tls: config.mail.inboundTls }, log);
    server.on('error', (error) => log.error({ err: error }, 'SMTP receiver error'));
    await new Promise<void>((resolve, reject) => {
      server.server.once('error', reject);
      server.listen(config.mail.inboundPort, config.mail.inboundHost, () => resolve());
    });
    receiver = server;
    inboundPort = (server.server.address() as { port: number }).port;
    log.info({ port: inboundPort, host: config.mail.inboundHost }, 'SMTP receiver listening');
  }
  if (!config.mail.smtpUrl) log.info({ dir: `${config.dataDir}/outbox` }, 'no HELPDESK_SMTP_URL: notifications are written as .eml files');
  return {
    inboundPort,
    async stop() {
      await Promise.all([fanOut.stop(), sender.stop(), pruner.stop()]);
      if (receiver) await new Promise<void>((resolve) => (receiver as SMTPServer).close(() => resolve()));
      transport.close();
    },
  };
}
