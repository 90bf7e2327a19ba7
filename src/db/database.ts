import fs from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, PostgresAdapter, PostgresDialect, sql, SqliteDialect, type SelectQueryBuilder, type SqliteDatabase, type SqliteStatement } from 'kysely';
import pg from 'pg';
import type { DatabaseConfig } from '../config.js';
import { startCheckpointer, type Checkpointer } from './checkpointer.js';
import { GroupCommit, LogFile, TransactionBatcher } from './group-commit.js';
import { searchQueueIndexer } from './search-queue.js';
import type {
  TenantTicketTallyTable,
  TicketCommentTable,
  TicketHistoryTable,
  TicketOwnerVersionTable,
  TicketTable,
  TicketTallyTable,
  UserTicketTallyTable,
} from '../tickets/ticket.table.js';
import type { IdempotencyKeyTable } from '../idempotency/idempotency.table.js';
import type { UserTable } from '../users/user.table.js';

export interface Database {
  tickets: TicketTable;
  ticket_comments: TicketCommentTable;
  ticket_history: TicketHistoryTable;
  ticket_tallies: TicketTallyTable;
  tenant_ticket_tallies: TenantTicketTallyTable;
  user_ticket_tallies: UserTicketTallyTable;
  ticket_owner_versions: TicketOwnerVersionTable;
  users: UserTable;
  idempotency_keys: IdempotencyKeyTable;
}

/** The SQL dialects helpdesk runs on; dialect-specific SQL is the exception (full-text search). */
export type Dialect = DatabaseConfig['kind'];

/** A connection or an open transaction: repositories accept either. */
export type Db = Kysely<Database>;

/** Which database `db` (a connection or a transaction) talks to. */
export function dialectOf(db: Db): Dialect {
  return db.getExecutor().adapter instanceof PostgresAdapter ? 'postgres' : 'sqlite';
}

const groups = new WeakMap<Db, BatchedGroupCommit>();

/**
 * Opens the configured database. SQLite runs in WAL mode with foreign keys and a busy timeout;
 * PostgreSQL through a pg pool of `poolSize` connections.
 *
 * `groupCommit` (the server): SQLite commits without flushing, and `durable(db)` tells when
 * they are on disk; whoever opens it so must wait for `durable` before telling anyone a write
 * happened. Without it (the command line) every commit is flushed before it returns.
 */
export function createDb(config: DatabaseConfig, options: { groupCommit?: boolean } = {}): Db {
  if (config.kind === 'postgres') {
    // No statement may hold a connection (and its locks) for more than 10 s.
    // JIT off: it spends milliseconds compiling the short counts and lookups of a request
    // (3 ms of a 6 ms search count at 1,000,000 tickets), the work it exists to speed up.
    const pool = new pg.Pool({ connectionString: config.url, max: config.poolSize, statement_timeout: 10_000, options: '-c jit=off' });
    // An idle client losing its server must not crash the process; the pool replaces it.
    pool.on('error', () => {});
    pool.on('connect', preparingInserts);
    return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  }
  if (config.path !== ':memory:') keepPrivate(config.path);
  const sqlite = new SQLite(config.path);
  const wal = sqlite.pragma('journal_mode = WAL', { simple: true }) === 'wal';
  const group = options.groupCommit && wal ? batchedGroupCommit(sqlite, config.path) : undefined;
  // FULL: a commit is on disk when it returns, even across power loss. NORMAL under group
  // commit: the log is flushed by GroupCommit before any response goes out.
  sqlite.pragma(group ? 'synchronous = NORMAL' : 'synchronous = FULL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  if (options.groupCommit) {
    // Statement journals in memory. Inside a transaction every write statement keeps the
    // pages it changes in a statement journal (so that it can be undone alone), and SQLite
    // moves that journal to a temporary file past 64 KB. A ticket insert changes some 20 pages
    // (the row, 14 indexes, the search queue), so at 1,000,000 tickets each insert wrote a
    // temporary file: 140 µs of native time instead of 50. The server's other temporary
    // structures are small (its sorts have a LIMIT), but the migrations it runs at start sort
    // in memory too (a recount at 1,000,000 tickets: ~100 MB, once); the command line keeps
    // files for the big sorts of a seed.
    sqlite.pragma('temp_store = MEMORY');
  }
  // Refreshes the planner's statistics where they are missing or stale (cheap; SQLite's advice
  // for long-lived connections), so filtered queue queries pick the selective index.
  sqlite.pragma('optimize = 0x10002');
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite, group) }) });
  if (group) groups.set(db, group);
  return db;
}

/**
 * The database file holds every tenant's tickets: it is created readable by its owner only
 * (0600; a new folder for it 0700), and SQLite gives its -wal and -shm files the database's own
 * mode. A file others may read (an older version created 0644) is made 0600; a mode without
 * access for others is left as the operator set it.
 */
function keepPrivate(file: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  fs.closeSync(fs.openSync(file, 'a', 0o600));
  for (const name of [file, `${file}-wal`, `${file}-shm`]) {
    const mode = fs.statSync(name, { throwIfNoEntry: false })?.mode;
    if (mode !== undefined && (mode & 0o007) !== 0) fs.chmodSync(name, 0o600);
  }
}

const INSERT_OF_VALUES = /^insert into [^(]+\([^)]*\) values /i;

/**
 * PostgreSQL parses and plans every statement anew unless it is prepared under a name. An
 * insert of values has one plan whatever the values, so those (without RETURNING, whose result
 * shape a migration could change) are prepared once per connection and run by name: at
 * 100,000 tickets, creates 1,651-1,707 -> 1,947-2,080/s. Other statements stay unnamed: after
 * five runs PostgreSQL may switch a prepared statement to a generic plan, and for the
 * one-statement comment (a locking read by id and owner) it chose one that served a quarter as
 * many (1,217-1,263 -> 275-328/s); with custom plans forced, naming them saved too little
 * to matter (creates the same, comments +15%).
 */
