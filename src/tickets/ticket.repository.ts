import { sql, type Kysely, type RawBuilder, type Updateable } from 'kysely';
import { countRows, type Db } from '../db/database.js';
import { canonicalUuid } from '../db/ids.js';
import { countFromTallies, rebuildTallies } from './ticket.tallies.js';
import type {
  TicketCommentRow,
  TicketHistoryRow,
  TicketRow,
  TicketStatus,
  TicketTable,
  TicketType,
} from './ticket.table.js';

/** A customer's view: their own tickets inside their tenant. */
export interface UserScope {
  tenantId: string;
  userId: string;
}

/**
 * The staff view, every tenant. A named value rather than `null`, so that leaving the tenant
 * out is a visible decision at the call site and never an accident.
 */
export const ALL_TENANTS = Symbol('all tenants');
export type TicketScope = UserScope | typeof ALL_TENANTS;

function inScope<QB extends { where: (column: 'tenant_id' | 'created_by', op: '=', value: string) => QB }>(qb: QB, scope: TicketScope): QB {
  return scope === ALL_TENANTS ? qb : qb.where('tenant_id', '=', scope.tenantId).where('created_by', '=', scope.userId);
}

export interface UserTicketFilter {
  status?: TicketStatus | undefined;
  type?: TicketType | undefined;
}

export const SUMMARY_COLUMNS = [
  'id',
  'title',
  'type',
  'status',
  'priority',
  'created_by_email',
  'assigned_to_email',
  'comment_count',
  'created_at',
  'updated_at',
] as const;

export type TicketSummaryRow = Pick<TicketRow, (typeof SUMMARY_COLUMNS)[number]>;

function userTickets(db: Db, scope: UserScope, filter: UserTicketFilter) {
  return db
    .selectFrom('tickets')
    .where('tenant_id', '=', scope.tenantId)
    .where('created_by', '=', scope.userId)
    .$if(filter.status !== undefined, (qb) => qb.where('status', '=', filter.status as TicketStatus))
    .$if(filter.type !== undefined, (qb) => qb.where('type', '=', filter.type as TicketType));
}

/** One page of a user's tickets, newest first. */
export async function listTicketsForUser(
  db: Db,
  scope: UserScope,
  filter: UserTicketFilter,
  page: { limit: number; offset: number },
): Promise<TicketSummaryRow[]> {
  return userTickets(db, scope, filter)
    .select(SUMMARY_COLUMNS)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(page.limit)
    .offset(page.offset)
    .execute();
}

/** How many of a user's tickets match the filter, from the tallies. */
export async function countTicketsForUser(db: Db, scope: UserScope, filter: UserTicketFilter): Promise<number> {
  const tallied = await countFromTallies(db, { tenantId: scope.tenantId, createdBy: scope.userId, ...filter });
  return tallied ?? countRows(userTickets(db, scope, filter));
}

/** A ticket by id, if it is in `scope`. */
export async function findTicket(db: Db, id: string, scope: TicketScope): Promise<TicketRow | undefined> {
  return inScope(db.selectFrom('tickets').selectAll().where('id', '=', canonicalUuid(id)), scope).executeTakeFirst();
}

/**
 * Takes the ticket's write lock inside a transaction and returns the row as it stands.
 * It bumps `version` with an UPDATE rather than SELECT … FOR UPDATE, which SQLite lacks:
 * on PostgreSQL the UPDATE holds the row lock until commit, on SQLite the write lock.
 */
export async function lockTicket(trx: Db, id: string, scope: TicketScope): Promise<TicketRow | undefined> {
  return inScope(
    trx
      .updateTable('tickets')
      .set({ version: sql<number>`version + 1` })
      .where('id', '=', canonicalUuid(id)),
    scope,
  )
    .returningAll()
    .executeTakeFirst();
}

