import { sql, type Expression, type QueryCreator, type Updateable } from 'kysely';
import { jsonArrayFrom as postgresJsonArray } from 'kysely/helpers/postgres';
import { jsonArrayFrom as sqliteJsonArray } from 'kysely/helpers/sqlite';
import { ticketAttachmentsQuery } from '../attachments/attachment.repository.js';
import { dialectOf, preparedStatement, type Database, type Db } from '../db/database.js';
import type { NewTicketEvent } from '../events/event.table.js';
import type { IdempotencyKeyRow } from '../idempotency/idempotency.table.js';
import type { AttachmentRow, TicketAttachmentRow } from '../attachments/attachment.table.js';
import { PREVIEW_CHARS, type TicketChange } from './ticket.changes.js';
import { canonicalUuid } from '../db/ids.js';
import { insertShape, runShaped } from '../db/shaped.js';
import { rebuildTallies, tallyCount } from './ticket.tallies.js';
import type { TicketCommentRow, TicketHistoryRow, TicketRow, TicketStatus, TicketTable, TicketType } from './ticket.table.js';

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
  'number',
  'waiting_on',
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

/** A page of a user's tickets, how many match the filter, and the owner's change counter. */
export interface UserList {
  rows: TicketSummaryRow[];
  total: number;
  /** The owner's change counter; undefined for an owner whose tickets were never counted. */
  version: string | undefined;
}

/**
 * One page of a user's tickets, newest first or by latest activity, with how many match the
 * filter (from the tallies) and the owner's change counter, read by one statement: one snapshot
 * on both databases, so the three agree under concurrent writes, and one round trip where a
 * transaction of three reads took five on PostgreSQL.
 */
export async function readUserList(
  db: Db,
  scope: UserScope,
  filter: UserTicketFilter,
  page: { limit: number; offset: number },
  order: 'created_at' | 'updated_at' = 'created_at',
): Promise<UserList> {
  const version = db
    .selectFrom('ticket_owner_versions')
    .select((eb) => eb.fn.sum<number | string | null>('version').as('version'))
    .where('tenant_id', '=', scope.tenantId)
    .where('created_by', '=', scope.userId);
  const total = tallyCount({ tenantId: scope.tenantId, createdBy: scope.userId, ...filter }) ?? userTickets(db, scope, filter).select((eb) => eb.fn.countAll().as('n'));
  const head = sql<{ owner_version: number | string | null; matching: number | string }>`(select (${version}) as owner_version, (${total}) as matching)`.as('h');
  const pageOf = userTickets(db, scope, filter).select(SUMMARY_COLUMNS).orderBy(order, 'desc').orderBy('id', 'desc').limit(page.limit).offset(page.offset).as('t');
  // The page is joined to the one row of counts, so an empty page still brings them.
  const rows = await db
    .selectFrom(head)
    .leftJoin(pageOf, (join) => join.onTrue())
    .selectAll('t')
    .select(['h.owner_version', 'h.matching'])
    .orderBy(`t.${order}`, 'desc')
    .orderBy('t.id', 'desc')
    .execute();
  const first = rows[0];
  return {
    rows: rows.flatMap(({ owner_version: _version, matching: _matching, ...row }) => (row.id == null ? [] : [row as TicketSummaryRow])),
    total: Number(first?.matching ?? 0),
    version: first?.owner_version == null ? undefined : String(first.owner_version),
  };
}

/** A ticket by id, if it is in `scope`. */
export async function findTicket(db: Db, id: string, scope: TicketScope): Promise<TicketRow | undefined> {
  const ticketId = canonicalUuid(id);
  const [shape, parameters] = scope === ALL_TENANTS ? ['ticket', [ticketId]] : ['ticket of owner', [ticketId, scope.tenantId, scope.userId]];
  const { rows } = await runShaped(db, shape, parameters, () => inScope(db.selectFrom('tickets').selectAll().where('id', '=', ticketId), scope));
  return rows[0];
}

/** The ticket to plan a change from (the write checks its version). */
export const readTicketForChange = findTicket;

/** Writes `patch` over a ticket as it stands, outside any rule: for fixtures and repairs. */
export async function updateTicket(db: Db, id: string, patch: Updateable<TicketTable>): Promise<void> {
  await db.updateTable('tickets').set(patch).where('id', '=', id).execute();
}

