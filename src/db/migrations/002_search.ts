import { sql, type Kysely, type Migration } from 'kysely';
import type { Dialect } from '../database.js';

/* eslint-disable @typescript-eslint/no-explicit-any */

/**
 * Full-text search over a ticket's title, description and comments, the one place where
 * dialect-specific SQL pays: an FTS5 index kept by triggers on SQLite, GIN indexes over
 * `to_tsvector('simple', …)` expressions on PostgreSQL. The queries that use them live in
 * admin.repository.ts and must repeat these expressions exactly.
 */
export function searchMigration(dialect: Dialect): Migration {
  return dialect === 'postgres' ? postgres : sqlite;
}

const sqlite: Migration = {
  async up(db: Kysely<any>) {
    // kind: 'ticket' (title and description) or 'comment'; diacritics kept, as PostgreSQL's 'simple' does.
    await sql`create virtual table ticket_search using fts5(ticket_id unindexed, kind unindexed, body, tokenize = 'unicode61 remove_diacritics 0')`.execute(db);
    await sql`insert into ticket_search (ticket_id, kind, body) select id, 'ticket', title || ' ' || description from tickets`.execute(db);
    await sql`insert into ticket_search (ticket_id, kind, body) select ticket_id, 'comment', content from ticket_comments`.execute(db);
    await sql`create trigger ticket_search_on_ticket_insert after insert on tickets begin
      insert into ticket_search (ticket_id, kind, body) values (new.id, 'ticket', new.title || ' ' || new.description);
    end`.execute(db);
    await sql`create trigger ticket_search_on_ticket_text after update of title, description on tickets begin
      delete from ticket_search where ticket_id = old.id and kind = 'ticket';
      insert into ticket_search (ticket_id, kind, body) values (new.id, 'ticket', new.title || ' ' || new.description);
    end`.execute(db);
    await sql`create trigger ticket_search_on_ticket_delete after delete on tickets begin
      delete from ticket_search where ticket_id = old.id;
    end`.execute(db);
    await sql`create trigger ticket_search_on_comment_insert after insert on ticket_comments begin
      insert into ticket_search (ticket_id, kind, body) values (new.ticket_id, 'comment', new.content);
    end`.execute(db);
  },
  async down(db: Kysely<any>) {
    for (const trigger of ['ticket_search_on_ticket_insert', 'ticket_search_on_ticket_text', 'ticket_search_on_ticket_delete', 'ticket_search_on_comment_insert']) {
      await sql`drop trigger if exists ${sql.id(trigger)}`.execute(db);
    }
    await sql`drop table if exists ticket_search`.execute(db);
  },
};

const postgres: Migration = {
  async up(db: Kysely<any>) {
    await sql`create index tickets_search on tickets using gin (to_tsvector('simple', title || ' ' || description))`.execute(db);
    await sql`create index ticket_comments_search on ticket_comments using gin (to_tsvector('simple', content))`.execute(db);
  },
  async down(db: Kysely<any>) {
    await sql`drop index if exists ticket_comments_search`.execute(db);
    await sql`drop index if exists tickets_search`.execute(db);
  },
};
