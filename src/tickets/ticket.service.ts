import { attachedRows, rethrowAttachRace, ticketAttachments, uploadsToAttach } from '../attachments/attachment.service.js';
import { dialectOf, exclusively, readSnapshot, type Db } from '../db/database.js';
import { batchedByTurn } from '../db/turn-batch.js';
import { canonicalUuid, nowIso } from '../db/ids.js';
import type { Actor } from '../http/auth.js';
import { AppError, notFound } from '../http/problem.js';
import { ResponseCache, type Serialize } from '../http/response-cache.js';
import { API_PREFIX } from '../http/schemas.js';
import { idempotencyRow, type Idempotency } from '../idempotency/idempotency.service.js';
import { asCustomer, planClose, planCustomerComment, planNewTicket, type TicketChange } from './ticket.changes.js';
import { nextTicketNumber } from './ticket.numbers.js';
import { presentComment, presentDetail, presentList, presentTicket } from './ticket.presenter.js';
import {
  ALL_TENANTS,
  findTicket,
  findTicketWithThread,
  listComments,
  listHistory,
  readUserList,
  ownerKey,
  ownerVersions,
  readTicketForChange,
  ticketStamps,
  writeChange,
  writeNewTicket,
  type TicketScope,
  type TicketThread,
  type UserScope,
} from './ticket.repository.js';
import {
  DEFAULT_PAGE_SIZE,
  type CreateTicketBody,
  type ListTicketsQuery,
  type SupportTicket,
  type SupportTicketComment,
  type TicketDetailResponse,
  type TicketListResponse,
} from './ticket.schemas.js';
import type { CommentChannel, TicketRow } from './ticket.table.js';

/** Where a ticket lives in the customer API (the Location of a created ticket). */
export function ticketLocation(ticketId: string): string {
  return `${API_PREFIX}/support/tickets/${ticketId}`;
}

function scopeOf(actor: Actor): UserScope {
  return { tenantId: actor.tenantId, userId: actor.userId };
}

/** How to make one change: plan it from the ticket as read, and answer from what it writes. */
export interface ChangeSpec<T> {
  /** The change, from the ticket as read; undefined when nothing would change. Throws to refuse. */
  plan: (ticket: TicketRow) => TicketChange | undefined;
  /**
   * The answer, from the ticket as it will stand. It runs before the write, so it may read
   * at the version the write will check; with `thread`, the ticket's thread as read with it.
   */
  respond: (ticket: TicketRow, change: TicketChange | undefined, db: Db, thread: TicketThread | undefined) => Promise<T> | T;
  /**
   * The answer shows the ticket's thread (as staff see it, or as its customer does): it is read
   * with the ticket, by the same statement, at the version the write checks.
   */
  thread?: { includeInternal: boolean };
  /** With an Idempotency-Key: the key's record of the answer is written with the change. */
  idempotency?: { key: Idempotency | null | undefined; status: number; headers?: Record<string, string> };
}

/**
 * How a change to one ticket waits for others. PostgreSQL: first a few tries that read the
 * ticket, plan, and write in one statement at the version read (two round trips, no lock
 * held between them); after losing that race, the tries queue behind an advisory lock on the
 * ticket, each write still one statement at the version read. No successful write ever waits
 * for the ticket's row lock: a statement that did would carry a transaction id taken before
 * the writes it waited for, and the events feed, ordered by transaction id, would list its
 * event before theirs. SQLite: in a transaction, which its one in-process connection runs
 * alone and which costs no round trips.
 */
const OPTIMISTIC_TRIES = 3;
const QUEUED_TRIES = 100;

/**
 * Makes one change to a ticket in `scope` (404 outside it), the same way on both databases:
 * read the ticket, plan the change (ticket.changes.ts), build the answer, write the plan with
 * its history, events and idempotency record (ticket.repository.ts writeChange), all or
 * nothing, if the ticket is still at the version read; else read it again.
 */