/** Rows a change adds beside the ticket's own columns, by table. */
export interface ChangeRows {
  ticket_comments?: TicketCommentRow[];
  ticket_history?: TicketHistoryRow[];
  ticket_events?: NewTicketEvent[];
  idempotency_keys?: IdempotencyKeyRow[];
  ticket_attachments?: TicketAttachmentRow[];
}

/** A comment's columns: written by a change, read by listComments and in a thread. */
const COMMENT_COLUMNS = ['id', 'ticket_id', 'author_id', 'author_email', 'author_type', 'content', 'is_internal', 'created_at', 'indexed_chars', 'channel'] as const;

const COLUMNS: { [T in keyof ChangeRows]-?: ReadonlyArray<string> } = {
  ticket_comments: COMMENT_COLUMNS,
  ticket_history: ['id', 'ticket_id', 'field_changed', 'old_value', 'new_value', 'changed_by', 'changed_by_email', 'created_at'],
  ticket_events: ['event_id', 'type', 'ticket_id', 'tenant_id', 'actor_id', 'actor_email', 'actor_type', 'audience', 'occurred_at', 'data'],
  idempotency_keys: ['tenant_id', 'user_id', 'key', 'request_hash', 'status_code', 'response_body', 'response_headers', 'created_at'],
  ticket_attachments: ['upload_id', 'ticket_id', 'comment_id', 'is_internal', 'created_at'],
};

const nonEmpty = (rows: ChangeRows) =>
  (Object.entries(rows) as Array<[keyof ChangeRows, Array<Record<string, unknown>> | undefined]>).filter(
    (entry): entry is [keyof ChangeRows, Array<Record<string, unknown>>] => (entry[1]?.length ?? 0) > 0,
  );

/**
 * Writes a planned change (ticket.changes.ts) and the rows it adds, all or nothing, if the
 * ticket is still at the version the change was planned from; undefined, writing nothing, if
 * someone changed it since. The write is the same on both databases; only its transport
 * differs. PostgreSQL: one data-modifying WITH, atomic by itself, one round trip: the update
 * at the version, and each table's rows (handed over as one JSON parameter, typed by the
 * table's own row type) inserted only if the update found the ticket. SQLite: the same
 * statements in a transaction, which on its one in-process connection cost no round trips.
 */
export async function writeChange(db: Db, change: TicketChange, extra: ChangeRows = {}): Promise<TicketRow | undefined> {
  const { before } = change;
  // Only what really changes: the row is `before` (its version says so), and a column set to its
  // own value would still cost its indexes an update.
  const patch = Object.fromEntries(Object.entries(change.patch).filter(([column, value]) => before[column as keyof TicketRow] !== value));
  const rows: ChangeRows = {
    ticket_comments: change.comment ? [change.comment] : [],
    // After the comment: an attachment row names it.
    ticket_attachments: change.attachments ?? [],
    ticket_history: change.history,
    ticket_events: change.events,
    ...extra,
  };
  const update = (qc: QueryCreator<Database>) =>
    qc
      .updateTable('tickets')
      .set({ ...patch, version: sql<number>`version + 1` })
      .where('id', '=', before.id)
      .where('version', '=', before.version);
  // The statements' shapes (shaped.ts): the columns set, and the tables rows go to.
  const set = Object.keys(patch).filter((column) => patch[column] !== undefined);
  const updateParameters = [...set.map((column) => patch[column]), before.id, before.version];
  if (dialectOf(db) === 'postgres') {
    const added = nonEmpty(rows);
    const build = () => {
      let query = db.with('changed', (qc) => update(qc).returningAll()) as unknown as QueryCreator<Database & { changed: TicketTable }>;
      for (const [table, tableRows] of added) {
        const columns = sql.join(COLUMNS[table].map((column) => sql.ref(column)));
        query = query.with(`add_${table}`, (qc) =>
          qc
            .insertInto(table)
            .columns(COLUMNS[table] as never)
            .expression(
              sql`select ${columns} from json_populate_recordset(null::${sql.table(table)}, cast(${JSON.stringify(tableRows)} as json))
                where exists (select 1 from changed)`,
            ),
        ) as unknown as typeof query;
      }
      return query.selectFrom('changed').selectAll();
    };
    const shape = `ticket change ${set.join(',')} adding ${added.map(([table]) => table).join(',')}`;
    const { rows: changed } = await runShaped(db, shape, [...updateParameters, ...added.map(([, tableRows]) => JSON.stringify(tableRows))], build);
    return changed[0] as TicketRow | undefined;
  }
  return inTransaction(db, async (trx) => {
    // The row written is `after`: reading it back would only copy it out again.
    const { numAffectedRows } = await runShaped(trx, `ticket change ${set.join(',')}`, updateParameters, () => update(trx));
    if (!numAffectedRows) return undefined;
    for (const [table, tableRows] of nonEmpty(rows)) await insertRows(trx, table, tableRows);
    return change.after;
  });
}

