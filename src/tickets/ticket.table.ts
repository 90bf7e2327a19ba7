import type { Generated, Insertable, Selectable } from 'kysely';

export const TICKET_STATUSES = ['open', 'in_progress', 'resolved', 'closed'] as const;
export const TICKET_TYPES = ['support', 'bug', 'feature_request', 'billing', 'account', 'other'] as const;
export const TICKET_PRIORITIES = ['low', 'normal', 'high', 'urgent'] as const;
export const AUTHOR_TYPES = ['user', 'staff'] as const;
/** How a comment came in: the dashboard or the API, or a reply by e-mail (migration 028). */
export const COMMENT_CHANNELS = ['web', 'email'] as const;

export type TicketStatus = (typeof TICKET_STATUSES)[number];

/** Statuses in which one side waits on the other (the rest are solved). */
export const UNSOLVED_STATUSES: ReadonlySet<TicketStatus> = new Set(['open', 'in_progress']);
export type TicketType = (typeof TICKET_TYPES)[number];
export type TicketPriority = (typeof TICKET_PRIORITIES)[number];
export type AuthorType = (typeof AUTHOR_TYPES)[number];
export type CommentChannel = (typeof COMMENT_CHANNELS)[number];
export const WAITING_ON = ['support', 'customer'] as const;
export type WaitingOn = (typeof WAITING_ON)[number];
export const MESSAGE_FROM = ['customer', 'staff'] as const;
export type MessageFrom = (typeof MESSAGE_FROM)[number];

/** Timestamps are stored as RFC 3339 UTC text with milliseconds: sortable as text on every dialect. */
export interface TicketTable {
  id: string;
  tenant_id: string;
  created_by: string;
  created_by_email: string;
  title: string;
  description: string;
  type: TicketType;
  status: TicketStatus;
  priority: TicketPriority;
  assigned_to: string | null;
  assigned_to_email: string | null;
  /** Public comments only: the number a customer sees. */
  comment_count: number;
  internal_comment_count: number;
  created_at: string;
  /** Last change a customer can see (internal notes do not move it). */
  updated_at: string;
  resolved_at: string | null;
  first_response_at: string | null;
  /** Characters of all its comments, internal notes included (the limits in ticket.changes.ts). */
  comment_chars: number;
  /** A short number per desk for people to quote (#1042). */
  number: number;
  /** Who must act next on an unsolved ticket; null once it is resolved or closed (ticket.changes.ts). */
  waiting_on: WaitingOn | null;
  /** Since when that side has been the one waiting. */
  waiting_since: string | null;
  /** Who wrote the last public message (the ticket itself is the customer's first). */
  last_message_from: MessageFrom;
  last_customer_message_at: string;
  last_staff_reply_at: string | null;
  /** The start of the last public message. */
  last_message_preview: string;
  /** Bumped by every write: what a change checks it was planned from (every dialect), and the staff ETag. */
  version: Generated<number>;
}

export interface TicketCommentTable {
  id: string;
  ticket_id: string;
  author_id: string;
  author_email: string;
  author_type: AuthorType;
  content: string;
  /** 0 or 1, so the column is the same on every dialect. */
  is_internal: number;
  created_at: string;
  /** How much of the text its ticket's search document holds; null for all of it (ticket.changes.ts). */
  indexed_chars: number | null;
  /** How it came in (staff see it; the customer's view does not carry it); `web` unless written. */
  channel: Generated<CommentChannel>;
}

export interface TicketHistoryTable {
  id: string;
  ticket_id: string;
  field_changed: string;
  old_value: string | null;
  new_value: string | null;
  changed_by: string;
  changed_by_email: string;
  created_at: string;
}

export type TicketRow = Selectable<TicketTable>;

/** When each agent last opened each ticket (migration 026): what is unread for them. */
export interface TicketReadTable {
  ticket_id: string;
  user_id: string;
  read_at: string;
}

/** Named counters handed out in blocks (migration 026): ticket numbers. */
export interface CounterTable {
  name: string;
  next: number;
}
export type NewTicketRow = Insertable<TicketTable>;
export type TicketCommentRow = Selectable<TicketCommentTable>;
export type TicketHistoryRow = Selectable<TicketHistoryTable>;

/**
 * Maintained ticket counts, so that an exact `total` costs a sum over a few hundred rows
 * instead of a count over a million. Triggers on tickets adjust them in the same statement as
 * the write (migration 012; on PostgreSQL 014, which adds a `shard` column to the key: a count
 * is the sum of its rows). `assigned_to` is '' for unassigned tickets.
 */
export interface TicketTallyTable {
  status: TicketStatus;
  type: TicketType;
  priority: TicketPriority;
  assigned_to: string;
  n: number;
}

/** The same counts per tenant. */
export interface TenantTicketTallyTable extends TicketTallyTable {
  tenant_id: string;
}

/** A customer's own tickets, by the two filters of their list. */
export interface UserTicketTallyTable {
  tenant_id: string;
  created_by: string;
  status: TicketStatus;
  type: TicketType;
  n: number;
}

/**
 * Bumped by triggers on tickets at every change a ticket's owner can see in their list
 * (migration 013; on PostgreSQL sharded like the tallies by 014, the version being the sum).
 */
export interface TicketOwnerVersionTable {
  tenant_id: string;
  created_by: string;
  /** bigint: PostgreSQL returns it as a string. */
  version: number | string;
}