export async function changeTicket<T>(db: Db, ticketId: string, scope: TicketScope, spec: ChangeSpec<T>): Promise<T> {
  const attempt = async (conn: Db): Promise<{ body: T } | undefined> => {
    const read = spec.thread ? await findTicketWithThread(conn, ticketId, scope, spec.thread) : await readTicketForChange(conn, ticketId, scope).then((ticket) => ticket && { ticket, thread: undefined });
    if (!read) throw notFound();
    const { ticket, thread } = read;
    const change = spec.plan(ticket);
    const body = await spec.respond(change?.after ?? ticket, change, conn, thread);
    if (!change) {
      // Nothing to write: the answer stands if the ticket is still as it was read.
      return (await findTicket(conn, ticket.id, ALL_TENANTS))?.version === ticket.version ? { body } : undefined;
    }
    const { idempotency } = spec;
    const record = idempotency?.key ? [idempotencyRow(idempotency.key, { status: idempotency.status, body, headers: idempotency.headers })] : [];
    return (await writeChange(conn, change, { idempotency_keys: record })) ? { body } : undefined;
  };
  for (let tries = dialectOf(db) === 'postgres' ? OPTIMISTIC_TRIES : 0; tries > 0; tries--) {
    const done = await attempt(db);
    if (done) return done.body;
  }
  const key = `ticket ${canonicalUuid(ticketId)}`;
  // One waiter per ticket per instance holds a connection for the lock; the others wait here,
  // so that a ticket everyone writes to cannot take the whole pool.
  return oneAtATime(key, () =>
    exclusively(db, key, async (conn) => {
      for (let tries = QUEUED_TRIES; tries > 0; tries--) {
        const done = await attempt(conn);
        if (done) return done.body;
      }
      throw new AppError(503, 'the ticket is changing too fast to change it now; retry later', undefined, { 'retry-after': '1' });
    }),
  );
}

const running = new Map<string, Promise<unknown>>();

/** Runs `work` after every earlier call with the same key (in this process) has settled. */
async function oneAtATime<T>(key: string, work: () => Promise<T>): Promise<T> {
  const before = running.get(key) ?? Promise.resolve();
  const mine = before.then(work, work);
  const settled = mine.then(
    () => undefined,
    () => undefined,
  );
  running.set(key, settled);
  try {
    return await mine;
  } finally {
    if (running.get(key) === settled) running.delete(key);
  }
}

/** Opens a ticket for the caller: status open, priority normal, unassigned. */
export async function createTicket(db: Db, actor: Actor, input: CreateTicketBody, idempotency?: Idempotency | null): Promise<SupportTicket> {
  const uploads = await uploadsToAttach(db, actor, input.attachments);
  const uploadIds = uploads.map((upload) => upload.id);
  const { ticket, attachments, events } = planNewTicket(asCustomer(actor), actor.tenantId, input, nowIso(), await nextTicketNumber(db), uploadIds);
  const body = presentTicket(ticket, [], attachedRows(attachments, uploads));
  const record = idempotency ? [idempotencyRow(idempotency, { status: 201, body, headers: { location: ticketLocation(ticket.id) } })] : [];
  await writeNewTicket(db, ticket, { ticket_attachments: attachments, ticket_events: events, idempotency_keys: record }).catch((error: unknown) => rethrowAttachRace(error, uploads.length > 0));
  return body;
}

/** Closes the caller's ticket from any other status; a second close is a 409 that changes nothing. */
export function closeMyTicket(db: Db, actor: Actor, ticketId: string, idempotency?: Idempotency | null): Promise<SupportTicket> {
  return changeTicket(db, ticketId, scopeOf(actor), {
    plan: (ticket) => planClose(ticket, asCustomer(actor), nowIso()),
    thread: { includeInternal: false },
    respond: (ticket, _change, _conn, thread) => presentTicket(ticket, thread?.comments ?? [], thread?.attachments ?? []),
    idempotency: { key: idempotency, status: 200 },
  });
}

/**
 * Adds a customer's comment to their own ticket. A closed ticket takes no more comments;
 * a comment on a resolved ticket reopens it (ticket.changes.ts). `channel` says how it came in
 * (set by the mail receiver, never by a request body).
 */