/**
 * Inserts a ticket. Its triggers count it in the tallies, bump its owner's version and queue it
 * for search (migrations 010, 012 and 013; on PostgreSQL 012 and 013 as rewritten by 014, and
 * 008 as rewritten by 016), all in this one statement, so it is atomic on its own.
 */
export async function insertTicket(db: Db, row: TicketRow): Promise<void> {
  await db.insertInto('tickets').values(row).execute();
}

/**
 * Writes `patch` over the ticket `before` (as read under its lock); call inside a transaction.
 * Its triggers move it between tallies if a counted column changed, and bump its owner's
 * version if a column their list shows did: internal notes change neither, so they never
 * invalidate a customer's cached list.
 */
export async function updateTicket(db: Db, before: TicketRow, patch: Updateable<TicketTable>): Promise<void> {
  await db.updateTable('tickets').set(patch).where('id', '=', before.id).execute();
}

/**
 * PostgreSQL only: writes `patch` and its history rows over the ticket `before` in one statement,
 * if its version is still `before.version`, bumping it. Undefined when someone changed it since.
 */
export async function updateTicketAtVersionOnPostgres(
  db: Db,
  before: TicketRow,
  patch: Updateable<TicketTable>,
  history: TicketHistoryRow[],
): Promise<TicketRow | undefined> {
  const columns = ['id', 'ticket_id', 'field_changed', 'old_value', 'new_value', 'changed_by', 'changed_by_email', 'created_at'] as const;
  const rows = sql.join(history.map((row) => sql`(${sql.join(columns.map((column) => row[column]))})`));
  return db
    .with('changed', (qc) =>
      qc
        .updateTable('tickets')
        .set({ ...patch, version: sql<number>`version + 1` })
        .where('id', '=', before.id)
        .where('version', '=', before.version)
        .returningAll(),
    )
    .with('history', (qc) =>
      qc
        .insertInto('ticket_history')
        .columns(columns)
        .expression(sql`select * from (values ${rows}) as h where exists (select 1 from changed)`),
    )
    .selectFrom('changed')
    .selectAll()
    .executeTakeFirst();
}

/** What a one-statement change wrote (see changeTicketOnPostgres). */
export interface ChangedTicket {
  /** The ticket as written; undefined when its status refused the change. */
  ticket: TicketRow | undefined;
}

/** Who writes, and when, for the rows a one-statement change inserts. */
export interface ChangeAuthor {
  userId: string;
  email: string;
  at: string;
}

/**
 * PostgreSQL only: locks the ticket, changes it unless its status is one of `refuse`, and
 * inserts a comment and the status's history row with it, in one statement. A data-modifying
 * WITH is atomic by itself, so where BEGIN, the lock, each write and COMMIT were five or six
 * round trips (each ~100-150 µs of the server's CPU, with the row lock held across them all),
 * this is one. `set` assigns over the row as it stands (`t`); the history row is written only
 * if the status changed, with the status it had as its old value. Undefined when no ticket in
 * `scope` has the id. SQLite has no data-modifying WITH; there the services run the same
 * change as statements in a transaction, which on one connection cost no round trips.
 */
