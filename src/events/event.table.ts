import type { Generated, Insertable, Selectable } from 'kysely';

/** What happened to a ticket. Closed, resolved and reopened are statuses, not types. */
export const EVENT_TYPES = ['ticket.created', 'ticket.updated', 'ticket.status_changed', 'comment.created', 'note.created'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** Who may see an event: the ticket's customer as well as staff, or staff only. */
export const AUDIENCES = ['customer', 'staff'] as const;
export type Audience = (typeof AUDIENCES)[number];

export const ACTOR_TYPES = ['user', 'staff', 'system'] as const;
export type ActorType = (typeof ACTOR_TYPES)[number];

/**
 * One row per thing that happened to a ticket, written in the change's own transaction and
 * never updated (migration 017). On PostgreSQL the row also carries `txid`, the writing
 * transaction's id, which only the feed's queries read.
 */
export interface TicketEventTable {
  /** Commit order on SQLite; on PostgreSQL the order within one transaction (bigint: a string). */
  seq: Generated<number | string>;
  event_id: string;
  type: EventType;
  ticket_id: string;
  tenant_id: string;
  actor_id: string;
  actor_email: string;
  actor_type: ActorType;
  audience: Audience;
  occurred_at: string;
  /** Thin JSON: the changed fields with old and new values, or the comment's id and length. */
  data: string;
}

export type TicketEventRow = Selectable<TicketEventTable>;
export type NewTicketEvent = Omit<Insertable<TicketEventTable>, 'seq'>;

/** Where a reader that acts on events has got to in the feed (migration 027, event.consumer.ts). */
export interface EventConsumerTable {
  name: string;
  /** A feed cursor, "txid.seq". */
  position: string;
  updated_at: string;
}
