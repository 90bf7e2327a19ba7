import type { AttachmentRow } from '../attachments/attachment.table.js';
import { schemaUrl } from '../http/schemas.js';
import { presentComment, presentHistory, presentSummary, presentTicket } from '../tickets/ticket.presenter.js';
import type { TicketCommentRow, TicketHistoryRow, TicketRow } from '../tickets/ticket.table.js';
import type { UserRow } from '../users/user.table.js';
import type { QueueRow } from './admin.repository.js';
import type { AdminTicketListResponse, AgentListResponse, SearchSnippet, StaffTicket, StaffTicketComment, StaffTicketDetailResponse } from './admin.schemas.js';

type AttentionRow = Pick<TicketRow, 'waiting_since' | 'last_message_from' | 'last_customer_message_at' | 'last_staff_reply_at' | 'last_message_preview'>;

/** What needs attention next, for the agent who last opened the ticket at `readAt` (undefined: never). */
function presentAttention(row: AttentionRow, readAt: string | undefined) {
  return {
    waiting_since: row.waiting_since,
    last_message_from: row.last_message_from,
    last_customer_message_at: row.last_customer_message_at,
    last_staff_reply_at: row.last_staff_reply_at,
    last_message_preview: row.last_message_preview,
    unread: readAt === undefined || readAt < row.last_customer_message_at,
  };
}

/** A comment as staff see it: the customer's shape, and how it came in. */
export function presentStaffComment(row: TicketCommentRow, attachments: readonly AttachmentRow[] = []): StaffTicketComment {
  return { ...presentComment(row, attachments, 'staff'), $schema: schemaUrl('StaffTicketComment'), channel: row.channel };
}

/** The staff view of a ticket: internal notes listed and counted, and what needs attention. */
export function presentStaffTicket(row: TicketRow, comments: TicketCommentRow[], readAt: string | undefined, attachments: readonly AttachmentRow[] = []): StaffTicket {
  return {
    ...presentTicket(row, comments, attachments, 'staff'),
    comments: comments.map((comment) => presentStaffComment(comment, attachments)),
    comment_count: row.comment_count + row.internal_comment_count,
    ...presentAttention(row, readAt),
  };
}

export function presentStaffDetail(ticket: StaffTicket, history: TicketHistoryRow[]): StaffTicketDetailResponse {
  return { $schema: schemaUrl('StaffTicketDetailResponse'), history: history.map(presentHistory), ticket };
}

/** A page of the queue, for the agent whose reads (ticket id to when they last opened it) are given. */
export function presentQueue(
  rows: QueueRow[],
  total: number,
  totalIsLowerBound: boolean,
  offset: number,
  reads: Map<string, string>,
  snippets?: Map<string, SearchSnippet | null>,
): AdminTicketListResponse {
  return {
    $schema: schemaUrl('AdminTicketListResponse'),
    has_more: offset + rows.length < total,
    tickets: rows.map((row) => ({
      ...presentSummary(row),
      // Staff see internal notes, so their counts include them (as in presentStaffTicket).
      comment_count: row.comment_count + row.internal_comment_count,
      created_by: row.created_by,
      tenant_id: row.tenant_id,
      ...presentAttention(row, reads.get(row.id)),
      ...(snippets === undefined ? {} : { snippet: snippets.get(row.id) ?? null }),
    })),
    total,
    total_is_lower_bound: totalIsLowerBound,
  };
}

export function presentAgents(rows: UserRow[]): AgentListResponse {
  return {
    $schema: schemaUrl('AgentListResponse'),
    agents: rows.map((row) => ({ user_id: row.id, email: row.email, last_seen_at: row.last_seen_at })),
  };
}

/** A strong ETag from the ticket's version: any write, internal notes included, changes it. */
export function etagOf(version: number): string {
  return `"${version}"`;
}
