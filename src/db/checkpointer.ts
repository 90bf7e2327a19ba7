import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** SQLite's own threshold, in log pages: what a connection checkpoints at by default. */
export const DEFAULT_AUTOCHECKPOINT_PAGES = 1_000;

/**
 * The thread's program. A string, not a file: the worker then runs the same whether the app
 * runs built (dist/) or from its TypeScript sources (tests), and needs no loader.
 */
const PROGRAM = `
const { workerData, parentPort } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path, { fileMustExist: true });
let timer;
const run = () => {
  db.pragma('wal_checkpoint(PASSIVE)');
  timer = setTimeout(run, workerData.everyMs);
};
parentPort.on('message', () => {
  clearTimeout(timer);
  db.close();
  parentPort.close();
});
run();
`;

export interface Checkpointer {
  /** Ends the thread, once a checkpoint under way is done and its connection closed. */
  stop(): Promise<void>;
}

/**
 * Copies SQLite's write-ahead log back into the database file from a thread of its own.
 *
 * A connection checkpoints on its own when a commit leaves the log past
 * `wal_autocheckpoint` pages: it writes every page the log holds into the database file and
 * flushes that file, inside the COMMIT, on the event loop. On a big desk a create touches
 * pages all over the ticket's indexes, so each checkpoint writes many scattered pages, and
 * every request waits while the commit that runs it holds the event loop.
 *
 * This thread runs a PASSIVE checkpoint every `everyMs` over its own connection, which waits
 * for no one and blocks no one: readers and the writer go on while it copies. The server's
 * connection keeps a threshold, `backstopPages`, as a backstop: SQLite can restart the log
 * from its beginning only when a write transaction starts with every page of it already
 * copied, which a thread running beside a writer that never pauses may not see for a while.
 * When the log reaches the backstop, the server's own checkpoint finds nearly every page
 * copied, copies the rest, and the next commit starts the log over.
 *
 * If the thread fails, the server's connection checkpoints as SQLite does by default.
 */
export function startCheckpointer(
  sqlite: { pragma(source: string): unknown; readonly open: boolean },
  path: string,
  { everyMs = 100, backstopPages = 10_000 }: { everyMs?: number; backstopPages?: number } = {},
): Checkpointer {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(PROGRAM, { eval: true, workerData: { driver, path, everyMs } });
  // Never what keeps the process running; an exit mid-checkpoint is safe (SQLite redoes it).
  worker.unref();
  sqlite.pragma(`wal_autocheckpoint = ${backstopPages}`);
  let stopped = false;
  worker.on('error', () => {
    if (!stopped && sqlite.open) sqlite.pragma(`wal_autocheckpoint = ${DEFAULT_AUTOCHECKPOINT_PAGES}`);
  });
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  return {
    stop: () => {
      stopped = true;
      worker.postMessage('stop');
      return exited;
    },
  };
}
