import { presentAttachment, type AttachmentSide } from '../attachments/attachment.presenter.js';
import type { AttachmentRow } from '../attachments/attachment.table.js';
import { schemaUrl } from '../http/schemas.js';
import type { TicketSummaryRow } from './ticket.repository.js';
import type {
  SupportTicket,
  SupportTicketComment,
  SupportTicketSummary,
  TicketDetailResponse,
  TicketHistoryEntry,
  TicketListResponse,
} from './ticket.schemas.js';
import type { TicketCommentRow, TicketHistoryRow, TicketRow } from './ticket.table.js';

// One function per API shape: only the fields named here ever leave the service.

/** A comment with those of `attachments` that are its own. */
export function presentComment(row: TicketCommentRow, attachments: readonly AttachmentRow[] = [], side: AttachmentSide = 'customer'): SupportTicketComment {
  return {
    $schema: schemaUrl('SupportTicketComment'),
    attachments: attachments.filter((a) => a.comment_id === row.id).map((a) => presentAttachment(a, side)),
    author_email: row.author_email,
    author_id: row.author_id,
    author_type: row.author_type,
    comment_id: row.id,
    content: row.content,
    created_at: row.created_at,
    is_internal: row.is_internal === 1,
    ticket_id: row.ticket_id,
  };
}

/**
 * A ticket with its comments; `attachments` are the ticket's as its reader may see them (those
 * on internal notes only for staff), each listed with the comment it belongs to.
 */
export function presentTicket(row: TicketRow, comments: TicketCommentRow[], attachments: readonly AttachmentRow[] = [], side: AttachmentSide = 'customer'): SupportTicket {
  return {
    $schema: schemaUrl('SupportTicket'),
    assigned_to: row.assigned_to,
    assigned_to_email: row.assigned_to_email,
    attachments: attachments.filter((a) => a.comment_id === null).map((a) => presentAttachment(a, side)),
    comment_count: row.comment_count,
    comments: comments.map((comment) => presentComment(comment, attachments, side)),
    created_at: row.created_at,
    created_by: row.created_by,
    created_by_email: row.created_by_email,
    description: row.description,
    priority: row.priority,
    resolved_at: row.resolved_at,
    status: row.status,
    tenant_id: row.tenant_id,
    ticket_id: row.id,
    title: row.title,
    type: row.type,
    updated_at: row.updated_at,
    number: row.number,
    waiting_on: row.waiting_on,
  };
}

export function presentSummary(row: TicketSummaryRow): SupportTicketSummary {
  return {
    assigned_to_email: row.assigned_to_email,
    comment_count: row.comment_count,
    created_at: row.created_at,
    created_by_email: row.created_by_email,
    priority: row.priority,
    status: row.status,
    ticket_id: row.id,
    title: row.title,
    type: row.type,
    updated_at: row.updated_at,
    number: row.number,
    waiting_on: row.waiting_on,
  };
}

export function presentHistory(row: TicketHistoryRow): TicketHistoryEntry {
  return {
    changed_by: row.changed_by,
    changed_by_email: row.changed_by_email,
    created_at: row.created_at,
    field_changed: row.field_changed,
    history_id: row.id,
    new_value: row.new_value,
    old_value: row.old_value,
    ticket_id: row.ticket_id,
  };
}

export function presentList(rows: TicketSummaryRow[], total: number, offset: number): TicketListResponse {
  return {
    $schema: schemaUrl('TicketListResponse'),
    has_more: offset + rows.length < total,
    tickets: rows.map(presentSummary),
    total,
  };
}

export function presentDetail(ticket: SupportTicket, history: TicketHistoryRow[]): TicketDetailResponse {
  return { $schema: schemaUrl('TicketDetailResponse'), history: history.map(presentHistory), ticket };
}