/** Inserts rows into a table, as one statement compiled once per shape where rows allow (shaped.ts). */
async function insertRows(db: Db, table: keyof ChangeRows | 'tickets', rows: ReadonlyArray<Record<string, unknown>>): Promise<void> {
  const build = () => db.insertInto(table).values(rows as never);
  const shaped = insertShape(table, rows);
  if (shaped) await runShaped(db, shaped.shape, shaped.parameters, build);
  else await build().execute();
}

/**
 * Writes a new ticket with its events (and an idempotency key's result), all or nothing: one
 * statement on PostgreSQL (inserts of values, prepared once per connection), a transaction on
 * SQLite. The ticket's triggers count it, bump its owner's version and index it for search
 * in the same statement (migrations 008-016).
 */
export async function writeNewTicket(db: Db, ticket: TicketRow, extra: ChangeRows): Promise<void> {
  const added = nonEmpty(extra);
  if (dialectOf(db) === 'postgres') {
    const build = () => {
      let query = db as unknown as QueryCreator<Database>;
      for (const [table, tableRows] of added) query = query.with(`add_${table}`, (qc) => qc.insertInto(table).values(tableRows as never)) as unknown as QueryCreator<Database>;
      return query.insertInto('tickets').values(ticket);
    };
    const parts = [...added, ['tickets', [ticket]] as const].map(([table, tableRows]) => insertShape(table, tableRows as ReadonlyArray<Record<string, unknown>>));
    if (parts.every((part) => part !== undefined)) {
      await runShaped(db, `new ticket ${parts.map((part) => part.shape).join(' ')}`, parts.flatMap((part) => part.parameters), build);
    } else {
      await build().execute();
    }
    return;
  }
  await inTransaction(db, async (trx) => {
    await insertRows(trx, 'tickets', [ticket as unknown as Record<string, unknown>]);
    for (const [table, tableRows] of added) await insertRows(trx, table, tableRows);
  });
}

/** Runs `work` in a transaction, or in the one `db` already is. */
function inTransaction<T>(db: Db, work: (trx: Db) => Promise<T>): Promise<T> {
  return db.isTransaction ? work(db) : db.transaction().execute(work);
}

/** The key of an owner in `ownerVersions`. */
export const ownerKey = (scope: UserScope): string => JSON.stringify([scope.tenantId, scope.userId]);

/**
 * Many owners' change counters at once, by `ownerKey`; owners never counted are missing.
 * A counter is the sum of its rows: one on SQLite, a shard per session on PostgreSQL
 * (migration 014); every change moves one of them up by one.
 */
export async function ownerVersions(db: Db, keys: string[]): Promise<Map<string, string>> {
  // Each owner once: a repeated one would be joined to its counters twice, and summed twice.
  const owners = [...new Set(keys)].map((key) => JSON.parse(key) as [string, string]);
  let rows: Array<{ tenant_id: string; created_by: string; version: number | string }>;
  if (dialectOf(db) === 'postgres') {
    // One text for any number of owners, parsed once per connection (and planned with its
    // values: PostgreSQL keeps choosing custom plans for it). A list of row values, a text per
    // length, cost 0.7-1.0 ms of the database's CPU for ten owners against 0.1 ms
    // (docs/PERFORMANCE.md, "Statements prepared by name").
    const text = `select o.tenant_id, o.created_by, sum(o.version) as version
       from unnest($1::text[], $2::text[]) as k(tenant_id, created_by)
       join ticket_owner_versions o on o.tenant_id = k.tenant_id and o.created_by = k.created_by
      group by o.tenant_id, o.created_by`;
    const parameters = [owners.map(([tenantId]) => tenantId), owners.map(([, userId]) => userId)];
    ({ rows } = await db.executeQuery<{ tenant_id: string; created_by: string; version: string }>(preparedStatement(text, parameters)));
  } else {
    rows = await db
      .selectFrom('ticket_owner_versions')
      .select(['tenant_id', 'created_by', (eb) => eb.fn.sum<number | string>('version').as('version')])
      .where((eb) => eb(eb.refTuple('tenant_id', 'created_by'), 'in', owners.map(([tenantId, userId]) => eb.tuple(tenantId, userId))))
      .groupBy(['tenant_id', 'created_by'])
      .execute();
  }
  return new Map(rows.map((row) => [ownerKey({ tenantId: row.tenant_id, userId: row.created_by }), String(row.version)]));
}