function preparingInserts(client: pg.PoolClient): void {
  const names = new Map<string, string>();
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  const nameOf = (text: string): string | undefined => {
    if (!INSERT_OF_VALUES.test(text) || /\breturning\b/i.test(text)) return undefined;
    let name = names.get(text);
    if (name === undefined) names.set(text, (name = `insert_${names.size}`));
    return name;
  };
  // Kysely calls query(text, values); any other call passes through as it came.
  Object.assign(client, {
    query: (...args: unknown[]) => {
      const [text, values] = args;
      const name = args.length === 2 && typeof text === 'string' && Array.isArray(values) && values.length > 0 ? nameOf(text) : undefined;
      return name === undefined ? query(...args) : query({ name, text, values });
    },
  });
}

interface BatchedGroupCommit {
  batch: TransactionBatcher;
  groupCommit: GroupCommit;
  log: LogFile;
  checkpointer: Checkpointer;
}

/**
 * A batch of transactions per event-loop turn, committed and flushed by one group commit; the
 * search documents the batch queued are indexed as it commits, and a thread of its own copies
 * the log back into the database file.
 */
function batchedGroupCommit(sqlite: SQLite.Database, file: string): BatchedGroupCommit {
  const batch = new TransactionBatcher(sqlite, searchQueueIndexer(sqlite));
  const log = new LogFile(`${file}-wal`);
  return { batch, log, groupCommit: new GroupCommit(() => commitAndFlush(batch, log)), checkpointer: startCheckpointer(sqlite, file) };
}

/**
 * Commits the open batch and flushes the log. A failure of either ends the process, as
 * PostgreSQL does on a failed fsync: the operating system may have dropped the writes, and
 * which of the batch's changes survive is unknown. SQLite recovers from its log at the next
 * start; no client was told of a change that is lost.
 */
async function commitAndFlush(batch: TransactionBatcher, log: LogFile): Promise<void> {
  try {
    await batch.commit();
    await log.sync();
  } catch (error) {
    setImmediate(() => {
      throw error;
    });
    throw error;
  }
}

/**
 * Runs `work` with lone statements committing on their own rather than joining the server's
 * batches (see TransactionBatcher.alone): for migrations, before the server serves.
 */
export async function committingAlone<T>(db: Db, work: () => Promise<T>): Promise<T> {
  const batch = groups.get(db)?.batch;
  if (!batch) return work();
  batch.alone();
  try {
    return await work();
  } finally {
    batch.together();
  }
}

/**
 * Undefined when every commit made through `db` so far is on disk (always, unless it was
 * opened with `groupCommit`); else resolves once they are.
 */
export function durable(db: Db): Promise<void> | undefined {
  return groups.get(db)?.groupCommit.durable();
}

const STATEMENT_CACHE_SIZE = 500;

/**
 * Kysely prepares every query anew; on SQLite preparing costs about as much as running an
 * indexed read. The same few hundred statement texts recur, so keep them prepared (least
 * recently used first out). Kysely never streams from them, so sharing one is safe.
 */
function withStatementCache(sqlite: SQLite.Database, group?: BatchedGroupCommit): SqliteDatabase {
  const statements = new Map<string, SQLite.Statement>();
  const transactionControl = group && batchedTransactionControl(group);
  return {
    close: () => {
      void group?.checkpointer.stop();
      group?.batch.close();
      group?.log.flushNow();
      sqlite.close();
      // Everything committed is flushed above; a descriptor that fails to close loses nothing.
      void group?.log.close().catch(() => {});
    },
    prepare(text: string) {
      const control = transactionControl?.get(text);
      if (control) return control;
      let statement = statements.get(text);
      if (statement) {
        statements.delete(text);
      } else {
        statement = sqlite.prepare(text);
        if (statements.size >= STATEMENT_CACHE_SIZE) statements.delete(statements.keys().next().value as string);
      }
      statements.set(text, statement);
      // Kysely runs a statement in the same synchronous step that prepares it, so a write
      // outside any transaction joins the batch, and is counted as a commit, here.
      if (group && !statement.readonly && !group.batch.inTransaction) {
        group.batch.enlist();
        group.groupCommit.committed();
      }
      return statement;
    },
  };
}

/** Kysely's transaction statements, run as savepoints of the batch; `commit` is counted. */
function batchedTransactionControl({ batch, groupCommit }: BatchedGroupCommit): Map<string, SqliteStatement> {
  const control = (action: () => void): SqliteStatement => ({
    reader: false,
    all: () => (action(), []),
    run: () => (action(), { changes: 0, lastInsertRowid: 0 }),
    iterate: () => (action(), [][Symbol.iterator]()),
  });
  return new Map([
    ['begin', control(() => batch.begin())],
    [
      'commit',
      control(() => {
        batch.release();
        groupCommit.committed();
      }),
    ],
    ['rollback', control(() => batch.rollback())],
  ]);
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
 * Runs `write` on a connection of its own, for a one-statement write on PostgreSQL: the write
 * stamps its time (and its rows' ids) once the connection is in hand, so a request that queued
 * for one does not stamp an earlier time than the writes that went before it. (The locking
 * transactions stamp theirs under the ticket's lock.)
 */
export function onConnection<T>(db: Db, write: (conn: Db) => Promise<T>): Promise<T> {
  return db.connection().execute(write);
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
