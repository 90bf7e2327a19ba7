import type { TicketAttachmentRow } from '../attachments/attachment.table.js';
import type { ActorType, Audience, EventType, NewTicketEvent } from '../events/event.table.js';
import { newId } from '../db/ids.js';
import type { Actor } from '../http/auth.js';
import { AppError, conflict } from '../http/problem.js';
import { UNSOLVED_STATUSES, type CommentChannel, type MessageFrom, type TicketCommentRow, type TicketHistoryRow, type TicketPriority, type TicketRow, type TicketStatus, type TicketType, type WaitingOn } from './ticket.table.js';

/**
 * Every change a ticket can go through, each described once: what it refuses, which columns it
 * sets, the comment and history rows it adds, and the events that record it. These functions
 * only plan; ticket.repository.ts writes a plan (the same way on both databases, the ticket's
 * columns only if it is still at the version the plan was made from), and the services read,
 * plan and write (ticket.service.ts, admin.service.ts).
 */

/** A ticket may hold this many comments, notes included. */
export const MAX_COMMENTS_PER_TICKET = 1_000;
/** And this many characters of comments in all: its page stays a few megabytes at most. */
export const MAX_COMMENT_CHARS_PER_TICKET = 500_000;
/**
 * A ticket's search document holds its title, its description and its comments' first
 * 100,000 characters (migration 018 freezes a copy): a comment past them is not indexed and
 * costs no re-indexing, so piling comments on one ticket costs a bounded amount of work.
 */
export const SEARCHED_COMMENT_CHARS = 100_000;

/** Who makes a change, and in which role: a customer (`user`) or the support team (`staff`). */
export interface ChangeActor {
  id: string;
  email: string;
  type: ActorType;
}

export const asCustomer = (actor: Actor): ChangeActor => ({ id: actor.userId, email: actor.email, type: 'user' });
export const asStaff = (actor: Actor): ChangeActor => ({ id: actor.userId, email: actor.email, type: 'staff' });

/** A planned change to an existing ticket. */
export interface TicketChange {
  /** The ticket as it was read; the write happens only if it is still at this version. */
  before: TicketRow;
  /** The columns that change (the writer also bumps `version`). */
  patch: Partial<Omit<TicketRow, 'id' | 'version'>>;
  /** The ticket as written: `before` with `patch`, one version on. */
  after: TicketRow;
  comment?: TicketCommentRow;
  /** Uploads the comment attaches (already checked to be the author's, unattached). */
  attachments?: TicketAttachmentRow[];
  history: TicketHistoryRow[];
  events: NewTicketEvent[];
}

/** Characters of the last public message a ticket keeps to show in the queue. */
export const PREVIEW_CHARS = 160;

/** The first `n` characters of a text, counted as charCount counts them. */
export function firstChars(text: string, n: number): string {
  return text.length <= n ? text : Array.from(text).slice(0, n).join('');
}


/**
 * What needs attention next, after a public message by `from` at `at` on `ticket` (whose
 * status is already the one the change leaves): the other side is now the one waiting, since
 * this message if it was not waiting already (a customer's second message does not restart
 * support's wait). Solved tickets wait on no one.
 */
export function afterMessage(ticket: Pick<TicketRow, 'status' | 'waiting_on' | 'waiting_since'>, from: MessageFrom, text: string, at: string): TicketChange['patch'] {
  const waiting: WaitingOn = from === 'customer' ? 'support' : 'customer';
  const message = from === 'customer' ? { last_customer_message_at: at } : { last_staff_reply_at: at };
  return {
    ...message,
    last_message_from: from,
    last_message_preview: firstChars(text, PREVIEW_CHARS),
    ...(UNSOLVED_STATUSES.has(ticket.status)
      ? { waiting_on: waiting, waiting_since: ticket.waiting_on === waiting ? ticket.waiting_since : at }
      : { waiting_on: null, waiting_since: null }),
  };
}

/**
 * What needs attention next after a status change from `ticket.status` to `to` at `at`:
 * solving stops the wait; taking a solved ticket back up starts one, for whoever did not
 * speak last; open and in progress are the same wait.
 */
