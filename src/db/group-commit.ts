import fsSync from 'node:fs';
import fs, { type FileHandle } from 'node:fs/promises';

/**
 * Group commit: many commits, one disk flush. SQLite with `synchronous = FULL` flushes its
 * write-ahead log at every commit, on the event loop, which waits for the disk each time. With
 * `synchronous = NORMAL` a commit only writes the log; this class then flushes the log off
 * the event loop, and no response leaves before the flush that covers every commit made
 * before it. Commits that arrive while a flush runs share the next one.
 *
 * Every response waits (reads too): a read may have seen a commit, and what a client was shown
 * must survive a power cut just as what it was told was saved. With no commit pending the
 * check costs a comparison.
 */
export class GroupCommit {
  #commits = 0;
  #synced = 0;
  #flushing: Promise<void> | undefined;

  constructor(private readonly flushToDisk: () => Promise<void>) {}

  /** Counts a commit made on the connection (or about to be, in the same synchronous step). */
  committed(): void {
    this.#commits++;
  }

  /** Undefined when every commit counted so far is on disk; else resolves once it is. */
  durable(): Promise<void> | undefined {
    const target = this.#commits;
    return this.#synced >= target ? undefined : this.#waitFor(target);
  }

  async #waitFor(target: number): Promise<void> {
    while (this.#synced < target) await (this.#flushing ??= this.#flush());
  }

  async #flush(): Promise<void> {
    const target = this.#commits;
    try {
      await this.flushToDisk();
      this.#synced = Math.max(this.#synced, target);
    } finally {
      this.#flushing = undefined;
    }
  }
}

/**
 * The write-ahead log, flushed (fdatasync) through a descriptor of its own: Linux flushes the
 * file, whoever wrote it. The descriptor stays open while the connection is: opening the log
 * for every flush cost a second round trip through libuv's thread pool, and under load each
 * round trip waits for the busy event loop to come round (the open took longer than the
 * flush itself). Holding it is safe because SQLite deletes or replaces the log only when the
 * last connection to the database closes, and the server's own connection is open until
 * `close`. No log yet means nothing was committed to flush; it is looked for again at the
 * next flush.
 */
export class LogFile {
  #handle: Promise<FileHandle | undefined> | undefined;
  #closed = false;

  constructor(private readonly path: string) {}

  async sync(): Promise<void> {
    if (this.#closed) return;
    const handle = await (this.#handle ??= this.#open());
    await handle?.datasync();
  }

  /**
   * Lets the descriptor go. Call once the connection has closed and `flushNow` has flushed
   * what it committed last; later syncs have nothing left to flush.
   */
  async close(): Promise<void> {
    this.#closed = true;
    const handle = await this.#handle?.catch(() => undefined);
    this.#handle = undefined;
    await handle?.close();
  }

  /**
   * Flushes the log now, blocking: for the commit a closing connection makes last. It cannot
   * count on its close to copy the log into the database file and flush it, as SQLite's last
   * connection does, while the checkpoint thread's connection may still be open.
   */
  flushNow(): void {
    let fd: number;
    try {
      fd = fsSync.openSync(this.path, 'r+');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    try {
      fsSync.fdatasyncSync(fd);
    } finally {
      fsSync.closeSync(fd);
    }
  }

  async #open(): Promise<FileHandle | undefined> {
    try {
      return await fs.open(this.path, 'r+');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      this.#handle = undefined;
      return undefined;
    }
  }
}

/** The part of a better-sqlite3 handle the batcher uses. */
interface SqliteHandle {
  exec(sql: string): unknown;
  readonly inTransaction: boolean;
}

/**
 * Runs the transactions of one event-loop turn as savepoints of one SQLite transaction.
 * A commit writes every page it changed to the log, and a ticket write changes many pages
 * (the row, each index, the tallies, the search index); most are the same pages for the next
 * ticket. Committed together, the shared pages are written once per batch instead of once per
 * create, and so are their checkpoints.
 *
 * Kysely's `begin`, `commit` and `rollback` become `SAVEPOINT`, `RELEASE` and `ROLLBACK TO`, so
 * each request's transaction stays atomic: a failed one leaves the others of its batch alone.
 * A write outside a transaction joins the batch too (`enlist`).
 * The batch itself commits when the turn's transactions are done, or when GroupCommit is about
 * to flush. Nobody hears of a commit before its batch is flushed (see GroupCommit), so a batch
 * either reaches the disk whole or none of its requests was answered.
 */
export class TransactionBatcher {
  #open = false;
  #inSavepoint = false;
  #scheduled = false;
  #alone = false;

  /** `beforeCommit` runs inside the batch, just before it commits (search/search.queue.ts). */
  constructor(
    private readonly sqlite: SqliteHandle,
    private readonly beforeCommit: () => void = () => {},
  ) {}

  /** Whether a Kysely transaction is running (its statements are not commits on their own). */
  get inTransaction(): boolean {
    return this.#inSavepoint;
  }

  begin(): void {
    this.#openBatch();
    this.sqlite.exec('SAVEPOINT request');
    this.#inSavepoint = true;
  }

  /**
   * A write statement run outside any transaction joins the open batch (opening one) instead
   * of committing on its own, which would write every page it changed to the log by itself.
   * One statement is atomic without a savepoint: SQLite undoes a failed statement and leaves
   * the transaction around it alone.
   */
  enlist(): void {
    if (this.#alone) return;
    this.#openBatch();
    this.#schedule();
  }

  /**
   * Lets lone statements commit on their own, as SQLite does by default, until `together`:
   * for migrations, whose statements may not run inside a transaction (VACUUM, a journal
   * mode, `foreign_keys` for a table rebuild) and whose bulk rewrites should not wait in one.
   * Commits the open batch first; only while nothing else writes (before serving).
   */
  alone(): void {
    this.close();
    this.#alone = true;
  }

  together(): void {
    this.#alone = false;
  }

  #openBatch(): void {
    if (this.#open) return;
    // IMMEDIATE: the write lock up front, so a batch that began with a read cannot be refused
    // the upgrade (SQLITE_BUSY_SNAPSHOT) by another process's commit.
    this.sqlite.exec('BEGIN IMMEDIATE');
    this.#open = true;
  }

  release(): void {
    this.sqlite.exec('RELEASE request');
    this.#inSavepoint = false;
    this.#schedule();
  }

  rollback(): void {
    this.#inSavepoint = false;
    // An error SQLite answers by rolling back the whole transaction (an I/O error, a full disk)
    // took the batch with it; committing the batch then fails, which ends the process.
    if (this.sqlite.inTransaction) this.sqlite.exec('ROLLBACK TO request; RELEASE request');
    this.#schedule();
  }

  /** Commits the open batch, waiting for a running transaction to end first. */
  async commit(): Promise<void> {
    do await nextTurn();
    while (this.#inSavepoint);
    this.#commitNow();
  }

  /** Before the connection closes: a batch left open would be rolled back. */
  close(): void {
    if (!this.#inSavepoint) this.#commitNow();
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      if (this.#inSavepoint) this.#schedule();
      else this.#commitNow();
    });
  }

  #commitNow(): void {
    if (!this.#open) return;
    this.#open = false;
    if (!this.sqlite.inTransaction) throw new Error('the batch was rolled back by SQLite');
    try {
      this.beforeCommit();
      this.sqlite.exec('COMMIT');
    } catch (error) {
      if (this.sqlite.inTransaction) this.sqlite.exec('ROLLBACK');
      throw error;
    }
  }
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));