export async function addMyComment(
  db: Db,
  actor: Actor,
  ticketId: string,
  input: { content: string; attachments?: string[] | undefined },
  idempotency?: Idempotency | null,
  channel: CommentChannel = 'web',
): Promise<SupportTicketComment> {
  const uploads = await uploadsToAttach(db, actor, input.attachments);
  return changeTicket(db, ticketId, scopeOf(actor), {
    plan: (ticket) =>
      planCustomerComment(
        ticket,
        asCustomer(actor),
        input.content,
        nowIso(),
        uploads.map((upload) => upload.id),
        channel,
      ),
    respond: (_ticket, change) => presentComment(change?.comment as NonNullable<TicketChange['comment']>, attachedRows(change?.attachments, uploads)),
    idempotency: { key: idempotency, status: 201 },
  }).catch((error: unknown) => rethrowAttachRace(error, uploads.length > 0));
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
  const { version, rows, total } = await readUserList(db, scopeOf(actor), filter, page, query.sort === '-updated_at' ? 'updated_at' : 'created_at');
  return { version: version ?? NO_TICKETS, body: presentList(rows, total, page.offset) };
}

/** The list of an owner who never had a ticket, under any filter: nothing to read. */
export function listOfNoTickets(query: ListTicketsQuery): Versioned<TicketListResponse> {
  return { version: NO_TICKETS, body: presentList([], 0, query.offset ?? 0) };
}

/** One of the caller's tickets with its public comments and its history; 404 for anyone else's. */
export async function getMyTicket(db: Db, actor: Actor, ticketId: string): Promise<Versioned<TicketDetailResponse>> {
  // One snapshot, so the ticket's counters and its comments agree.
  return readSnapshot(db, async (trx) => {
    const ticket = await findTicket(trx, ticketId, scopeOf(actor));
    if (!ticket) throw notFound();
    const [comments, history, attachments] = await Promise.all([
      listComments(trx, ticket.id, { includeInternal: false }),
      listHistory(trx, ticket.id),
      ticketAttachments(trx, ticket.id, 'customer'),
    ]);
    return { version: String(ticket.version), body: presentDetail(presentTicket(ticket, comments, attachments), history) };
  });
}

const RESPONSE_CACHE_BYTES = 32 * 1024 * 1024;

/** The customer's hot reads, answered from memory while what they show is unchanged. */
export interface CustomerReads {
  /** The caller's list, as JSON. */
  list(actor: Actor, query: ListTicketsQuery, serialize: Serialize): Promise<string>;
  /** One of the caller's tickets, as JSON; 404 for anyone else's. */
  get(actor: Actor, ticketId: string, serialize: Serialize): Promise<string>;
}

/**
 * The customer's list and ticket pages, served from memory while unchanged: every request
 * reads the version of what it would show (the owner's change counter, the ticket's version),
 * and a cached body goes out only if it was stored at that version, for that caller. The
 * version reads of one event-loop turn share one query (batchedByTurn), so each instance stays
 * exact however many run. An owner who never had a ticket has version 0: their empty list is
 * cached too, and their first ticket, created anywhere, moves it.
 */
export function customerReads(db: Db): CustomerReads {
  const responses = new ResponseCache(RESPONSE_CACHE_BYTES);
  const versionOf = batchedByTurn((keys) => ownerVersions(db, keys));
  const stampOf = batchedByTurn((ids) => ticketStamps(db, ids));
  return {
    async list(actor, query, serialize) {
      const owner = ownerKey(scopeOf(actor));
      const version = (await versionOf(owner)) ?? NO_TICKETS;
      const key = JSON.stringify(['list', owner, query.status ?? null, query.type ?? null, query.sort ?? null, query.limit ?? null, query.offset ?? null]);
      // Most customers never filed a ticket: their first list, in a reconnect storm a thousand
      // new ones at once, needs no query (the version row comes with the first ticket).
      const load = version === NO_TICKETS ? async () => listOfNoTickets(query) : () => listMyTickets(db, actor, query);
      return responses.serve({ key, owner, version }, load, serialize);
    },
    async get(actor, ticketId, serialize) {
      const id = canonicalUuid(ticketId);
      const stamp = await stampOf(id);
      // Only the ticket's owner has a version to be served from; anyone else reaches the 404.
      const owned = stamp !== undefined && stamp.tenant_id === actor.tenantId && stamp.created_by === actor.userId;
      const owner = ownerKey(scopeOf(actor));
      return responses.serve({ key: JSON.stringify(['detail', id]), owner, version: owned ? String(stamp.version) : undefined }, () => getMyTicket(db, actor, ticketId), serialize);
    },
  };
}

/** The version of an owner with no ticket: counters start at 1 (or at the clock), never 0. */
export const NO_TICKETS = '0';
