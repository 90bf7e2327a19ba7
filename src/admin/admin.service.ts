import { attachedRows, rethrowAttachRace, ticketAttachments, uploadsToAttach } from '../attachments/attachment.service.js';
import { databaseVersion, readSnapshot, type Db, type Dialect } from '../db/database.js';
import { batchedByTurn } from '../db/turn-batch.js';
import { nowIso } from '../db/ids.js';
import type { Actor } from '../http/auth.js';
import { AppError, notFound } from '../http/problem.js';
import { ResponseCache, type Serialize } from '../http/response-cache.js';
import { schemaUrl } from '../http/schemas.js';
import type { Idempotency } from '../idempotency/idempotency.service.js';
import { asStaff, planStaffComment, planTriage, unknownAssignee, type TicketChange, type TriageInput } from '../tickets/ticket.changes.js';
import { ALL_TENANTS, findTicket, listComments, listHistory, markRead, readsOf } from '../tickets/ticket.repository.js';
import { DEFAULT_PAGE_SIZE } from '../tickets/ticket.schemas.js';
import { changeTicket } from '../tickets/ticket.service.js';
import { TICKET_PRIORITIES, TICKET_STATUSES, TICKET_TYPES, type CommentChannel } from '../tickets/ticket.table.js';
import {
  countOpenUnassigned,
  CountsPastBound,
  countQueueUpTo,
  countTicketsBy,
  findStaffUser,
  listQueue,
  listResponseTimes,
  listStaffUsers,
  searchedNumber,
  searchPageAndTotal,
  searchWords,
  SearchTotals,
  type QueueFilter,
  type QueueSort,
} from './admin.repository.js';
import { searchedTexts, snippetsOf } from './admin.snippets.js';
import { etagOf, presentAgents, presentQueue, presentStaffComment, presentStaffDetail, presentStaffTicket } from './admin.presenter.js';
import type { AdminListTicketsQuery, AdminTicketListResponse, AgentListResponse, StaffTicket, StaffTicketComment, StaffTicketDetailResponse, SupportStats, UpdateTicketBody } from './admin.schemas.js';

/** A response body with the ETag of the ticket state it shows. */
export interface Tagged<T> {
  body: T;
  etag: string;
}

/**
 * The staff queue across every tenant, filtered, searched and sorted, with an exact total up to
 * `totalBound`. `counts` keeps what this database's earlier searches counted: their totals, to
 * plan the next search, and the counts that went past the bound.
 */
export async function listQueueForStaff(
  db: Db,
  dialect: Dialect,
  actor: Actor,
  query: AdminListTicketsQuery,
  counts: { totals: SearchTotals; past: CountsPastBound },
  totalBound: number = Number.POSITIVE_INFINITY,
): Promise<AdminTicketListResponse> {
  const assignee = query.assigned_to;
  const filter: QueueFilter = {
    status: query.status,
    waitingOn: query.waiting_on,
    type: query.type,
    priority: query.priority,
    assignedTo: assignee === undefined ? undefined : assignee === 'none' ? null : assignee === 'me' ? actor.userId : assignee,
    tenantId: query.tenant_id,
    createdBy: query.created_by,
    ...searchOf(query.q),
  };
  const sortKey = query.sort ?? '-updated_at';
  const sort: QueueSort = {
    field: sortKey.replace(/^-/, '') as QueueSort['field'],
    direction: sortKey.startsWith('-') ? 'desc' : 'asc',
  };
  const page = { limit: query.limit ?? DEFAULT_PAGE_SIZE, offset: query.offset ?? 0 };
  // A count past the bound still has to tell whether a page follows this one.
  const bound = Number.isFinite(totalBound) ? Math.max(totalBound, page.offset + page.limit + 1) : undefined;
  const { rows, total, counted, reads, snippets } = await readSnapshot(db, async (trx) => {
    const searched = await searchPageAndTotal(trx, dialect, filter, sort, page, counts.totals, bound);
    const found = searched === undefined ? await countThenList(trx) : { ...searched, counted: true };
    const ids = found.rows.map((row) => row.id);
    const [read, texts] = await Promise.all([readsOf(trx, actor.userId, ids), filter.words === undefined ? undefined : searchedTexts(trx, found.rows, filter.words)]);
    return { ...found, reads: read, snippets: texts && snippetsOf(texts, filter.words ?? []) };
  });
  const lowerBound = bound !== undefined && counted && total > bound;
  return presentQueue(rows, lowerBound ? bound : total, lowerBound, page.offset, reads, snippets);

  async function countThenList(trx: Db) {
    // The total first: how many tickets match tells the search which way to read the page.
    const matching = await countQueueUpTo(trx, dialect, filter, counts.totals, bound, counts.past);
    const atLeast = matching.counted && bound !== undefined && matching.n > bound;
    return { rows: await listQueue(trx, dialect, filter, sort, page, matching.n, atLeast), total: matching.n, counted: matching.counted };
  }
}

/** A search: `#1042` is the ticket with that number; anything else, words to find. */
function searchOf(q: string | undefined): Pick<QueueFilter, 'words' | 'number'> {
  if (q === undefined) return {};
  const number = searchedNumber(q);
  return number === undefined ? { words: searchWords(q) } : { number };
}

const QUEUE_CACHE_BYTES = 16 * 1024 * 1024;

/** The staff queue, answered from memory while nothing at all changed. */
export interface StaffQueue {
  list(actor: Actor, query: AdminListTicketsQuery, serialize: Serialize): Promise<string>;
}

