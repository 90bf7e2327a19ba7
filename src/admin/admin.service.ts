import { dialectOf, onConnection, readSnapshot, type Db, type Dialect } from '../db/database.js';
import { canonicalUuid, newId, nowIso } from '../db/ids.js';
import type { Actor } from '../http/auth.js';
import { AppError, notFound } from '../http/problem.js';
import { schemaUrl } from '../http/schemas.js';
import { presentComment, presentDetail } from '../tickets/ticket.presenter.js';
import {
  ALL_TENANTS,
  findTicket,
  incrementCommentCount,
  insertComment,
  insertHistory,
  listComments,
  listHistory,
  lockTicket,
  staffCommentOnPostgres,
  updateTicketAtVersionOnPostgres,
  updateTicket,
} from '../tickets/ticket.repository.js';
import { DEFAULT_PAGE_SIZE, type SupportTicket, type SupportTicketComment, type TicketDetailResponse } from '../tickets/ticket.schemas.js';
import { commentRow, historyRow } from '../tickets/ticket.service.js';
import { recordIdempotentResult, type Idempotency } from '../idempotency/idempotency.service.js';
import {
  TICKET_PRIORITIES,
  TICKET_STATUSES,
  TICKET_TYPES,
  type TicketHistoryRow,
  type TicketRow,
} from '../tickets/ticket.table.js';
import {
  countOpenUnassigned,
  countQueue,
  countTicketsBy,
  findStaffUser,
  listQueue,
  listResponseTimes,
  listStaffUsers,
  searchPageAndTotal,
  searchWords,
  type SearchTotals,
  type QueueFilter,
  type QueueSort,
} from './admin.repository.js';
import { etagOf, presentAgents, presentQueue, presentStaffTicket } from './admin.presenter.js';
import type { AdminListTicketsQuery, AdminTicketListResponse, AgentListResponse, SupportStats, UpdateTicketBody } from './admin.schemas.js';

/** A response body with the ETag of the ticket state it shows. */
export interface Tagged<T> {
  body: T;
  etag: string;
}

/**
 * The staff queue across every tenant, filtered, searched and sorted, with an exact total.
 * `totals` keeps this database's search totals, to plan the next search.
 */
export async function listQueueForStaff(
  db: Db,
  dialect: Dialect,
  actor: Actor,
  query: AdminListTicketsQuery,
  totals: SearchTotals,
): Promise<AdminTicketListResponse> {
  const assignee = query.assigned_to;
  const filter: QueueFilter = {
    status: query.status,
    type: query.type,
    priority: query.priority,
    assignedTo: assignee === undefined ? undefined : assignee === 'none' ? null : assignee === 'me' ? actor.userId : assignee,
    tenantId: query.tenant_id,
    createdBy: query.created_by,
    words: query.q === undefined ? undefined : searchWords(query.q),
  };
  const sortKey = query.sort ?? '-updated_at';
  const sort: QueueSort = {
    field: sortKey.replace(/^-/, '') as QueueSort['field'],
    direction: sortKey.startsWith('-') ? 'desc' : 'asc',
  };
  const page = { limit: query.limit ?? DEFAULT_PAGE_SIZE, offset: query.offset ?? 0 };
  const { rows, total } = await readSnapshot(db, async (trx) => {
    const searched = await searchPageAndTotal(trx, dialect, filter, sort, page, totals);
    if (searched) return searched;
    // The total first: how many tickets match tells the search which way to read the page.
    const matching = await countQueue(trx, dialect, filter, totals);
    return { rows: await listQueue(trx, dialect, filter, sort, page, matching), total: matching };
  });
  return presentQueue(rows, total, page.offset);
}

/** Any ticket with every comment (internal notes too) and its whole history. */
export async function getTicketForStaff(db: Db, ticketId: string): Promise<Tagged<TicketDetailResponse>> {
  return readSnapshot(db, async (trx) => {
    const ticket = await findTicket(trx, ticketId, ALL_TENANTS);
    if (!ticket) throw notFound();
    const [comments, history] = await Promise.all([listComments(trx, ticket.id, { includeInternal: true }), listHistory(trx, ticket.id)]);
    return { body: presentDetail(presentStaffTicket(ticket, comments), history), etag: etagOf(ticket.version) };
  });
}

/** If-Match uses strong comparison (RFC 9110 §13.1.1): a weak tag never matches. */
function matchesEtag(ifMatch: string, etag: string): boolean {
  return ifMatch
    .split(',')
    .map((tag) => tag.trim())
    .some((tag) => tag === '*' || tag === etag);
}

