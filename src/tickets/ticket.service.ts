import { dialectOf, onConnection, readSnapshot, type Db } from '../db/database.js';
import { canonicalUuid, newId, nowIso } from '../db/ids.js';
import type { Actor } from '../http/auth.js';
import { API_PREFIX } from '../http/schemas.js';
import { recordIdempotentResult, type Idempotency } from '../idempotency/idempotency.service.js';
import { conflict, notFound } from '../http/problem.js';
import {
  closeOnPostgres,
  commentOnPostgres,
  countTicketsForUser,
  findTicket,
  insertComment,
  insertHistory,
  insertTicket,
  listComments,
  listHistory,
  listTicketsForUser,
  lockTicket,
  ownerVersion,
  updateTicket,
  type UserScope,
} from './ticket.repository.js';
import { presentComment, presentDetail, presentList, presentTicket } from './ticket.presenter.js';
import {
  DEFAULT_PAGE_SIZE,
  type CreateTicketBody,
  type ListTicketsQuery,
  type SupportTicket,
  type SupportTicketComment,
  type TicketDetailResponse,
  type TicketListResponse,
} from './ticket.schemas.js';
import type { TicketCommentRow, TicketHistoryRow, TicketRow, TicketStatus } from './ticket.table.js';

/** Where a ticket lives in the customer API (the Location of a created ticket). */
export function ticketLocation(ticketId: string): string {
  return `${API_PREFIX}/support/tickets/${ticketId}`;
}

function scopeOf(actor: Actor): UserScope {
  return { tenantId: actor.tenantId, userId: actor.userId };
}

/** A history row recording that `actor` changed `field` on a ticket. */
export function historyRow(ticketId: string, actor: Actor, field: string, oldValue: string | null, newValue: string | null, at: string): TicketHistoryRow {
  return {
    id: newId(),
    ticket_id: ticketId,
    field_changed: field,
    old_value: oldValue,
    new_value: newValue,
    changed_by: actor.userId,
    changed_by_email: actor.email,
    created_at: at,
  };
}

/** A new comment row by `actor` on a ticket. */
export function commentRow(
  ticketId: string,
  actor: Actor,
  comment: { authorType: 'user' | 'staff'; content: string; isInternal: boolean },
  at: string,
): TicketCommentRow {
  return {
    id: newId(),
    ticket_id: ticketId,
    author_id: actor.userId,
    author_email: actor.email,
    author_type: comment.authorType,
    content: comment.content,
    is_internal: comment.isInternal ? 1 : 0,
    created_at: at,
  };
}

/** A response with the version of the data it was read from (see ResponseCache). */
export interface Versioned<T> {
  version: string | undefined;
  body: T;
}

/**
 * The caller's own tickets in their tenant, newest first, with an exact total, and the owner
 * version they were read at.
 */
export async function listMyTickets(db: Db, actor: Actor, query: ListTicketsQuery): Promise<Versioned<TicketListResponse>> {
  const filter = { status: query.status, type: query.type };
  // The schema fills in the defaults; the fallbacks only satisfy the optional static type.
  const page = { limit: query.limit ?? DEFAULT_PAGE_SIZE, offset: query.offset ?? 0 };
  const scope = scopeOf(actor);
  const [version, rows, total] = await readSnapshot(db, (trx) =>
    Promise.all([ownerVersion(trx, scope), listTicketsForUser(trx, scope, filter, page), countTicketsForUser(trx, scope, filter)]),
  );
  return { version, body: presentList(rows, total, page.offset) };
}

/** Opens a ticket for the caller: status open, priority normal, unassigned. */
export async function createTicket(db: Db, actor: Actor, input: CreateTicketBody, idempotency?: Idempotency | null): Promise<SupportTicket> {
  const now = nowIso();
  const row: TicketRow = {
    id: newId(),
    tenant_id: actor.tenantId,
    created_by: actor.userId,
    created_by_email: actor.email,
    title: input.title,
    description: input.description,
    type: input.type,
    status: 'open',
    priority: 'normal',
    assigned_to: null,
    assigned_to_email: null,
    comment_count: 0,
    internal_comment_count: 0,
    created_at: now,
    updated_at: now,
    resolved_at: null,
    first_response_at: null,
    version: 1,
  };
  const ticket = presentTicket(row, []);
  // Without a key the create is one statement (its triggers count and index the ticket in the
  // same statement), atomic by itself: on PostgreSQL no BEGIN and COMMIT round trips.
  if (!idempotency) {
    await insertTicket(db, row);
    return ticket;
  }
  await db.transaction().execute(async (trx) => {
    await insertTicket(trx, row);
    await recordIdempotentResult(trx, idempotency, { status: 201, body: ticket, headers: { location: ticketLocation(row.id) } });
  });
  return ticket;
}

