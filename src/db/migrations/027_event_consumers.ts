import { sql, type Kysely, type Migration } from 'kysely';

/* eslint-disable @typescript-eslint/no-explicit-any */

/**
 * Where each reader of the events feed that acts on events (webhook fan-out, mail) has got to:
 * one row per reader, its cursor as text ("txid.seq"). A reader moves its cursor in the same
 * transaction as the rows it derives from the events, so each event is acted on exactly once,
 * whatever instance or crash comes between.
 */
export const eventConsumersMigration: Migration = {
  async up(db: Kysely<any>) {
    await sql`create table event_consumers (
      name text primary key,
      position text not null,
      updated_at text not null)`.execute(db);
  },
};
