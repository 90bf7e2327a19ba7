import type { Server } from 'node:http';
import { sql } from 'kysely';
import type { Db, Dialect } from '../db/database.js';

/** Pages of index one merge step may write: a short step, so that a request arriving meanwhile waits little. */
const PAGES_PER_STEP = 100;

export interface MergeOptions {
  /** The server counts as idle once no request has arrived for this long. */
  idleAfterMs?: number;
  /** How often to look again while the server is busy. */
  everyMs?: number;
  /** The pause between two steps that merged something. */
  gapMs?: number;
  /** The pause after a step found nothing to merge. */
  restMs?: number;
  /** Told of a step that failed (the next is tried after `restMs`). */
  onError?: (error: unknown) => void;
}

/**
 * Keeps SQLite's search index merged while the server is idle. Every indexing batch adds a
 * small index segment, and a ticket re-indexed after a comment leaves its old entry behind as
 * a tombstone; FTS5 merges segments as it writes only once four pile up on a level. After a
 * day of writes the index is many small segments, and prefix searches take much longer than
 * on the same index merged. A full `optimize` rewrites the whole index, too long to hold the
 * one connection, so this runs FTS5's incremental `merge` in small steps (usermerge 2,
 * migration 011) while no request has reached `server` for `idleAfterMs`, until a step finds
 * nothing to do. A step blocks the event loop while it runs, so a request arriving meanwhile
 * waits one step at most. PostgreSQL's GIN index needs none of this. Returns a function that
 * stops it.
 */
export function mergeSearchIndexWhenIdle(db: Db, dialect: Dialect, server: Server, options: MergeOptions = {}): () => void {
  if (dialect !== 'sqlite') return () => {};
  const { idleAfterMs = 500, everyMs = 1_000, gapMs = 10, restMs = 60_000, onError = () => {} } = options;
  // The http server's own event: every request, whichever plugin's route serves it.
  let lastRequestAt = performance.now();
  const arrived = () => (lastRequestAt = performance.now());
  server.on('request', arrived);
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const schedule = (ms: number) => {
    if (!stopped) timer = setTimeout(() => void step(), ms).unref();
  };
  const step = async () => {
    if (performance.now() - lastRequestAt < idleAfterMs) return schedule(everyMs);
    try {
      schedule((await mergeSearchIndexStep(db)) ? gapMs : restMs);
    } catch (error) {
      onError(error);
      schedule(restMs);
    }
  };
  schedule(everyMs);
  return () => {
    stopped = true;
    clearTimeout(timer);
    server.off('request', arrived);
  };
}

/**
 * One incremental merge of the search index; true when it merged something (FTS5 then
 * reports two or more changes), false when the index is as merged as usermerge asks.
 */
export async function mergeSearchIndexStep(db: Db): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    const changes = async () => Number((await sql<{ n: number }>`select total_changes() as n`.execute(trx)).rows[0]?.n);
    const before = await changes();
    await sql`insert into ticket_search (ticket_search, rank) values ('merge', ${PAGES_PER_STEP})`.execute(trx);
    return (await changes()) - before >= 2;
  });
}
