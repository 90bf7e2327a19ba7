import { sql, type Kysely, type Migration } from 'kysely';
import type { Dialect } from '../database.js';

/* eslint-disable @typescript-eslint/no-explicit-any */

/**
 * PostgreSQL only, the counterpart of 006: one tsvector per ticket (title, description and
 * every comment) in ticket_search_docs, kept by triggers, under one GIN index. A search for
 * several words becomes one index lookup that ANDs them, instead of a union of two lookups
 * per word whose id sets were then intersected: 2.4 s per search at 100,000 tickets.
 */
export function postgresSearchDocumentsMigration(dialect: Dialect): Migration {
  return dialect === 'postgres' ? postgres : { up: async () => {} };
}

const postgres: Migration = {
  async up(db: Kysely<any>) {
    await sql`create table ticket_search_docs (
      ticket_id text primary key references tickets (id) on delete cascade,
      search tsvector not null)`.execute(db);
    await sql`insert into ticket_search_docs (ticket_id, search)
      select t.id, to_tsvector('simple', t.title || ' ' || t.description || coalesce(' ' || (
        select string_agg(c.content, ' ') from ticket_comments c where c.ticket_id = t.id), ''))
      from tickets t`.execute(db);
    await sql`create index ticket_search_docs_search on ticket_search_docs using gin (search)`.execute(db);
    await sql`drop index tickets_search`.execute(db);
    await sql`drop index ticket_comments_search`.execute(db);
    await sql`create function ticket_search_on_ticket() returns trigger language plpgsql as $$
      begin
        insert into ticket_search_docs (ticket_id, search)
        values (new.id, to_tsvector('simple', new.title || ' ' || new.description || coalesce(' ' || (
          select string_agg(c.content, ' ') from ticket_comments c where c.ticket_id = new.id), '')))
        on conflict (ticket_id) do update set search = excluded.search;
        return null;
      end $$`.execute(db);
    await sql`create trigger ticket_search_on_ticket after insert or update of title, description on tickets
      for each row execute function ticket_search_on_ticket()`.execute(db);
    await sql`create function ticket_search_on_comment() returns trigger language plpgsql as $$
      begin
        update ticket_search_docs set search = search || to_tsvector('simple', new.content) where ticket_id = new.ticket_id;
        return null;
      end $$`.execute(db);
    await sql`create trigger ticket_search_on_comment after insert on ticket_comments
      for each row execute function ticket_search_on_comment()`.execute(db);
  },
};