export function afterStatus(ticket: Pick<TicketRow, 'status' | 'last_message_from'>, to: TicketStatus, at: string): TicketChange['patch'] {
  if (!UNSOLVED_STATUSES.has(to)) return { waiting_on: null, waiting_since: null };
  if (UNSOLVED_STATUSES.has(ticket.status)) return {};
  return { waiting_on: ticket.last_message_from === 'customer' ? 'support' : 'customer', waiting_since: at };
}

/** A planned new ticket. */
export interface NewTicket {
  ticket: TicketRow;
  attachments: TicketAttachmentRow[];
  events: NewTicketEvent[];
}

/** The rows attaching uploads to a ticket (`comment` null) or to a comment, as visible as it is. */
function attach(uploadIds: readonly string[], ticketId: string, comment: TicketCommentRow | null, at: string): TicketAttachmentRow[] {
  return uploadIds.map((id) => ({ upload_id: id, ticket_id: ticketId, comment_id: comment?.id ?? null, is_internal: comment?.is_internal ?? 0, created_at: at }));
}

/** Event data naming the attachments, only when there are some (events without them are unchanged). */
const attachmentData = (uploadIds: readonly string[]) => (uploadIds.length > 0 ? { attachment_ids: [...uploadIds] } : {});

/** Characters as the API's length limits count them (code points, as JSON Schema and SQL do). */
export function charCount(text: string): number {
  let n = text.length;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    // A high surrogate followed by a low one is one character.
    if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        n--;
        i++;
      }
    }
  }
  return n;
}

/** How much of a comment written after `before` characters of comments its ticket's search holds; null for all. */
export function indexedChars(before: number, length: number): number | null {
  const room = Math.max(0, SEARCHED_COMMENT_CHARS - before);
  return length <= room ? null : room;
}

function eventOf(
  type: EventType,
  ticket: Pick<TicketRow, 'id' | 'tenant_id'>,
  by: ChangeActor,
  audience: Audience,
  data: Record<string, unknown>,
  at: string,
): NewTicketEvent {
  return {
    event_id: newId(),
    type,
    ticket_id: ticket.id,
    tenant_id: ticket.tenant_id,
    actor_id: by.id,
    actor_email: by.email,
    actor_type: by.type,
    audience,
    occurred_at: at,
    data: JSON.stringify(data),
  };
}

function historyOf(ticket: TicketRow, by: ChangeActor, field: string, oldValue: string | null, newValue: string | null, at: string): TicketHistoryRow {
  return {
    id: newId(),
    ticket_id: ticket.id,
    field_changed: field,
    old_value: oldValue,
    new_value: newValue,
    changed_by: by.id,
    changed_by_email: by.email,
    created_at: at,
  };
}

function changeOf(before: TicketRow, patch: TicketChange['patch'], rest: Pick<TicketChange, 'history' | 'events' | 'comment' | 'attachments'>): TicketChange {
  return { before, patch, after: { ...before, ...patch, version: before.version + 1 }, ...rest };
}

/** A status change's history row and event (closed, resolved and reopened are statuses). */
function statusChange(ticket: TicketRow, by: ChangeActor, to: TicketStatus, at: string) {
  return {
    history: historyOf(ticket, by, 'status', ticket.status, to, at),
    event: eventOf('ticket.status_changed', ticket, by, 'customer', { from: ticket.status, to }, at),
  };
}

/**
 * Opens a ticket for a customer: status open, priority normal, unassigned, waiting on support.
 * `number` is the next of the desk's ticket numbers (ticket.numbers.ts).
 */
