import { schemaUrl } from '../http/schemas.js';
import { presentSummary, presentTicket } from '../tickets/ticket.presenter.js';
import type { SupportTicket } from '../tickets/ticket.schemas.js';
import type { TicketCommentRow, TicketRow } from '../tickets/ticket.table.js';
import type { UserRow } from '../users/user.table.js';
import type { QueueRow } from './admin.repository.js';
import type { AdminTicketListResponse, AgentListResponse } from './admin.schemas.js';

/** The staff view of a ticket: internal notes listed and counted. */
export function presentStaffTicket(row: TicketRow, comments: TicketCommentRow[]): SupportTicket {
  return { ...presentTicket(row, comments), comment_count: row.comment_count + row.internal_comment_count };
}

export function presentQueue(rows: QueueRow[], total: number, offset: number): AdminTicketListResponse {
  return {
    $schema: schemaUrl('AdminTicketListResponse'),
    has_more: offset + rows.length < total,
    tickets: rows.map((row) => ({
      ...presentSummary(row),
      // Staff see internal notes, so their counts include them (as in presentStaffTicket).
      comment_count: row.comment_count + row.internal_comment_count,
      created_by: row.created_by,
      tenant_id: row.tenant_id,
    })),
    total,
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