/**
 * Gives every owner of a ticket a counter, starting from the clock, so that no value a running
 * process may have cached for an owner comes round again (after a migration, seed or import).
 */
export async function restartOwnerVersions(db: Db): Promise<void> {
  await sql`delete from ticket_owner_versions`.execute(db);
  await sql`insert into ticket_owner_versions (tenant_id, created_by, version)
    select tenant_id, created_by, ${Date.now()} from tickets group by tenant_id, created_by`.execute(db);
}

/**
 * Recounts each ticket's comment counters from its comments (after an import: counters in a
 * file are not trusted).
 */
export async function recountComments(db: Db): Promise<void> {
  await sql`update tickets set
      comment_count = (select count(*) from ticket_comments c where c.ticket_id = tickets.id and c.is_internal = 0),
      internal_comment_count = (select count(*) from ticket_comments c where c.ticket_id = tickets.id and c.is_internal = 1),
      comment_chars = (select coalesce(sum(length(c.content)), 0) from ticket_comments c where c.ticket_id = tickets.id)`.execute(db);
}

/**
 * Numbers and what needs attention, derived from each ticket's comments, for tickets that
 * came without them (an import of a version-1 export): numbers in creation order, the last
 * public message, and since when the side that must answer has waited (from its first
 * unanswered message; a reopening by staff left no trace to count from).
 */
