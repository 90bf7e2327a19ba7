import fs from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, PostgresDialect, sql, SqliteDialect, type SelectQueryBuilder, type SqliteDatabase } from 'kysely';
import pg from 'pg';
import type { DatabaseConfig } from '../config.js';
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

/**
 * Opens the configured database. SQLite runs in WAL mode with foreign keys and a busy timeout;
 * PostgreSQL through a pg pool of `poolSize` connections.
 */
export function createDb(config: DatabaseConfig): Db {
  if (config.kind === 'postgres') {
    // No statement may hold a connection (and its locks) for more than 10 s.
    // JIT off: it spends milliseconds compiling the short counts and lookups of a request
    // (3 ms of a 6 ms search count at 1,000,000 tickets), the work it exists to speed up.
    const pool = new pg.Pool({ connectionString: config.url, max: config.poolSize, statement_timeout: 10_000, options: '-c jit=off' });
    // An idle client losing its server must not crash the process; the pool replaces it.
    pool.on('error', () => {});
    return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  }
  if (config.path !== ':memory:') fs.mkdirSync(path.dirname(config.path), { recursive: true });
  const sqlite = new SQLite(config.path);
  sqlite.pragma('journal_mode = WAL');
  // FULL: a commit is on disk before the client hears 201, even across power loss.
  sqlite.pragma('synchronous = FULL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  // Refreshes the planner's statistics where they are missing or stale (cheap; SQLite's advice
  // for long-lived connections), so filtered queue queries pick the selective index.
  sqlite.pragma('optimize = 0x10002');
  return new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) });
}

const STATEMENT_CACHE_SIZE = 500;

/**
 * Kysely prepares every query anew; on SQLite preparing costs about as much as running an
 * indexed read. The same few hundred statement texts recur, so keep them prepared (least
 * recently used first out). Kysely never streams from them, so sharing one is safe.
 */
function withStatementCache(sqlite: SQLite.Database): SqliteDatabase {
  const statements = new Map<string, SQLite.Statement>();
  return {
    close: () => sqlite.close(),
    prepare(text: string) {
      let statement = statements.get(text);
      if (statement) {
        statements.delete(text);
      } else {
        statement = sqlite.prepare(text);
        if (statements.size >= STATEMENT_CACHE_SIZE) statements.delete(statements.keys().next().value as string);
      }
      statements.set(text, statement);
      return statement;
    },
  };
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
 * The number of rows a filtered query matches. PostgreSQL returns count(*) as a bigint string,
 * SQLite as a number; this is the one place that knows.
 */
export async function countRows<DB, TB extends keyof DB>(query: SelectQueryBuilder<DB, TB, object>): Promise<number> {
  // Kysely cannot see the alias through the generic builder; the shape is known.
  const row = (await query.select(sql<number | string>`count(*)`.as('n')).executeTakeFirstOrThrow()) as { n: number | string };
  return Number(row.n);
}
