import { createHash } from 'node:crypto';
import { sql, type Kysely, type Migration } from 'kysely';
import type { Dialect } from '../database.js';

/* eslint-disable @typescript-eslint/no-explicit-any */

/**
 * PostgreSQL only, the counterpart of 015: each ticket's search tsvector (migration 008) also
 * holds one lexeme per value the staff queue filters by, so that a search's filters are part
 * of its GIN lookup and its total a count of documents, not a join to every hit's ticket.
 * The lexemes begin with `=` (`=s=open`), which the parser never leaves in a word and no typed
 * word begins with, so no text can produce one and no word, even as a prefix, can match one.
 * Ids are hashed (md5) to stay under the 2 KB lexeme limit whatever their length; the page
 * query still filters the tickets' own columns, the total trusts the hashes.
 */
export function postgresSearchFacetsMigration(dialect: Dialect): Migration {
  return dialect === 'postgres' ? postgres : { up: async () => {} };
}

/** A ticket's facet lexemes, as a tsvector to append to its text's. */
const facetsSql = (t: string) => `array_to_tsvector(array[
  '=s=' || replace(${t}.status, '_', ''), '=p=' || replace(${t}.priority, '_', ''), '=y=' || replace(${t}.type, '_', ''),
  '=a=' || coalesce(md5(${t}.assigned_to), ''), '=t=' || md5(${t}.tenant_id), '=c=' || md5(${t}.created_by)])`;

/** A ticket's whole search document: its text with its comments, as in 008, and its facets. */
export const postgresSearchDocumentSql = (t: string) => `to_tsvector('simple', ${t}.title || ' ' || ${t}.description || coalesce(' ' || (
          select string_agg(c.content, ' ') from ticket_comments c where c.ticket_id = ${t}.id), '')) || ${facetsSql(t)}`;

/** The lexeme facetsSql writes for one filter value; `null` is the unassigned assignee. */
export function postgresFacetLexeme(prefix: 's' | 'p' | 'y' | 'a' | 't' | 'c', value: string | null): string {
  if (prefix === 's' || prefix === 'p' || prefix === 'y') return `=${prefix}=${(value ?? '').replaceAll('_', '')}`;
  return `=${prefix}=${value === null ? '' : createHash('md5').update(value, 'utf8').digest('hex')}`;
}

const FACET_COLUMNS = ['status', 'priority', 'type', 'assigned_to', 'tenant_id', 'created_by'];

const postgres: Migration = {
  async up(db: Kysely<any>) {
    // Rewriting every document takes about a minute at 1,000,000 tickets; this transaction only.
    await sql`set local statement_timeout = 0`.execute(db);
    // No ticket may change while its document is rewritten and the triggers are swapped: a
    // change made meanwhile would keep its old facets (readers wait too, for the index).
    await sql`lock table tickets in share row exclusive mode`.execute(db);
    // Faster to rebuild the index once than to update it row by row.
    await sql`drop index ticket_search_docs_search`.execute(db);
    await sql.raw(`update ticket_search_docs d set search = d.search || ${facetsSql('t')} from tickets t where t.id = d.ticket_id`).execute(db);
    await sql`create index ticket_search_docs_search on ticket_search_docs using gin (search)`.execute(db);
    // A new ticket's document: its text, as in 008, and its facets.
    await sql.raw(`create or replace function ticket_search_on_ticket() returns trigger language plpgsql as $$
      begin
        insert into ticket_search_docs (ticket_id, search)
        values (new.id, ${postgresSearchDocumentSql('new')})
        on conflict (ticket_id) do update set search = excluded.search;
        return null;
      end $$`).execute(db);
    // A changed filtered column swaps the old facets for the new, without rebuilding the text.
    await sql.raw(`create function ticket_search_on_facets() returns trigger language plpgsql as $$
      begin
        update ticket_search_docs set search = ts_delete(search, tsvector_to_array(${facetsSql('old')})) || ${facetsSql('new')}
        where ticket_id = new.id;
        return null;
      end $$`).execute(db);
    const changed = FACET_COLUMNS.map((column) => `old.${column} is distinct from new.${column}`).join(' or ');
    await sql.raw(`create trigger ticket_search_on_facets after update of ${FACET_COLUMNS.join(', ')} on tickets
      for each row when (${changed}) execute function ticket_search_on_facets()`).execute(db);
  },
};
