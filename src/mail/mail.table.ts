import type { Selectable } from 'kysely';

/** What a notification is about, and so which template renders it. */
export const MAIL_KINDS = ['new_ticket', 'customer_reply', 'staff_reply', 'ticket_resolved', 'ticket_closed'] as const;
export type MailKind = (typeof MAIL_KINDS)[number];

export type MailStatus = 'pending' | 'sent' | 'failed';

/** One message to one recipient (migration 024). */
export interface MailOutboxTable {
  id: string;
  event_id: string;
  ticket_id: string;
  tenant_id: string;
  recipient: string;
  kind: MailKind;
  /** Without angle brackets. */
  message_id: string;
  /** The ticket's thread root, named in In-Reply-To and References. */
  thread_id: string;
  reply_to: string;
  subject: string;
  body_text: string;
  body_html: string;
  status: MailStatus;
  attempts: number;
  next_attempt_at: string;
  /** Set while a sender holds the row; a lease past its time is free to take. */
  locked_until: string | null;
  last_error: string | null;
  created_at: string;
  sent_at: string | null;
}
export type MailOutboxRow = Selectable<MailOutboxTable>;

export type InboundOutcome = 'comment' | 'note' | 'ticket' | 'refused' | 'ignored';

/** One message received by mail (migration 025). */
export interface MailInboundTable {
  id: string;
  received_at: string;
  via: 'smtp' | 'http';
  message_id: string | null;
  sender: string | null;
  subject: string | null;
  outcome: InboundOutcome;
  reason: string | null;
  ticket_id: string | null;
  comment_id: string | null;
  /** Base64 of the message's first bytes (MAX_STORED_RAW_BYTES). */
  raw: string;
  raw_bytes: number;
}
export type MailInboundRow = Selectable<MailInboundTable>;

/** What a customer is mailed about: every update, only staff replies, or nothing. */
export const MAIL_LEVELS = ['all', 'replies', 'none'] as const;
export type MailLevel = (typeof MAIL_LEVELS)[number];

/** A customer's choice (migration 025); no row: all. */
export interface MailPreferenceTable {
  tenant_id: string;
  user_id: string;
  level: MailLevel;
  updated_at: string;
}
