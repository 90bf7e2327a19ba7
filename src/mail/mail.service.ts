import type { Config } from '../config.js';
import type { Db } from '../db/database.js';
import { AppError } from '../http/problem.js';
import { MalformedMail, receiveMail, type InboundContext } from './mail.inbound.js';
import type { MailContext } from './mail.notifications.js';
import { loadTemplates } from './mail.templates.js';
import { loadMailSecret } from './mail.tokens.js';

/** Everything mail needs at run time, read once at start (a broken template folder fails the start). */
export async function createMailContext(config: Config, db: Db): Promise<MailContext & InboundContext> {
  return { db, config: config.mail, secret: await loadMailSecret(config), templates: await loadTemplates(config.mail.templatesDir) };
}

/** What the inbound endpoint answers. */
export interface InboundEmailResult {
  outcome: 'comment' | 'note' | 'ticket' | 'refused' | 'ignored';
  reason?: string;
  ticket_id?: string;
}

/** Takes in a message posted to the inbound endpoint; one that is not mail at all is a 422. */
export async function receiveInboundOverHttp(context: InboundContext, body: unknown): Promise<InboundEmailResult> {
  if (!Buffer.isBuffer(body) || body.length === 0) throw new AppError(422, 'expected a raw e-mail message (message/rfc822) as the body');
  try {
    const result = await receiveMail(context, body, 'http');
    return {
      outcome: result.outcome,
      ...(result.reason ? { reason: result.reason } : {}),
      // A refused sender learns nothing about which tickets exist.
      ...(result.ticketId && result.outcome !== 'refused' ? { ticket_id: result.ticketId } : {}),
    };
  } catch (error) {
    if (error instanceof MalformedMail) throw new AppError(422, error.message);
    throw error;
  }
}
