import { sql, type Kysely, type Migration } from 'kysely';
import type { Dialect } from '../database.js';
import { searchDocumentSql } from './006_search_documents.js';

/* eslint-disable @typescript-eslint/no-explicit-any */

/**
 * SQLite only: each search document gains a second column, `facets`, holding one token per
 * value the staff queue filters by (status, priority, type, assignee, tenant, customer). A
 * search with filters is then one FTS5 query whose doclists FTS5 intersects itself, and its
 * total a count of documents. Before, the total looked up every hit's ticket to read its
 * columns: `webhook` with `status=open` checked 150,000 tickets (450 ms at 1,000,000) to
 * count 45,000; from the facets it takes 12 ms. A search's words are matched in `body`
 * only, so no word anyone types can match a facet. A change to a filtered column re-queues the
 * ticket's document (the trigger below), like a change to its text.
 */
export function searchFacetsMigration(dialect: Dialect): Migration {
  return dialect === 'sqlite' ? sqlite : { up: async () => {} };
}

/**
 * A ticket's facet tokens. Enum values lose their underscores and ids are hex-encoded, so that
 * each value is exactly one token to FTS5's unicode61 tokenizer; an unassigned ticket's
 * assignee token is the bare prefix `a`.
 */
export const facetsSql = (t: string) =>
  `'s' || replace(${t}.status, '_', '') || ' p' || replace(${t}.priority, '_', '') || ' y' || replace(${t}.type, '_', '') ||
  ' a' || coalesce(hex(${t}.assigned_to), '') || ' t' || hex(${t}.tenant_id) || ' c' || hex(${t}.created_by)`;

/** The facet token for one filter value, as facetsSql writes it (FTS5 folds its case). */
export const facetToken = (prefix: 's' | 'p' | 'y' | 'a' | 't' | 'c', value: string | null): string =>
  prefix === 's' || prefix === 'p' || prefix === 'y' ? `${prefix}${(value ?? '').replaceAll('_', '')}` : `${prefix}${Buffer.from(value ?? '', 'utf8').toString('hex')}`;

/** A ticket's document, both columns, for `insert into ticket_search (rowid, body, facets)`. */
export const searchColumnsSql = (ticket: string) => `${searchDocumentSql(ticket)}, (select ${facetsSql('t')} from tickets t where t.id = ${ticket})`;

// The text columns migration 006 watched, and every column a facet is made of.
const WATCHED = ['title', 'description', 'status', 'priority', 'type', 'assigned_to', 'tenant_id', 'created_by'];

const sqlite: Migration = {
  async up(db: Kysely<any>) {
    // Kysely runs SQLite migrations outside a transaction, so each statement commits alone:
    // `if exists` lets a run interrupted halfway be run again.
    await sql`drop table if exists ticket_search`.execute(db);
    await sql`create virtual table ticket_search using fts5(body, facets, content = '', contentless_delete = 1, tokenize = 'unicode61 remove_diacritics 0')`.execute(db);
    // As migration 011 set it on the table this one replaces (search-maintenance.ts).
    await sql`insert into ticket_search (ticket_search, rank) values ('usermerge', 2)`.execute(db);
    await sql`delete from ticket_search_pending`.execute(db);
    await sql.raw(`insert into ticket_search (rowid, body, facets) select d.doc_id, ${searchColumnsSql('d.ticket_id')} from ticket_search_docs d`).execute(db);
    await sql`insert into ticket_search (ticket_search) values ('optimize')`.execute(db);
    await sql`drop trigger if exists ticket_search_on_ticket_text`.execute(db);
    // Only when one of them really changed: an update that writes a column back unchanged
    // must not cost a re-index.
    const changed = WATCHED.map((column) => `old.${column} is not new.${column}`).join(' or ');
    await sql`create trigger ticket_search_on_ticket_text after update of ${sql.raw(WATCHED.join(', '))} on tickets
      when ${sql.raw(changed)} begin
      insert or ignore into ticket_search_pending (doc_id) values ((select doc_id from ticket_search_docs where ticket_id = new.id));
    end`.execute(db);
  },
};
