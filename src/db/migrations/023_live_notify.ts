import { sql, type Kysely, type Migration } from 'kysely';
import type { Dialect } from '../database.js';

/* eslint-disable @typescript-eslint/no-explicit-any */

/**
 * PostgreSQL: a transaction that writes events or changes who is on a ticket notifies channel
 * `helpdesk_live` once at commit (a notification carries nothing: instances woken by it read the
 * events feed and the presence table). Every instance with live streams LISTENs, so a change made
 * through one reaches the streams of the others at once. SQLite has one process: nothing to do.
 */
export function liveNotifyMigration(dialect: Dialect): Migration {
  return {
    async up(db: Kysely<any>) {
      if (dialect !== 'postgres') return;
      await sql`create function helpdesk_notify_live() returns trigger language plpgsql as $$
        begin
          perform pg_notify('helpdesk_live', '');
          return null;
        end $$`.execute(db);
      await sql`create trigger ticket_events_notify_live after insert on ticket_events
        for each statement execute function helpdesk_notify_live()`.execute(db);
      await sql`create trigger ticket_presence_notify_live after insert or update or delete on ticket_presence
        for each statement execute function helpdesk_notify_live()`.execute(db);
    },
  };
}
