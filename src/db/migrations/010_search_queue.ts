import { sql, type Kysely, type Migration } from 'kysely';
import type { Dialect } from '../database.js';
import { docOf } from './006_search_documents.js';

/* eslint-disable @typescript-eslint/no-explicit-any */

/**
 * SQLite only: the search triggers queue a ticket's document instead of indexing it, and
 * search-queue.ts indexes the queue in bulk (see there for why). A queued document is
 * rebuilt from the ticket's current text, so queueing it twice is once. Deleting a ticket
 * still removes its document at once: deletes are rare and must not linger in searches.
 */
export function searchQueueMigration(dialect: Dialect): Migration {
  return dialect === 'sqlite' ? sqlite : { up: async () => {} };
}

const sqlite: Migration = {
  async up(db: Kysely<any>) {
    await sql`create table ticket_search_pending (doc_id integer primary key)`.execute(db);
    for (const trigger of ['ticket_search_on_ticket_insert', 'ticket_search_on_ticket_text', 'ticket_search_on_comment', 'ticket_search_on_ticket_delete']) {
      await sql`drop trigger ${sql.id(trigger)}`.execute(db);
    }
    await sql`create trigger ticket_search_on_ticket_insert after insert on tickets begin
      insert into ticket_search_docs (ticket_id) values (new.id);
      insert or ignore into ticket_search_pending (doc_id) values (${docOf('new.id')});
    end`.execute(db);
    for (const [name, event, ticket] of [
      ['ticket_search_on_ticket_text', 'update of title, description on tickets', 'new.id'],
      ['ticket_search_on_comment', 'insert on ticket_comments', 'new.ticket_id'],
    ] as const) {
      await sql`create trigger ${sql.id(name)} after ${sql.raw(event)} begin
        insert or ignore into ticket_search_pending (doc_id) values (${docOf(ticket)});
      end`.execute(db);
    }
    await sql`create trigger ticket_search_on_ticket_delete after delete on tickets begin
      delete from ticket_search where rowid = ${docOf('old.id')};
      delete from ticket_search_pending where doc_id = ${docOf('old.id')};
      delete from ticket_search_docs where ticket_id = old.id;
    end`.execute(db);
  },
};
