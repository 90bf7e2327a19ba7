import type SQLite from 'better-sqlite3';
import { sql } from 'kysely';
import type { Db, Dialect } from '../db/database.js';
import { searchColumnsSql } from './search.documents.js';

/**
 * SQLite's search index is written in bulk, not row by row. FTS5 writes the terms it holds in
 * memory to disk at every savepoint, and a trigger's statement opens one: indexing a ticket in
 * its trigger wrote a new index segment per ticket and per comment (the larger part of a ticket
 * insert's time), and fed the merges. So the triggers (migrations 010 and 015) only queue
 * the ticket's document, and these statements (re)index everything queued at once: the server
 * runs them at each batch commit (TransactionBatcher), and a search runs them first, so it
 * never misses a ticket another process or the command line queued.
 */
const INDEX_QUEUED = [
  // Replaced documents go first; deleting a document that is not indexed yet does nothing.
  'delete from ticket_search where rowid in (select doc_id from ticket_search_pending)',
  // CROSS JOIN keeps the queue as the outer loop: left to itself, the planner scanned every
  // document for the queued few.
  `insert into ticket_search (rowid, body, facets)
    select p.doc_id, ${searchColumnsSql('d.ticket_id')}
    from ticket_search_pending p cross join ticket_search_docs d on d.doc_id = p.doc_id`,
  'delete from ticket_search_pending',
];
const ANY_QUEUED = 'select 1 from ticket_search_pending limit 1';

/**
 * Indexes the queued documents on a better-sqlite3 connection, inside the caller's transaction.
 * Does nothing until the queue exists (a connection opened before the migrations ran).
 */
export function searchQueueIndexer(sqlite: SQLite.Database): () => void {
  let statements: { anyQueued: SQLite.Statement; index: SQLite.Statement[] } | undefined;
  return () => {
    if (statements === undefined) {
      const exists = sqlite.prepare("select 1 from sqlite_master where type = 'table' and name = 'ticket_search_pending'").get();
      if (exists === undefined) return;
      statements = { anyQueued: sqlite.prepare(ANY_QUEUED), index: INDEX_QUEUED.map((text) => sqlite.prepare(text)) };
    }
    if (statements.anyQueued.get() === undefined) return;
    for (const statement of statements.index) statement.run();
  };
}

/** The same through Kysely, for a search or the command line; run it in a transaction. */
export async function indexQueuedSearches(db: Db, dialect: Dialect): Promise<void> {
  if (dialect !== 'sqlite') return;
  const { rows } = await sql.raw(ANY_QUEUED).execute(db);
  if (rows.length === 0) return;
  for (const text of INDEX_QUEUED) await sql.raw(text).execute(db);
}