async function changeTicketOnPostgres(
  db: Db,
  id: string,
  scope: TicketScope,
  change: { refuse: TicketStatus[]; set: RawBuilder<unknown>; by: ChangeAuthor; comment?: TicketCommentRow | undefined; historyId: string },
): Promise<ChangedTicket | undefined> {
  const inScope = scope === ALL_TENANTS ? sql`` : sql`and tenant_id = ${scope.tenantId} and created_by = ${scope.userId}`;
  const allowed = change.refuse.length === 0 ? sql`true` : sql`old.status not in (${sql.join(change.refuse)})`;
  const { comment, by } = change;
  const insertComment = comment
    ? sql`, comment as (
        insert into ticket_comments (id, ticket_id, author_id, author_email, author_type, content, is_internal, created_at)
        select ${comment.id}, id, ${comment.author_id}, ${comment.author_email}, ${comment.author_type}, ${comment.content},
          cast(${comment.is_internal} as integer), ${comment.created_at} from changed)`
    : sql``;
  // One row if the ticket is in scope (`found`, its old status), the written columns null if refused.
  const { rows } = await sql<TicketRow & { found: TicketStatus; old_status: TicketStatus }>`
    with old as (
      select id, status from tickets where id = ${canonicalUuid(id)} ${inScope} for update
    ), changed as (
      update tickets t set ${change.set}, version = t.version + 1 from old
      where t.id = old.id and ${allowed}
      returning t.*, old.status as old_status
    )${insertComment}, history as (
      insert into ticket_history (id, ticket_id, field_changed, old_value, new_value, changed_by, changed_by_email, created_at)
      select ${change.historyId}, id, 'status', old_status, status, ${by.userId}, ${by.email}, ${by.at} from changed
      where status is distinct from old_status
    )
    select old.status as found, changed.* from old left join changed on true`.execute(db);
  const row = rows[0];
  if (!row) return undefined;
  const { found: _found, old_status: _old, ...ticket } = row;
  return { ticket: ticket.id === null ? undefined : ticket };
}

/**
 * A customer's comment on their ticket in one statement (PostgreSQL): refused on a closed
 * ticket; counted; reopens a resolved one (the rules of addMyComment).
 */
export function commentOnPostgres(db: Db, id: string, scope: UserScope, comment: TicketCommentRow, historyId: string): Promise<ChangedTicket | undefined> {
  const at = comment.created_at;
  return changeTicketOnPostgres(db, id, scope, {
    refuse: ['closed'],
    set: sql`comment_count = t.comment_count + 1, updated_at = ${at},
      status = case when t.status = 'resolved' then 'open' else t.status end,
      resolved_at = case when t.status = 'resolved' then null else t.resolved_at end`,
    by: { userId: comment.author_id, email: comment.author_email, at },
    comment,
    historyId,
  });
}

/**
 * A support-team comment in one statement (PostgreSQL), on a ticket of any status: an internal
 * note is only counted; a public reply also moves `updated_at` and stamps the first response
 * (the rules of addStaffComment).
 */
export function staffCommentOnPostgres(db: Db, id: string, comment: TicketCommentRow, historyId: string): Promise<ChangedTicket | undefined> {
  const at = comment.created_at;
  return changeTicketOnPostgres(db, id, ALL_TENANTS, {
    refuse: [],
    set:
      comment.is_internal === 1
        ? sql`internal_comment_count = t.internal_comment_count + 1`
        : sql`comment_count = t.comment_count + 1, updated_at = ${at}, first_response_at = coalesce(t.first_response_at, ${at})`,
    by: { userId: comment.author_id, email: comment.author_email, at },
    comment,
    historyId,
  });
}

/** Closes a customer's ticket in one statement (PostgreSQL): the rules of closeMyTicket. */
export function closeOnPostgres(db: Db, id: string, scope: UserScope, by: ChangeAuthor, historyId: string): Promise<ChangedTicket | undefined> {
  return changeTicketOnPostgres(db, id, scope, {
    refuse: ['closed'],
    set: sql`status = 'closed', resolved_at = coalesce(t.resolved_at, ${by.at}), updated_at = ${by.at}`,
    by,
    historyId,
  });
}

/** The key of an owner in `ownerVersions`. */
export const ownerKey = (scope: UserScope): string => JSON.stringify([scope.tenantId, scope.userId]);

/**
 * Many owners' change counters at once, by `ownerKey`; owners never counted are missing.
 * A counter is the sum of its rows: one on SQLite, a shard per session on PostgreSQL
 * (migration 014); every change moves one of them up by one.
 */