/** One of the caller's tickets with its public comments and its history; 404 for anyone else's. */
export async function getMyTicket(db: Db, actor: Actor, ticketId: string): Promise<Versioned<TicketDetailResponse>> {
  // One snapshot, so the ticket's counters and its comments agree.
  return readSnapshot(db, async (trx) => {
    const ticket = await findTicket(trx, ticketId, scopeOf(actor));
    if (!ticket) throw notFound();
    const [comments, history] = await Promise.all([
      listComments(trx, ticket.id, { includeInternal: false }),
      listHistory(trx, ticket.id),
    ]);
    return { version: String(ticket.version), body: presentDetail(presentTicket(ticket, comments), history) };
  });
}

const ALREADY_CLOSED = 'ticket is already closed';
const CLOSED_TAKES_NO_COMMENTS = 'ticket is closed and takes no more comments; open a new ticket';

/** Closes the caller's ticket from any other status; a second close is a 409 that changes nothing. */
export async function closeMyTicket(db: Db, actor: Actor, ticketId: string, idempotency?: Idempotency | null): Promise<SupportTicket> {
  // On PostgreSQL without a key: one statement with the same rules (closeOnPostgres).
  if (!idempotency && dialectOf(db) === 'postgres') {
    return onConnection(db, async (conn) => {
      const changed = await closeOnPostgres(conn, ticketId, scopeOf(actor), { userId: actor.userId, email: actor.email, at: nowIso() }, newId());
      if (!changed) throw notFound();
      if (!changed.ticket) throw conflict(ALREADY_CLOSED);
      return presentTicket(changed.ticket, await listComments(conn, changed.ticket.id, { includeInternal: false }));
    });
  }
  return db.transaction().execute(async (trx) => {
    const ticket = await lockTicket(trx, ticketId, scopeOf(actor));
    if (!ticket) throw notFound();
    if (ticket.status === 'closed') throw conflict(ALREADY_CLOSED);
    const now = nowIso();
    const closed: TicketRow = { ...ticket, status: 'closed', resolved_at: ticket.resolved_at ?? now, updated_at: now };
    await updateTicket(trx, ticket, { status: closed.status, resolved_at: closed.resolved_at, updated_at: now });
    await insertHistory(trx, [historyRow(ticket.id, actor, 'status', ticket.status, 'closed', now)]);
    const body = presentTicket(closed, await listComments(trx, ticket.id, { includeInternal: false }));
    await recordIdempotentResult(trx, idempotency, { status: 200, body });
    return body;
  });
}

/**
 * Adds a customer's comment to their own ticket. A closed ticket takes no more comments;
 * a comment on a resolved ticket reopens it, because the customer says it is not solved.
 */
export async function addMyComment(
  db: Db,
  actor: Actor,
  ticketId: string,
  content: string,
  idempotency?: Idempotency | null,
): Promise<SupportTicketComment> {
  // On PostgreSQL without a key: one statement with the same rules (commentOnPostgres).
  if (!idempotency && dialectOf(db) === 'postgres') {
    return onConnection(db, async (conn) => {
      const comment = commentRow(canonicalUuid(ticketId), actor, { authorType: 'user', content, isInternal: false }, nowIso());
      const changed = await commentOnPostgres(conn, ticketId, scopeOf(actor), comment, newId());
      if (!changed) throw notFound();
      if (!changed.ticket) throw conflict(CLOSED_TAKES_NO_COMMENTS);
      return presentComment(comment);
    });
  }
  return db.transaction().execute(async (trx) => {
    const ticket = await lockTicket(trx, ticketId, scopeOf(actor));
    if (!ticket) throw notFound();
    if (ticket.status === 'closed') throw conflict(CLOSED_TAKES_NO_COMMENTS);
    const now = nowIso();
    const comment = commentRow(ticket.id, actor, { authorType: 'user', content, isInternal: false }, now);
    await insertComment(trx, comment);
    const reopened: TicketStatus | undefined = ticket.status === 'resolved' ? 'open' : undefined;
    // The count as read under the ticket's lock, so one UPDATE writes it with the rest.
    const counted = { updated_at: now, comment_count: ticket.comment_count + 1 };
    await updateTicket(trx, ticket, reopened ? { ...counted, status: reopened, resolved_at: null } : counted);
    if (reopened) await insertHistory(trx, [historyRow(ticket.id, actor, 'status', ticket.status, reopened, now)]);
    const body = presentComment(comment);
    await recordIdempotentResult(trx, idempotency, { status: 201, body });
    return body;
  });
}