/** What a triage request changes on a ticket, and the history rows that record it. */
interface Triage {
  changes: Partial<TicketRow>;
  history: TicketHistoryRow[];
}

/** The changes `input` makes to `current`: only the fields whose value differs. */
async function planTriage(db: Db, actor: Actor, current: TicketRow, input: UpdateTicketBody, now: string): Promise<Triage> {
  const changes: Partial<TicketRow> = {};
  const history: TicketHistoryRow[] = [];
  const record = (field: string, oldValue: string | null, newValue: string | null) => history.push(historyRow(current.id, actor, field, oldValue, newValue, now));

  if (input.status !== undefined && input.status !== current.status) {
    changes.status = input.status;
    // Resolved and closed carry a resolution time; going back to work clears it.
    if (input.status === 'resolved') changes.resolved_at = now;
    else if (input.status === 'closed') changes.resolved_at = current.resolved_at ?? now;
    else changes.resolved_at = null;
    record('status', current.status, input.status);
  }
  if (input.priority !== undefined && input.priority !== current.priority) {
    changes.priority = input.priority;
    record('priority', current.priority, input.priority);
  }
  if (input.type !== undefined && input.type !== current.type) {
    changes.type = input.type;
    record('type', current.type, input.type);
  }
  if (input.assigned_to !== undefined && input.assigned_to !== current.assigned_to) {
    const assignee = input.assigned_to === null ? null : await findStaffUser(db, input.assigned_to);
    if (assignee === undefined) {
      throw new AppError(422, 'validation failed', [
        { location: 'body.assigned_to', message: 'expected the user ID of a known staff member', value: input.assigned_to },
      ]);
    }
    changes.assigned_to = assignee?.id ?? null;
    changes.assigned_to_email = assignee?.email ?? null;
    record('assigned_to', current.assigned_to, changes.assigned_to);
  }
  if (history.length > 0) changes.updated_at = now;
  return { changes, history };
}

function checkIfMatch(ifMatch: string | undefined, version: number): void {
  if (ifMatch !== undefined && !matchesEtag(ifMatch, etagOf(version))) {
    throw new AppError(412, 'the ticket was changed by someone else since you loaded it; reload it and try again');
  }
}

/** Tries of the read-then-write triage on PostgreSQL before it takes the ticket's lock instead. */
const OPTIMISTIC_TRIES = 3;

/**
 * Triage: changes status, priority, type and assignee. Each changed field writes one history
 * row in the same transaction; a request that changes nothing writes nothing. With `If-Match`,
 * a ticket someone else changed since is left alone (412).
 *
 * On PostgreSQL the ticket is read, the change planned, and written in one statement only if
 * its version is still the one read (three round trips, where BEGIN, the lock, the comments,
 * the update, the history and COMMIT were six); a ticket changed in between is read again, and
 * after a few such races the request takes the lock like SQLite does.
 */
export async function updateTicketAsStaff(
  db: Db,
  actor: Actor,
  ticketId: string,
  input: UpdateTicketBody,
  ifMatch: string | undefined,
): Promise<Tagged<SupportTicket>> {
  for (let tries = dialectOf(db) === 'postgres' ? OPTIMISTIC_TRIES : 0; tries > 0; tries--) {
    const current = await findTicket(db, ticketId, ALL_TENANTS);
    if (!current) throw notFound();
    checkIfMatch(ifMatch, current.version);
    // Read after the ticket and before the write: every comment moves the version, so if the
    // write below finds the version it read, these are the comments of the ticket it wrote.
    const comments = await listComments(db, current.id, { includeInternal: true });
    const { changes, history } = await planTriage(db, actor, current, input, nowIso());
    let written: TicketRow | undefined;
    if (history.length > 0) written = await updateTicketAtVersionOnPostgres(db, current, changes, history);
    // Nothing to write: answered as read, if still so after the comments were.
    else if ((await findTicket(db, current.id, ALL_TENANTS))?.version === current.version) written = current;
    if (written) return { body: presentStaffTicket(written, comments), etag: etagOf(written.version) };
  }
  return db.transaction().execute(async (trx) => {
    const locked = await lockTicket(trx, ticketId, ALL_TENANTS);
    if (!locked) throw notFound();
    const current: TicketRow = { ...locked, version: locked.version - 1 };
    checkIfMatch(ifMatch, current.version);
    const { changes, history } = await planTriage(trx, actor, current, input, nowIso());
    const comments = await listComments(trx, current.id, { includeInternal: true });
    if (history.length === 0) {
      // Nothing changed: put the version back so the ETag still matches what clients hold.
      await updateTicket(trx, current, { version: current.version });
      return { body: presentStaffTicket(current, comments), etag: etagOf(current.version) };
    }
    await updateTicket(trx, current, changes);
    await insertHistory(trx, history);
    return { body: presentStaffTicket({ ...locked, ...changes }, comments), etag: etagOf(locked.version) };
  });
}

