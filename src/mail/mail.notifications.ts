import type { MailConfig } from '../config.js';
import { newId } from '../db/ids.js';
import type { Db } from '../db/database.js';
import type { FeedRow } from '../events/event.repository.js';
import type { EventType } from '../events/event.table.js';
import type { TicketCommentRow, TicketRow } from '../tickets/ticket.table.js';
import { findCommentsById, findMailLevels, findTicketsById, insertOutbox, mailLevelKey } from './mail.repository.js';
import type { MailKind, MailLevel, MailOutboxTable } from './mail.table.js';
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

/** What an event's data says that notifications need. */
interface EventData {
  comment_id?: string;
  to?: string;
}

/**
 * Who hears about an event, and what. A customer: a staff member's public reply, and their
 * ticket resolved or closed by staff. The assignee (the team while no one is assigned): a
 * customer's reply. The team: a new ticket. Never the actor, never for a staff-only event.
 */
function noticeOf(event: FeedRow, data: EventData, ticket: TicketRow, comment: TicketCommentRow | undefined, config: MailConfig): Notice | undefined {
  if (event.audience !== 'customer') return undefined;
  const forStaff = ticket.assigned_to_email ? [ticket.assigned_to_email] : [...config.team];
  if (event.type === 'ticket.created' && event.actor_type === 'user') {
    return { kind: 'new_ticket', recipients: [...config.team], message: ticket.description };
  }
  if (event.type === 'comment.created' && data.comment_id) {
    // An internal note is never mailed, whatever the event says.
    if (!comment || comment.ticket_id !== ticket.id || comment.is_internal !== 0) return undefined;
    return comment.author_type === 'staff'
      ? { kind: 'staff_reply', recipients: [ticket.created_by_email], message: comment.content }
      : { kind: 'customer_reply', recipients: forStaff, message: comment.content };
  }
  if (event.type === 'ticket.status_changed' && event.actor_type === 'staff' && (data.to === 'resolved' || data.to === 'closed')) {
    return { kind: data.to === 'resolved' ? 'ticket_resolved' : 'ticket_closed', recipients: [ticket.created_by_email], message: '' };
  }
  return undefined;
}

/** Whether a customer at this mail level (GET/PUT /me/mail; undefined: all) wants this kind of message. */
function customerWants(level: MailLevel | undefined, kind: MailKind): boolean {
  return level === undefined || level === 'all' || (level === 'replies' && kind === 'staff_reply');
}

/**
 * Turns events into outbox rows, rendered now (the message says what the event said, however
 * the ticket moves on). Runs inside the consumer's transaction: sending happens later. The
 * batch's tickets, comments and customers' mail levels are read with one query each.
 */
export async function queueNotifications(trx: Db, events: FeedRow[], context: MailContext): Promise<void> {
  const { config, secret, templates } = context;
  const batch = events.map((event) => ({ event, data: JSON.parse(event.data) as EventData }));
  const tickets = await findTicketsById(trx, batch.map(({ event }) => event.ticket_id));
  const comments = await findCommentsById(
    trx,
    batch.flatMap(({ event, data }) => (event.type === 'comment.created' && data.comment_id ? [data.comment_id] : [])),
  );
  const notices = batch.flatMap(({ event, data }) => {
    const ticket = tickets.get(event.ticket_id);
    const notice = ticket && noticeOf(event, data, ticket, data.comment_id ? comments.get(data.comment_id) : undefined, config);
    return ticket && notice ? [{ event, ticket, notice }] : [];
  });
  const levels = await findMailLevels(
    trx,
    notices.map(({ ticket }) => ({ tenantId: ticket.tenant_id, userId: ticket.created_by })),
  );
  const rows: MailOutboxTable[] = [];
  for (const { event, ticket, notice } of notices) {
    const actor = event.actor_email.toLowerCase();
    const recipients = [...new Set(notice.recipients.map((r) => r.toLowerCase()))].filter((r) => r !== actor);
    for (const recipient of recipients) {
      const toCustomer = recipient === ticket.created_by_email.toLowerCase();
      if (toCustomer && !customerWants(levels.get(mailLevelKey(ticket.tenant_id, ticket.created_by)), notice.kind)) continue;
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