/**
 * Queue pages and searches, served from memory while nothing at all has changed since (see
 * databaseVersion): several agents watching the same views, or paging back and forth, then
 * cost one small read; any write anywhere sends the next request to the database. The version
 * is read before the page, so a change in between leaves the cached page already stale.
 */
export function staffQueue(db: Db, dialect: Dialect, totalBound = 10_000): StaffQueue {
  const queues = new ResponseCache(QUEUE_CACHE_BYTES);
  const deskVersion = batchedByTurn(async () => new Map([['desk', await databaseVersion(db, dialect)]]));
  // The last total of each search on this database, to plan its next reading, and the counts
  // known to be past the bound.
  const counts = { totals: new SearchTotals(), past: new CountsPastBound() };
  return {
    async list(actor, query, serialize) {
      // Only the parameters the query reads: unknown ones must not each make an entry.
      const { status, waiting_on: waiting, type, priority, assigned_to: assignee, tenant_id: tenant, created_by: creator, q, sort, limit, offset } = query;
      const key = JSON.stringify([status, waiting, type, priority, assignee, tenant, creator, q, sort, limit, offset]);
      const version = await deskVersion('desk');
      // A page says what is unread for the agent who asked (and whom `me` means): theirs alone.
      // On a busy desk the version moves faster than a search loads: one load at a time per
      // query and agent, the requests that came meanwhile sharing the next (ResponseCache.serveLatest).
      return queues.serveLatest(
        { key, owner: actor.userId, version },
        async (at) => ({ version: at, body: await listQueueForStaff(db, dialect, actor, query, counts, totalBound) }),
        serialize,
        () => deskVersion('desk'),
      );
    },
  };
}

/** Any ticket with every comment (internal notes too), its whole history, and what is unread for `actor`. */
export async function getTicketForStaff(db: Db, actor: Actor, ticketId: string): Promise<Tagged<StaffTicketDetailResponse>> {
  return readSnapshot(db, async (trx) => {
    const ticket = await findTicket(trx, ticketId, ALL_TENANTS);
    if (!ticket) throw notFound();
    const [comments, history, reads, attachments] = await Promise.all([
      listComments(trx, ticket.id, { includeInternal: true }),
      listHistory(trx, ticket.id),
      readsOf(trx, actor.userId, [ticket.id]),
      ticketAttachments(trx, ticket.id, 'staff'),
    ]);
    return { body: presentStaffDetail(presentStaffTicket(ticket, comments, reads.get(ticket.id), attachments), history), etag: etagOf(ticket.version) };
  });
}

/** Records that `actor` opened the ticket: what the customer wrote so far is read. */
export async function markTicketRead(db: Db, actor: Actor, ticketId: string): Promise<void> {
  if (!(await markRead(db, ticketId, actor.userId))) throw notFound();
}

/** If-Match uses strong comparison (RFC 9110 §13.1.1): a weak tag never matches. */
function matchesEtag(ifMatch: string, etag: string): boolean {
  return ifMatch
    .split(',')
    .map((tag) => tag.trim())
    .some((tag) => tag === '*' || tag === etag);
}

function checkIfMatch(ifMatch: string | undefined, version: number): void {
  if (ifMatch !== undefined && !matchesEtag(ifMatch, etagOf(version))) {
    throw new AppError(412, 'the ticket was changed by someone else since you loaded it; reload it and try again');
  }
}

/**
 * Triage: changes status, priority, type and assignee (ticket.changes.ts planTriage). A
 * request that changes nothing writes nothing. With `If-Match`, a ticket someone else changed
 * since is left alone (412).
 */
export async function updateTicketAsStaff(
  db: Db,
  actor: Actor,
  ticketId: string,
  input: UpdateTicketBody,
  ifMatch: string | undefined,
): Promise<Tagged<StaffTicket>> {
  const triage: TriageInput = { status: input.status, priority: input.priority, type: input.type };
  if (input.assigned_to !== undefined) {
    const assignee = input.assigned_to === null ? null : await findStaffUser(db, input.assigned_to);
    if (assignee === undefined) throw unknownAssignee(input.assigned_to as string);
    triage.assignee = assignee;
  }
  return changeTicket(db, ticketId, ALL_TENANTS, {
    plan: (ticket) => {
      checkIfMatch(ifMatch, ticket.version);
      return planTriage(ticket, asStaff(actor), triage, nowIso());
    },
    thread: { includeInternal: true },
    respond: async (ticket, _change, conn, thread) => {
      const reads = await readsOf(conn, actor.userId, [ticket.id]);
      return { body: presentStaffTicket(ticket, thread?.comments ?? [], reads.get(ticket.id), thread?.attachments ?? []), etag: etagOf(ticket.version) };
    },
  });
}

/**
 * Adds a support-team comment: a public reply or an internal note (ticket.changes.ts
 * planStaffComment), on a ticket of any status.
 */
export async function addStaffComment(
  db: Db,
  actor: Actor,
  ticketId: string,
  input: { content: string; isInternal: boolean; attachments?: string[] | undefined },
  idempotency?: Idempotency | null,
  channel: CommentChannel = 'web',
): Promise<StaffTicketComment> {
  const uploads = await uploadsToAttach(db, actor, input.attachments);
  return changeTicket(db, ticketId, ALL_TENANTS, {
    plan: (ticket) =>
      planStaffComment(
        ticket,
        asStaff(actor),
        input,
        nowIso(),
        uploads.map((upload) => upload.id),
        channel,
      ),
    respond: (_ticket, change) => presentStaffComment(change?.comment as NonNullable<TicketChange['comment']>, attachedRows(change?.attachments, uploads)),
    idempotency: { key: idempotency, status: 201 },
  }).catch((error: unknown) => rethrowAttachRace(error, uploads.length > 0));
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
