import { sql, type Kysely, type Migration } from 'kysely';
import type { Dialect } from '../database.js';

/* eslint-disable @typescript-eslint/no-explicit-any */

/**
 * PostgreSQL: drops migration 023's triggers. A transaction that notifies takes the server's
 * notification lock at commit and holds it through its disk flush, so every ticket change
 * committed one at a time, behind every other (on the 2-core bench, a third of the server's and
 * the database's CPU per new ticket). Instances now notify `helpdesk_live` after their writes
 * have committed, at most a few times a second each, in a transaction of their own
 * (src/db/notifications.ts createNotifier). SQLite: nothing to do.
 */
export function liveNotifyAfterCommitMigration(dialect: Dialect): Migration {
  return {
    async up(db: Kysely<any>) {
      if (dialect !== 'postgres') return;
      await sql`drop trigger if exists ticket_events_notify_live on ticket_events`.execute(db);
      await sql`drop trigger if exists ticket_presence_notify_live on ticket_presence`.execute(db);
      await sql`drop function if exists helpdesk_notify_live()`.execute(db);
    },
  };
}