export function planNewTicket(
  by: ChangeActor,
  tenantId: string,
  input: { title: string; description: string; type: TicketType },
  at: string,
  number: number,
  uploadIds: readonly string[] = [],
): NewTicket {
  const ticket: TicketRow = {
    id: newId(),
    tenant_id: tenantId,
    created_by: by.id,
    created_by_email: by.email,
    title: input.title,
    description: input.description,
    type: input.type,
    status: 'open',
    priority: 'normal',
    assigned_to: null,
    assigned_to_email: null,
    comment_count: 0,
    internal_comment_count: 0,
    comment_chars: 0,
    created_at: at,
    updated_at: at,
    resolved_at: null,
    first_response_at: null,
    version: 1,
    number,
    waiting_on: 'support',
    waiting_since: at,
    last_message_from: 'customer',
    last_customer_message_at: at,
    last_staff_reply_at: null,
    last_message_preview: firstChars(input.description, PREVIEW_CHARS),
  };
  const data = { number, status: ticket.status, priority: ticket.priority, type: ticket.type, ...attachmentData(uploadIds) };
  return { ticket, attachments: attach(uploadIds, ticket.id, null, at), events: [eventOf('ticket.created', ticket, by, 'customer', data, at)] };
}

const CLOSED_TAKES_NO_COMMENTS = 'ticket is closed and takes no more comments; open a new ticket';
const ALREADY_CLOSED = 'ticket is already closed';

/** The comment row, or a 409 when the ticket cannot take it (its limits). */
function commentOn(ticket: TicketRow, by: ChangeActor, content: string, isInternal: boolean, at: string, channel: CommentChannel): TicketCommentRow {
  const length = charCount(content);
  if (ticket.comment_count + ticket.internal_comment_count >= MAX_COMMENTS_PER_TICKET) {
    throw conflict(`ticket has reached its limit of ${MAX_COMMENTS_PER_TICKET.toLocaleString('en')} comments; open a new ticket`);
  }
  if (ticket.comment_chars + length > MAX_COMMENT_CHARS_PER_TICKET) {
    throw conflict(`ticket has reached its limit of ${MAX_COMMENT_CHARS_PER_TICKET.toLocaleString('en')} characters of comments; open a new ticket`);
  }
  return {
    id: newId(),
    ticket_id: ticket.id,
    author_id: by.id,
    author_email: by.email,
    author_type: by.type === 'staff' ? 'staff' : 'user',
    content,
    is_internal: isInternal ? 1 : 0,
    created_at: at,
    indexed_chars: indexedChars(ticket.comment_chars, length),
    channel,
  };
}

/**
 * A customer's comment on their ticket. A closed ticket takes no more comments; a comment on a
 * resolved ticket reopens it, because the customer says it is not solved.
 */
export function planCustomerComment(
  ticket: TicketRow,
  by: ChangeActor,
  content: string,
  at: string,
  uploadIds: readonly string[] = [],
  channel: CommentChannel = 'web',
): TicketChange {
  if (ticket.status === 'closed') throw conflict(CLOSED_TAKES_NO_COMMENTS);
  const comment = commentOn(ticket, by, content, false, at, channel);
  const status: TicketStatus = ticket.status === 'resolved' ? 'open' : ticket.status;
  const patch: TicketChange['patch'] = {
    comment_count: ticket.comment_count + 1,
    comment_chars: ticket.comment_chars + charCount(content),
    updated_at: at,
    ...afterMessage({ ...ticket, status }, 'customer', content, at),
  };
  const events = [eventOf('comment.created', ticket, by, 'customer', commentData(comment, uploadIds), at)];
  const history: TicketHistoryRow[] = [];
  if (status !== ticket.status) {
    Object.assign(patch, { status, resolved_at: null });
    const reopened = statusChange(ticket, by, status, at);
    history.push(reopened.history);
    events.push(reopened.event);
  }
  return changeOf(ticket, patch, { comment, attachments: attach(uploadIds, ticket.id, comment, at), history, events });
}

/**
 * A support-team comment, on a ticket of any status. An internal note is counted apart and
 * changes nothing a customer can see (not even `updated_at`); the first public reply stamps
 * the ticket's first-response time.
 */