export async function ownerVersions(db: Db, keys: string[]): Promise<Map<string, string>> {
  const owners = keys.map((key) => JSON.parse(key) as [string, string]);
  const rows = await db
    .selectFrom('ticket_owner_versions')
    .select(['tenant_id', 'created_by', (eb) => eb.fn.sum<number | string>('version').as('version')])
    .where((eb) => eb(eb.refTuple('tenant_id', 'created_by'), 'in', owners.map(([tenantId, userId]) => eb.tuple(tenantId, userId))))
    .groupBy(['tenant_id', 'created_by'])
    .execute();
  return new Map(rows.map((row) => [ownerKey({ tenantId: row.tenant_id, userId: row.created_by }), String(row.version)]));
}

/** The owner's change counter; undefined for an owner whose tickets were never counted. */
export async function ownerVersion(db: Db, scope: UserScope): Promise<string | undefined> {
  const row = await db
    .selectFrom('ticket_owner_versions')
    .select((eb) => eb.fn.sum<number | string | null>('version').as('version'))
    .where('tenant_id', '=', scope.tenantId)
    .where('created_by', '=', scope.userId)
    .executeTakeFirst();
  return row?.version == null ? undefined : String(row.version);
}

/**
 * Gives every owner of a ticket a counter, starting from the clock, so that no value a running
 * process may have cached for an owner comes round again (after a migration, seed or import).
 */
// Kysely<any>: a migration calls it with its untyped handle.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function restartOwnerVersions(db: Kysely<any> | Db): Promise<void> {
  await sql`delete from ticket_owner_versions`.execute(db);
  await sql`insert into ticket_owner_versions (tenant_id, created_by, version)
    select tenant_id, created_by, ${Date.now()} from tickets group by tenant_id, created_by`.execute(db);
}

/** Rebuilds what is derived from the tickets after rows were written around it (seed, import). */
export async function recountDerived(db: Db): Promise<void> {
  await rebuildTallies(db);
  await restartOwnerVersions(db);
}

/** A ticket's version and owner, to tell whether a cached copy of it still stands. */
export type TicketStamp = Pick<TicketRow, 'version' | 'tenant_id' | 'created_by'>;

/** Many tickets' stamps at once, by canonical id; unknown ids are missing. */
export async function ticketStamps(db: Db, ids: string[]): Promise<Map<string, TicketStamp>> {
  const rows = await db.selectFrom('tickets').select(['id', 'version', 'tenant_id', 'created_by']).where('id', 'in', ids.map(canonicalUuid)).execute();
  return new Map(rows.map(({ id, ...stamp }) => [id, stamp]));
}

/** Adds one to a comment counter without reading it first. */
export async function incrementCommentCount(db: Db, id: string, counter: 'comment_count' | 'internal_comment_count'): Promise<void> {
  await db
    .updateTable('tickets')
    .set({ [counter]: sql<number>`${sql.ref(counter)} + 1` })
    .where('id', '=', id)
    .execute();
}

export async function insertComment(db: Db, row: TicketCommentRow): Promise<void> {
  await db.insertInto('ticket_comments').values(row).execute();
}

/** A ticket's comments, oldest first; internal notes only when asked for. */
export async function listComments(db: Db, ticketId: string, opts: { includeInternal: boolean }): Promise<TicketCommentRow[]> {
  return db
    .selectFrom('ticket_comments')
    .selectAll()
    .where('ticket_id', '=', ticketId)
    .$if(!opts.includeInternal, (qb) => qb.where('is_internal', '=', 0))
    .orderBy('created_at', 'asc')
    .orderBy('id', 'asc')
    .execute();
}

export async function insertHistory(db: Db, rows: TicketHistoryRow[]): Promise<void> {
  if (rows.length > 0) await db.insertInto('ticket_history').values(rows).execute();
}

/** A ticket's change history, oldest first. */
export async function listHistory(db: Db, ticketId: string): Promise<TicketHistoryRow[]> {
  return db
    .selectFrom('ticket_history')
    .selectAll()
    .where('ticket_id', '=', ticketId)
    .orderBy('created_at', 'asc')
    .orderBy('id', 'asc')
    .execute();
}