/**
 * Adds a support-team comment. An internal note is counted apart and does not move
 * `updated_at`, so nothing a customer can see changes; the first public reply stamps
 * the ticket's first-response time.
 */
export async function addStaffComment(
  db: Db,
  actor: Actor,
  ticketId: string,
  input: { content: string; isInternal: boolean },
  idempotency?: Idempotency | null,
): Promise<SupportTicketComment> {
  // On PostgreSQL without a key: one statement with the same rules (staffCommentOnPostgres).
  if (!idempotency && dialectOf(db) === 'postgres') {
    return onConnection(db, async (conn) => {
      const comment = commentRow(canonicalUuid(ticketId), actor, { authorType: 'staff', content: input.content, isInternal: input.isInternal }, nowIso());
      if (!(await staffCommentOnPostgres(conn, ticketId, comment, newId()))) throw notFound();
      return presentComment(comment);
    });
  }
  return db.transaction().execute(async (trx) => {
    const ticket = await lockTicket(trx, ticketId, ALL_TENANTS);
    if (!ticket) throw notFound();
    const now = nowIso();
    const comment = commentRow(ticket.id, actor, { authorType: 'staff', content: input.content, isInternal: input.isInternal }, now);
    await insertComment(trx, comment);
    if (input.isInternal) {
      await incrementCommentCount(trx, ticket.id, 'internal_comment_count');
    } else {
      // The count as read under the ticket's lock, so one UPDATE writes it with the rest.
      await updateTicket(trx, ticket, { updated_at: now, first_response_at: ticket.first_response_at ?? now, comment_count: ticket.comment_count + 1 });
    }
    const body = presentComment(comment);
    await recordIdempotentResult(trx, idempotency, { status: 201, body });
    return body;
  });
}

function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

function tally<T extends readonly string[]>(keys: T, rows: Array<{ key: string; n: number }>): Record<T[number], number> {
  const out = Object.fromEntries(keys.map((k) => [k, 0])) as Record<T[number], number>;
  for (const row of rows) if (row.key in out) out[row.key as T[number]] = row.n;
  return out;
}

/** Queue counts now, and median first-response and resolution times of tickets created in the window. */
export async function getSupportStats(db: Db, days: number): Promise<SupportStats> {
  const since = new Date(Date.now() - days * 86_400_000).toISOString();
  return readSnapshot(db, async (trx) => {
    const [byStatus, byPriority, byType, openUnassigned, times] = await Promise.all([
      countTicketsBy(trx, 'status'),
      countTicketsBy(trx, 'priority'),
      countTicketsBy(trx, 'type'),
      countOpenUnassigned(trx),
      listResponseTimes(trx, since),
    ]);
    const seconds = (from: string, to: string) => (Date.parse(to) - Date.parse(from)) / 1000;
    const firstResponses = times.flatMap((t) => (t.first_response_at ? [seconds(t.created_at, t.first_response_at)] : []));
    const resolutions = times.flatMap((t) => (t.resolved_at ? [seconds(t.created_at, t.resolved_at)] : []));
    return {
      $schema: schemaUrl('SupportStats'),
      total: byStatus.reduce((sum, r) => sum + r.n, 0),
      by_status: tally(TICKET_STATUSES, byStatus),
      by_priority: tally(TICKET_PRIORITIES, byPriority),
      by_type: tally(TICKET_TYPES, byType),
      open_unassigned: openUnassigned,
      window_days: days,
      median_first_response_seconds: median(firstResponses),
      first_response_sample: firstResponses.length,
      median_resolution_seconds: median(resolutions),
      resolution_sample: resolutions.length,
    };
  });
}

/** Staff users seen with a valid token, for an assignee picker. */
export async function listAgents(db: Db): Promise<AgentListResponse> {
  return presentAgents(await listStaffUsers(db));
}
