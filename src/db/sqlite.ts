import fs from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import {
  CompiledQuery,
  Kysely,
  SqliteAdapter,
  SqliteDialect,
  type DatabaseConnection,
  type DialectAdapter,
  type Driver,
  type QueryResult,
  type TransactionSettings,
} from 'kysely';
import { startCheckpointer, type Checkpointer } from './checkpointer.js';
import { GroupCommit, LogFile, TransactionBatcher } from './group-commit.js';

/** What the server's SQLite connection may run inside each batch just before it commits. */
export type BeforeBatchCommit = (sqlite: SQLite.Database) => () => void;

export interface SqliteOptions {
  /**
   * The server: commits are grouped per event-loop turn and flushed off the event loop;
   * `durable(db)` tells when they are on disk. Without it (the command line) every commit is
   * flushed before it returns.
   */
  groupCommit?: boolean;
  /** Work the batch does inside itself before committing (the search index's queue). */
  beforeCommit?: BeforeBatchCommit;
}

interface BatchedGroupCommit {
  batch: TransactionBatcher;
  groupCommit: GroupCommit;
  log: LogFile;
  checkpointer: Checkpointer;
}

const groups = new WeakMap<Kysely<unknown>, BatchedGroupCommit>();

/**
 * Opens a SQLite file in WAL mode with foreign keys and a busy timeout, readable by its owner only.
 */
export function openSqlite<DB>(file: string, options: SqliteOptions = {}): Kysely<DB> {
  if (file !== ':memory:') keepPrivate(file);
  const sqlite = new SQLite(file);
  const wal = sqlite.pragma('journal_mode = WAL', { simple: true }) === 'wal';
  const group = options.groupCommit && wal ? batchedGroupCommit(sqlite, file, options.beforeCommit) : undefined;
  // FULL: a commit is on disk when it returns, even across power loss. NORMAL under group
  // commit: the log is flushed by GroupCommit before any response goes out.
  sqlite.pragma(group ? 'synchronous = NORMAL' : 'synchronous = FULL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  if (options.groupCommit) {
    // Statement journals in memory: inside a transaction every write statement keeps the
    // pages it changes in a statement journal, which SQLite moves to a temporary file past
    // 64 KB; a ticket write changes more pages than that. The server's own sorts have a LIMIT.
    sqlite.pragma('temp_store = MEMORY');
  }
  // Refreshes the planner's statistics where they are missing or stale (cheap; SQLite's advice
  // for long-lived connections), so filtered queue queries pick the selective index.
  sqlite.pragma('optimize = 0x10002');
  const driver = new SqliteDriver(sqlite, group);
  const db = new Kysely<DB>({
    dialect: new (class extends SqliteDialect {
      override createDriver(): Driver {
        return driver;
      }
      override createAdapter(): DialectAdapter {
        return new TransactionalDdlAdapter();
      }
    })({ database: sqlite }),
  });
  if (group) groups.set(db as Kysely<unknown>, group);
  return db;
}

/**
 * SQLite's schema changes are transactional, though Kysely's adapter says otherwise to be safe:
 * saying so makes the migrator run each batch of migrations in one transaction, so a process
 * killed halfway through one (a table copied, the old one dropped, the new one not yet renamed)
 * leaves the database as it was before the batch.
 */
class TransactionalDdlAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
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

/**
 * A batch of transactions per event-loop turn, committed and flushed by one group commit, and
 * a thread of its own copying the log back into the database file.
 */