export function planStaffComment(
  ticket: TicketRow,
  by: ChangeActor,
  input: { content: string; isInternal: boolean },
  at: string,
  uploadIds: readonly string[] = [],
  channel: CommentChannel = 'web',
): TicketChange {
  const comment = commentOn(ticket, by, input.content, input.isInternal, at, channel);
  const attachments = attach(uploadIds, ticket.id, comment, at);
  const comment_chars = ticket.comment_chars + charCount(input.content);
  if (input.isInternal) {
    const event = eventOf('note.created', ticket, by, 'staff', commentData(comment, uploadIds), at);
    return changeOf(ticket, { internal_comment_count: ticket.internal_comment_count + 1, comment_chars }, { comment, attachments, history: [], events: [event] });
  }
  const patch = {
    comment_count: ticket.comment_count + 1,
    comment_chars,
    updated_at: at,
    first_response_at: ticket.first_response_at ?? at,
    ...afterMessage(ticket, 'staff', input.content, at),
  };
  const event = eventOf('comment.created', ticket, by, 'customer', commentData(comment, uploadIds), at);
  return changeOf(ticket, patch, { comment, attachments, history: [], events: [event] });
}

function commentData(comment: TicketCommentRow, uploadIds: readonly string[]) {
  return { comment_id: comment.id, author_type: comment.author_type, length: charCount(comment.content), ...attachmentData(uploadIds) };
}

/** Closes a customer's ticket from any other status; a second close is a 409 that changes nothing. */
export function planClose(ticket: TicketRow, by: ChangeActor, at: string): TicketChange {
  if (ticket.status === 'closed') throw conflict(ALREADY_CLOSED);
  const closed = statusChange(ticket, by, 'closed', at);
  const patch = { status: 'closed' as const, resolved_at: ticket.resolved_at ?? at, updated_at: at, ...afterStatus(ticket, 'closed', at) };
  return changeOf(ticket, patch, { history: [closed.history], events: [closed.event] });
}

/** What staff asked a triage to set; `assignee` is the staff user named, already looked up. */
export interface TriageInput {
  status?: TicketStatus | undefined;
  priority?: TicketPriority | undefined;
  type?: TicketType | undefined;
  /** Undefined: leave as is; null: unassign. */
  assignee?: { id: string; email: string } | null | undefined;
}

/**
 * Triage by staff: status, priority, type and assignee. Each changed field writes one history
 * row; the status its `ticket.status_changed` event, the others one `ticket.updated` with
 * every field's old and new value. Undefined when nothing would change: no write, no event.
 */
export function planTriage(ticket: TicketRow, by: ChangeActor, input: TriageInput, at: string): TicketChange | undefined {
  const patch: TicketChange['patch'] = {};
  const history: TicketHistoryRow[] = [];
  const events: NewTicketEvent[] = [];
  const changes: Record<string, { from: string | null; to: string | null }> = {};
  const record = (field: 'priority' | 'type' | 'assigned_to', from: string | null, to: string | null) => {
    history.push(historyOf(ticket, by, field, from, to, at));
    changes[field] = { from, to };
  };

  if (input.status !== undefined && input.status !== ticket.status) {
    patch.status = input.status;
    // Resolved and closed carry a resolution time; going back to work clears it.
    patch.resolved_at = input.status === 'resolved' ? at : input.status === 'closed' ? (ticket.resolved_at ?? at) : null;
    Object.assign(patch, afterStatus(ticket, input.status, at));
    const changed = statusChange(ticket, by, input.status, at);
    history.push(changed.history);
    events.push(changed.event);
  }
  if (input.priority !== undefined && input.priority !== ticket.priority) {
    patch.priority = input.priority;
    record('priority', ticket.priority, input.priority);
  }
  if (input.type !== undefined && input.type !== ticket.type) {
    patch.type = input.type;
    record('type', ticket.type, input.type);
  }
  if (input.assignee !== undefined && (input.assignee?.id ?? null) !== ticket.assigned_to) {
    patch.assigned_to = input.assignee?.id ?? null;
    patch.assigned_to_email = input.assignee?.email ?? null;
    record('assigned_to', ticket.assigned_to, patch.assigned_to);
  }
  if (history.length === 0) return undefined;
  if (Object.keys(changes).length > 0) events.push(eventOf('ticket.updated', ticket, by, 'customer', { changes }, at));
  patch.updated_at = at;
  return changeOf(ticket, patch, { history, events });
}

/** The 422 for an assignee who is not a known staff member. */
export function unknownAssignee(value: string): AppError {
  return new AppError(422, 'validation failed', [{ location: 'body.assigned_to', message: 'expected the user ID of a known staff member', value }]);
}
