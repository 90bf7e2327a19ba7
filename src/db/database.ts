import { PostgresAdapter, sql, type Kysely, type SelectQueryBuilder } from 'kysely';
import type { DatabaseConfig } from '../config.js';
import { openPostgres } from './postgres.js';
import { committingAlone as sqliteCommittingAlone, durable as sqliteDurable, openSqlite, type SqliteOptions } from './sqlite.js';
import type {
  CounterTable,
  TenantTicketTallyTable,
  TicketReadTable,
  TicketCommentTable,
  TicketHistoryTable,
  TicketOwnerVersionTable,
  TicketTable,
  TicketTallyTable,
  UserTicketTallyTable,
} from '../tickets/ticket.table.js';
import type { EventConsumerTable, TicketEventTable } from '../events/event.table.js';
import type { IdempotencyKeyTable } from '../idempotency/idempotency.table.js';
import type { UserTable } from '../users/user.table.js';
import type { TicketPresenceTable } from '../live/presence.table.js';
import type { WebhookAttemptTable, WebhookDeliveryTable, WebhookEndpointTable } from '../webhooks/webhook.table.js';
import type { MailInboundTable, MailOutboxTable, MailPreferenceTable } from '../mail/mail.table.js';
import type { AttachmentBlobTable, AttachmentChunkTable, TicketAttachmentTable, UploadTable } from '../attachments/attachment.table.js';

export { preparedStatement } from './postgres.js';

export interface Database {
  tickets: TicketTable;
  ticket_comments: TicketCommentTable;
  ticket_history: TicketHistoryTable;
  ticket_events: TicketEventTable;
  event_consumers: EventConsumerTable;
  ticket_reads: TicketReadTable;
  counters: CounterTable;
  ticket_tallies: TicketTallyTable;
  tenant_ticket_tallies: TenantTicketTallyTable;
  user_ticket_tallies: UserTicketTallyTable;
  ticket_owner_versions: TicketOwnerVersionTable;
  users: UserTable;
  idempotency_keys: IdempotencyKeyTable;
  ticket_presence: TicketPresenceTable;
  webhook_endpoints: WebhookEndpointTable;
  webhook_deliveries: WebhookDeliveryTable;
  webhook_attempts: WebhookAttemptTable;
  mail_outbox: MailOutboxTable;
  mail_inbound: MailInboundTable;
  mail_preferences: MailPreferenceTable;
  uploads: UploadTable;
  ticket_attachments: TicketAttachmentTable;
  attachment_blobs: AttachmentBlobTable;
  attachment_chunks: AttachmentChunkTable;
}

/** The SQL dialects helpdesk runs on; dialect-specific SQL is the exception (full-text search). */
export type Dialect = DatabaseConfig['kind'];

/** A connection or an open transaction: repositories accept either. */
export type Db = Kysely<Database>;

/** Which database `db` (a connection or a transaction) talks to. */
export function dialectOf(db: Db): Dialect {
  return db.getExecutor().adapter instanceof PostgresAdapter ? 'postgres' : 'sqlite';
}

/**
 * Opens the configured database: SQLite (sqlite.ts) or a PostgreSQL pool (postgres.ts).
 *
 * `groupCommit` (the server, SQLite): commits are grouped and flushed off the event loop, and
 * `durable(db)` tells when they are on disk; whoever opens it so must wait for `durable`
 * before telling anyone a write happened. Without it every commit is flushed before it returns.
 */
export function createDb(config: DatabaseConfig, options: SqliteOptions = {}): Db {
  return config.kind === 'postgres' ? openPostgres<Database>(config) : openSqlite<Database>(config.path, options);
}

/**
 * Undefined when every commit made through `db` so far is on disk (always, except on SQLite
 * opened with `groupCommit`); else resolves once they are.
 */
export function durable(db: Db): Promise<void> | undefined {
  return sqliteDurable(db as Kysely<unknown>);
}

/** Runs `work` (migrations) with lone statements committing on their own (see sqlite.ts). */
export function committingAlone<T>(db: Db, work: () => Promise<T>): Promise<T> {
  return sqliteCommittingAlone(db as Kysely<unknown>, work);
}

/**
 * A value that changes whenever any ticket data may have, for caching what a query over the
 * whole desk read. On SQLite: the rows this connection has changed (committed or not, triggers
 * included) and SQLite's count of other connections' commits (the command line, another
 * process). On PostgreSQL: the current snapshot (`xmin:xmax:in-progress xids`), which says
 * exactly which transactions' writes a new query would see: a writing transaction that ends
 * anywhere in the cluster (commit, abort, COMMIT PREPARED) moves xmax or leaves the
 * in-progress list, read-only ones take no xid, and 64-bit xids never repeat. No row is read
 * or written to tell. Two conditions: call it on the pool, not inside a transaction (there it
 * returns that transaction's frozen snapshot), and on the primary (a hot standby's snapshot
 * lists no in-progress xids, so a late commit of an older transaction would not show).
 */
export async function databaseVersion(db: Db, dialect: Dialect): Promise<string> {
  if (db.isTransaction) throw new Error('databaseVersion must be read outside a transaction');
  const { rows } =
    dialect === 'sqlite'
      ? await sql<{ v: string }>`select total_changes() || '.' || data_version as v from pragma_data_version`.execute(db)
      : await sql<{ v: string }>`select pg_current_snapshot()::text as v`.execute(db);
  return rows[0]?.v as string;
}

/**
 * Runs several reads against one snapshot. PostgreSQL's default READ COMMITTED takes a new
 * snapshot per statement, so a page and its total, or a ticket and its comments, could disagree
 * under concurrent writes; REPEATABLE READ gives the whole function one. (SQLite's transaction
 * is a snapshot already; Kysely's SQLite driver ignores the level.)
 */
export function readSnapshot<T>(db: Db, read: (trx: Db) => Promise<T>): Promise<T> {
  return db.transaction().setIsolationLevel('repeatable read').execute(read);
}

/**
 * Runs `work` while no other `exclusively` with the same key runs, anywhere. PostgreSQL: on a
 * connection of its own holding a session advisory lock on the key, its statements each
 * committing on their own (the lock takes no transaction id, so waiting for it leaves the
 * order of the writers' transactions alone). SQLite: in a transaction, which its one
 * connection runs alone.
 */
export async function exclusively<T>(db: Db, key: string, work: (conn: Db) => Promise<T>): Promise<T> {
  if (dialectOf(db) === 'sqlite') return db.isTransaction ? work(db) : db.transaction().execute(work);
  return db.connection().execute(async (conn) => {
    await sql`select pg_advisory_lock(hashtextextended(${key}, 0))`.execute(conn);
    try {
      return await work(conn);
    } finally {
      await sql`select pg_advisory_unlock(hashtextextended(${key}, 0))`.execute(conn);
    }
  });
}

/**
 * The number of rows a filtered query matches. PostgreSQL returns count(*) as a bigint string,
 * SQLite as a number; this is the one place that knows.
 */
export async function countRows<DB, TB extends keyof DB>(query: SelectQueryBuilder<DB, TB, object>): Promise<number> {
  // Kysely cannot see the alias through the generic builder; the shape is known.
  const row = (await query.select(sql<number | string>`count(*)`.as('n')).executeTakeFirstOrThrow()) as { n: number | string };
  return Number(row.n);
}
