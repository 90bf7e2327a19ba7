import type { Config } from '../config.js';
import type { Db } from '../db/database.js';
import { nowIso } from '../db/ids.js';
import type { Actor } from '../http/auth.js';
import { schemaUrl } from '../http/schemas.js';
import { findMailLevel, saveMailLevel } from './mail.repository.js';
import type { MailPreference, UpdateMailPreferenceBody } from './mail.schemas.js';
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

/** What the caller wants to be mailed about in their current tenant (all, unless they chose). */
export async function getMyMailPreference(db: Db, actor: Actor): Promise<MailPreference> {
  return { $schema: schemaUrl('MailPreference'), email: (await findMailLevel(db, actor.tenantId, actor.userId)) ?? 'all' };
}

/** Sets what the caller is mailed about in their current tenant. */
export async function setMyMailPreference(db: Db, actor: Actor, body: UpdateMailPreferenceBody): Promise<MailPreference> {
  await saveMailLevel(db, actor.tenantId, actor.userId, body.email, nowIso());
  return { $schema: schemaUrl('MailPreference'), email: body.email };
}
