import fs from 'node:fs/promises';

/**
 * Group commit: many commits, one disk flush. SQLite with `synchronous = FULL` flushes its
 * write-ahead log at every commit, on the event loop (a third of a ticket create at 1,000,000
 * tickets). With `synchronous = NORMAL` a commit only writes the log; this class then flushes
 * the log off the event loop, and no response leaves before the flush that covers every commit
 * made before it. Commits that arrive while a flush runs share the next one.
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
 * fdatasync on the log through a descriptor of its own: Linux flushes the file, whoever wrote
 * it. No log means nothing to flush: SQLite removes it only on a clean close, after copying
 * it into the database file and flushing that.
 */
export async function syncFile(file: string): Promise<void> {
  let handle;
  try {
    handle = await fs.open(file, 'r+');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  try {
    await handle.datasync();
  } finally {
    await handle.close();
  }
}
