import { sql, type Kysely, type Migration } from 'kysely';
import type { Dialect } from '../database.js';

/* eslint-disable @typescript-eslint/no-explicit-any */

/**
 * SQLite only: one full-text document per ticket (title, description and every comment) in
 * place of one per text, so that a search for several words is one FTS5 query whose doclists
 * FTS5 intersects itself, and its hits join back to tickets by integer key. With one row per
 * text, every word was a separate set of ticket ids to collect and intersect: 0.1–0.3 s per
 * search at 100,000 tickets. Document ids live in ticket_search_docs, because a ticket's own
 * rowid may change under VACUUM. PostgreSQL keeps its GIN indexes (migration 002).
 */
export function searchDocumentsMigration(dialect: Dialect): Migration {
  return dialect === 'sqlite' ? sqlite : { up: async () => {} };
}

// A ticket's searchable text, as the triggers below, the search queue (search-queue.ts) and
// the seed's bulk path build it: of the ticket row `t` of a query, or by the ticket's id.
export const documentTextSql = (t: string) => `${t}.title || ' ' || ${t}.description || coalesce(' ' || (
    select group_concat(c.content, ' ') from ticket_comments c where c.ticket_id = ${t}.id), '')`;
export const searchDocumentSql = (ticket: string) => `(select ${documentTextSql('t')} from tickets t where t.id = ${ticket})`;
export const searchDocument = (ticket: string) => sql.raw(searchDocumentSql(ticket));
/** A ticket's document id, for the triggers (here and in migration 010). */
export const docOf = (ticket: string) => sql.raw(`(select doc_id from ticket_search_docs where ticket_id = ${ticket})`);

const sqlite: Migration = {
  async up(db: Kysely<any>) {
    for (const trigger of ['ticket_search_on_ticket_insert', 'ticket_search_on_ticket_text', 'ticket_search_on_ticket_delete', 'ticket_search_on_comment_insert']) {
      await sql`drop trigger ${sql.id(trigger)}`.execute(db);
    }
    await sql`drop table ticket_search`.execute(db);
    await sql`create table ticket_search_docs (doc_id integer primary key, ticket_id text not null unique)`.execute(db);
    // Contentless: the text stays in tickets and comments; contentless_delete lets a document be replaced.
    await sql`create virtual table ticket_search using fts5(body, content = '', contentless_delete = 1, tokenize = 'unicode61 remove_diacritics 0')`.execute(db);
    await sql`insert into ticket_search_docs (ticket_id) select id from tickets order by rowid`.execute(db);
    await sql`insert into ticket_search (rowid, body) select d.doc_id, ${searchDocument('d.ticket_id')} from ticket_search_docs d`.execute(db);
    await sql`insert into ticket_search (ticket_search) values ('optimize')`.execute(db);

    await sql`create trigger ticket_search_on_ticket_insert after insert on tickets begin
      insert into ticket_search_docs (ticket_id) values (new.id);
      insert into ticket_search (rowid, body) values (${docOf('new.id')}, new.title || ' ' || new.description);
    end`.execute(db);
    for (const [name, event, ticket] of [
      ['ticket_search_on_ticket_text', 'update of title, description on tickets', 'new.id'],
      ['ticket_search_on_comment', 'insert on ticket_comments', 'new.ticket_id'],
    ] as const) {
      await sql`create trigger ${sql.id(name)} after ${sql.raw(event)} begin
        delete from ticket_search where rowid = ${docOf(ticket)};
        insert into ticket_search (rowid, body) values (${docOf(ticket)}, ${searchDocument(ticket)});
      end`.execute(db);
    }
    await sql`create trigger ticket_search_on_ticket_delete after delete on tickets begin
      delete from ticket_search where rowid = ${docOf('old.id')};
      delete from ticket_search_docs where ticket_id = old.id;
    end`.execute(db);
  },
};
