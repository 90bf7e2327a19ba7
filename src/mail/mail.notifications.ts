import type { MailConfig } from '../config.js';
import { newId } from '../db/ids.js';
import type { Db } from '../db/database.js';
import type { FeedRow } from '../events/event.repository.js';
import type { EventType } from '../events/event.table.js';
import { ALL_TENANTS, findTicket } from '../tickets/ticket.repository.js';
import type { TicketRow } from '../tickets/ticket.table.js';
import { findComment, findMailLevel, insertOutbox } from './mail.repository.js';
import type { MailKind, MailOutboxTable } from './mail.table.js';
import { renderTemplate, type MailTemplates } from './mail.templates.js';
import { replyAddress, replyToken } from './mail.tokens.js';

/** What making notifications needs: the configuration, the tokens' key, the templates. */
export interface MailContext {
  config: MailConfig;
  secret: string;
  templates: MailTemplates;
}

/** The events that may notify someone; the mail consumer reads only these. */
export const NOTIFYING_EVENTS: EventType[] = ['ticket.created', 'comment.created', 'ticket.status_changed'];

interface Notice {
  kind: MailKind;
  recipients: string[];
  message: string;
}

/** The ticket's thread: every notification about it answers this Message-ID. */
export const threadIdOf = (config: MailConfig, ticketId: string) => `ticket-${ticketId}@${config.replyDomain}`;

/**
 * Who hears about an event, and what. A customer: a staff member's public reply, and their
 * ticket resolved or closed by staff. The assignee (the team while no one is assigned): a
 * customer's reply. The team: a new ticket. Never the actor, never for a staff-only event.
 */
async function noticeOf(db: Db, event: FeedRow, ticket: TicketRow, config: MailConfig): Promise<Notice | undefined> {
  if (event.audience !== 'customer') return undefined;
  const data = JSON.parse(event.data) as { comment_id?: string; to?: string };
  const forStaff = ticket.assigned_to_email ? [ticket.assigned_to_email] : [...config.team];
  if (event.type === 'ticket.created' && event.actor_type === 'user') {
    return { kind: 'new_ticket', recipients: [...config.team], message: ticket.description };
  }
  if (event.type === 'comment.created' && data.comment_id) {
    const comment = await findComment(db, ticket.id, data.comment_id);
    // An internal note is never mailed, whatever the event says.
    if (!comment || comment.is_internal !== 0) return undefined;
    return comment.author_type === 'staff'
      ? { kind: 'staff_reply', recipients: [ticket.created_by_email], message: comment.content }
      : { kind: 'customer_reply', recipients: forStaff, message: comment.content };
  }
  if (event.type === 'ticket.status_changed' && event.actor_type === 'staff' && (data.to === 'resolved' || data.to === 'closed')) {
    return { kind: data.to === 'resolved' ? 'ticket_resolved' : 'ticket_closed', recipients: [ticket.created_by_email], message: '' };
  }
  return undefined;
}

/** Whether the ticket's customer chose to be mailed this kind of message (GET/PUT /me/mail). */
async function customerWants(db: Db, ticket: TicketRow, kind: MailKind): Promise<boolean> {
  const level = (await findMailLevel(db, ticket.tenant_id, ticket.created_by)) ?? 'all';
  return level === 'all' || (level === 'replies' && kind === 'staff_reply');
}

/**
 * Turns events into outbox rows, rendered now (the message says what the event said, however
 * the ticket moves on). Runs inside the consumer's transaction: sending happens later.
 */
export async function queueNotifications(trx: Db, events: FeedRow[], context: MailContext): Promise<void> {
  const { config, secret, templates } = context;
  const rows: MailOutboxTable[] = [];
  for (const event of events) {
    const ticket = await findTicket(trx, event.ticket_id, ALL_TENANTS);
    if (!ticket) continue;
    const notice = await noticeOf(trx, event, ticket, config);
    if (!notice) continue;
    const actor = event.actor_email.toLowerCase();
    const recipients = [...new Set(notice.recipients.map((r) => r.toLowerCase()))].filter((r) => r !== actor);
    for (const recipient of recipients) {
      const toCustomer = recipient === ticket.created_by_email.toLowerCase();
      if (toCustomer && !(await customerWants(trx, ticket, notice.kind))) continue;
      const values = {
        product: config.fromName,
        ticket_title: ticket.title,
        ticket_number: String(ticket.number),
        ticket_status: ticket.status,
        message: notice.message,
        author: event.actor_type === 'staff' ? config.fromName : event.actor_email,
        link: `${config.publicUrl}/${toCustomer ? 'tickets' : 'staff/tickets'}/${ticket.id}`,
      };
      const template = templates[notice.kind];
      const id = newId();
      // The tag is what a reply is matched by when nothing else is left: not up to the template.
      const subject = `[#${ticket.number}] ${renderTemplate(template.subject, values, 'text')}`.replace(/[\r\n]+/g, ' ').slice(0, 250);
      rows.push({
        id,
        event_id: event.event_id,
        ticket_id: ticket.id,
        tenant_id: ticket.tenant_id,
        recipient,
        kind: notice.kind,
        message_id: `${id}@${config.replyDomain}`,
        thread_id: threadIdOf(config, ticket.id),
        reply_to: replyAddress(config, replyToken(secret, ticket.id, recipient)),
        subject,
        body_text: renderTemplate(template.text, values, 'text'),
        body_html: renderTemplate(template.html, values, 'html'),
        status: 'pending',
        attempts: 0,
        next_attempt_at: event.occurred_at,
        locked_until: null,
        last_error: null,
        created_at: event.occurred_at,
        sent_at: null,
      });
    }
  }
  await insertOutbox(trx, rows);
}