export async function deriveAttention(db: Db): Promise<void> {
  const lastPublic = (column: string) =>
    sql.raw(`(select c.${column} from ticket_comments c where c.ticket_id = tickets.id and c.is_internal = 0 order by c.created_at desc, c.id desc limit 1)`);
  await sql`update tickets set number = n.number from (select id, row_number() over (order by created_at, id) as number from tickets) n
    where n.id = tickets.id`.execute(db);
  await sql`update tickets set
    last_message_from = case when ${lastPublic('author_type')} = 'staff' then 'staff' else 'customer' end,
    last_customer_message_at = coalesce((select max(c.created_at) from ticket_comments c
      where c.ticket_id = tickets.id and c.is_internal = 0 and c.author_type = 'user'), tickets.created_at),
    last_staff_reply_at = (select max(c.created_at) from ticket_comments c
      where c.ticket_id = tickets.id and c.is_internal = 0 and c.author_type = 'staff'),
    last_message_preview = substr(coalesce(${lastPublic('content')}, tickets.description), 1, ${PREVIEW_CHARS})`.execute(db);
  await sql`update tickets set
    waiting_on = case when status in ('resolved', 'closed') then null when last_message_from = 'customer' then 'support' else 'customer' end,
    waiting_since = case
      when status in ('resolved', 'closed') then null
      when last_message_from = 'customer' then coalesce((select min(c.created_at) from ticket_comments c
        where c.ticket_id = tickets.id and c.is_internal = 0 and c.author_type = 'user' and c.created_at > tickets.last_staff_reply_at),
        tickets.created_at)
      else (select min(c.created_at) from ticket_comments c
        where c.ticket_id = tickets.id and c.is_internal = 0 and c.author_type = 'staff' and c.created_at >= tickets.last_customer_message_at)
    end`.execute(db);
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

/** A ticket's comments, oldest first; internal notes only when asked for. */
export async function listComments(db: Db, ticketId: string, opts: { includeInternal: boolean }): Promise<TicketCommentRow[]> {
  const build = () => commentsQuery(db, ticketId, opts);
  const [shape, parameters] = opts.includeInternal ? ['comments', [ticketId]] : ['public comments', [ticketId, 0]];
  return (await runShaped(db, shape, parameters, build)).rows;
}

/** The query of a ticket's comments in order, for listComments or for another statement to embed (`ticketId` a reference). */
function commentsQuery(db: Db, ticketId: string | Expression<string>, opts: { includeInternal: boolean }) {
  return db
    .selectFrom('ticket_comments')
    .select(COMMENT_COLUMNS)
    .where('ticket_id', '=', ticketId)
    .$if(!opts.includeInternal, (qb) => qb.where('is_internal', '=', 0))
    .orderBy('created_at', 'asc')
    .orderBy('id', 'asc');
}

/** A ticket's comments and attachments as one side sees them (internal ones only for staff). */
export interface TicketThread {
  comments: TicketCommentRow[];
  attachments: AttachmentRow[];
}

/**
 * A ticket in `scope` with its thread, read by one statement: one snapshot on both databases,
 * and on PostgreSQL one round trip where the ticket, its comments and its attachments took
 * three. The thread comes as JSON arrays (parsed here on SQLite, by the driver on PostgreSQL)
 * with the rows' own column names and values.
 */
export async function findTicketWithThread(
  db: Db,
  id: string,
  scope: TicketScope,
  opts: { includeInternal: boolean },
): Promise<{ ticket: TicketRow; thread: TicketThread } | undefined> {
  const ticketId = canonicalUuid(id);
  const jsonArray = dialectOf(db) === 'postgres' ? postgresJsonArray : sqliteJsonArray;
  const own = sql.ref<string>('tickets.id');
  const build = () =>
    inScope(
      db
        .selectFrom('tickets')
        .selectAll('tickets')
        .select([jsonArray(commentsQuery(db, own, opts)).as('thread_comments'), jsonArray(ticketAttachmentsQuery(db, own, opts)).as('thread_attachments')])
        .where('tickets.id', '=', ticketId),
      scope,
    );
  const hidden = opts.includeInternal ? [] : [0, 0];
  const [shape, parameters] =
    scope === ALL_TENANTS ? [`ticket with thread ${opts.includeInternal}`, [...hidden, ticketId]] : [`ticket of owner with thread ${opts.includeInternal}`, [...hidden, ticketId, scope.tenantId, scope.userId]];
  const { rows } = await runShaped(db, shape, parameters, build);
  const row = rows[0];
  if (!row) return undefined;
  const { thread_comments: comments, thread_attachments: attachments, ...ticket } = row;
  return { ticket: ticket as TicketRow, thread: { comments: fromJson(comments) as TicketCommentRow[], attachments: fromJson(attachments) as AttachmentRow[] } };
}

/** A JSON array as the driver gave it: parsed already (PostgreSQL's json) or as text (SQLite). */
const fromJson = (value: unknown): unknown[] => (typeof value === 'string' ? (JSON.parse(value) as unknown[]) : (value as unknown[]));

/** When `userId` last opened each of these tickets (staff-side unread), by ticket id. */
export async function readsOf(db: Db, userId: string, ticketIds: string[]): Promise<Map<string, string>> {
  if (ticketIds.length === 0) return new Map();
  const build = () => db.selectFrom('ticket_reads').select(['ticket_id', 'read_at']).where('user_id', '=', userId).where('ticket_id', 'in', ticketIds);
  const { rows } = await runShaped(db, `reads of ${ticketIds.length}`, [userId, ...ticketIds], build);
  return new Map(rows.map((row) => [row.ticket_id, row.read_at]));
}

/**
 * Records that `userId` has read the ticket up to its customer's latest message, as the
 * database holds it (no clock compared with another's), never moving back. Undefined when no
 * such ticket exists.
 */
export async function markRead(db: Db, ticketId: string, userId: string): Promise<boolean> {
  const result = await db
    .insertInto('ticket_reads')
    .columns(['ticket_id', 'user_id', 'read_at'])
    .expression((eb) => eb.selectFrom('tickets').select(['id', eb.val(userId).as('user_id'), 'last_customer_message_at']).where('id', '=', canonicalUuid(ticketId)))
    .onConflict((oc) => oc.columns(['ticket_id', 'user_id']).doUpdateSet((eb) => ({ read_at: eb.ref('excluded.read_at') })).where('ticket_reads.read_at', '<', (eb) => eb.ref('excluded.read_at')))
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0) > 0 || (await findTicket(db, ticketId, ALL_TENANTS)) !== undefined;
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