function batchedGroupCommit(sqlite: SQLite.Database, file: string, beforeCommit?: BeforeBatchCommit): BatchedGroupCommit {
  const batch = new TransactionBatcher(sqlite, beforeCommit?.(sqlite));
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
export async function committingAlone<T>(db: Kysely<unknown>, work: () => Promise<T>): Promise<T> {
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
export function durable(db: Kysely<unknown>): Promise<void> | undefined {
  return groups.get(db)?.groupCommit.durable();
}

const STATEMENT_CACHE_SIZE = 500;

/**
 * Kysely's driver for one better-sqlite3 connection, with two differences. Statements stay
 * prepared (least recently used first out): Kysely prepares every query anew, and on SQLite
 * preparing costs about as much as running an indexed read. And under group commit a
 * transaction is a savepoint of the turn's batch (TransactionBatcher), and a write outside
 * any transaction joins the batch, counted as a commit.
 */
class SqliteDriver implements Driver {
  readonly #mutex = new ConnectionMutex();
  readonly #connection: SqliteConnection;

  constructor(
    private readonly sqlite: SQLite.Database,
    private readonly group: BatchedGroupCommit | undefined,
  ) {
    this.#connection = new SqliteConnection(sqlite, group);
  }

  async init(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    // One connection: a transaction holds it, and everyone else waits for it.
    await this.#mutex.lock();
    return this.#connection;
  }

  async beginTransaction(_connection: DatabaseConnection, _settings: TransactionSettings): Promise<void> {
    // A transaction is a snapshot already; isolation levels do not apply.
    if (this.group) this.group.batch.begin();
    else this.sqlite.exec('begin');
  }

  async commitTransaction(): Promise<void> {
    if (!this.group) return void this.sqlite.exec('commit');
    this.group.batch.release();
    this.group.groupCommit.committed();
  }

  async rollbackTransaction(): Promise<void> {
    if (this.group) this.group.batch.rollback();
    else if (this.sqlite.inTransaction) this.sqlite.exec('rollback');
  }

  async savepoint(connection: DatabaseConnection, name: string): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw(`savepoint ${quoteName(name)}`));
  }

  async rollbackToSavepoint(connection: DatabaseConnection, name: string): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw(`rollback to ${quoteName(name)}`));
  }

  async releaseSavepoint(connection: DatabaseConnection, name: string): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw(`release ${quoteName(name)}`));
  }

  async releaseConnection(): Promise<void> {
    this.#mutex.unlock();
  }

  async destroy(): Promise<void> {
    const group = this.group;
    void group?.checkpointer.stop();
    group?.batch.close();
    group?.log.flushNow();
    this.sqlite.close();
    // Everything committed is flushed above; a descriptor that fails to close loses nothing.
    void group?.log.close().catch(() => {});
  }
}

const quoteName = (name: string) => `"${name.replaceAll('"', '""')}"`;

class SqliteConnection implements DatabaseConnection {
  readonly #statements = new Map<string, SQLite.Statement>();

  constructor(
    private readonly sqlite: SQLite.Database,
    private readonly group: BatchedGroupCommit | undefined,
  ) {}

  #prepare(text: string): SQLite.Statement {
    let statement = this.#statements.get(text);
    if (statement) {
      this.#statements.delete(text);
    } else {
      statement = this.sqlite.prepare(text);
      if (this.#statements.size >= STATEMENT_CACHE_SIZE) this.#statements.delete(this.#statements.keys().next().value as string);
    }
    this.#statements.set(text, statement);
    return statement;
  }

  async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    const statement = this.#prepare(query.sql);
    const parameters = query.parameters as unknown[];
    // A write outside any transaction joins the turn's batch, and counts as a commit.
    if (this.group && !statement.readonly && !this.group.batch.inTransaction) {
      this.group.batch.enlist();
      this.group.groupCommit.committed();
    }
    if (statement.reader) return { rows: statement.all(parameters) as R[] };
    const { changes, lastInsertRowid } = statement.run(parameters);
    return { numAffectedRows: BigInt(changes), insertId: BigInt(lastInsertRowid), rows: [] };
  }

  // eslint-disable-next-line require-yield
  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error('streaming is not used on SQLite');
  }
}

class ConnectionMutex {
  #promise: Promise<void> | undefined;
  #resolve: (() => void) | undefined;

  async lock(): Promise<void> {
    while (this.#promise) await this.#promise;
    this.#promise = new Promise((resolve) => (this.#resolve = resolve));
  }

  unlock(): void {
    const resolve = this.#resolve;
    this.#promise = undefined;
    this.#resolve = undefined;
    resolve?.();
  }
}
