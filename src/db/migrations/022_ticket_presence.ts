import { sql, type Kysely, type Migration } from 'kysely';

/* eslint-disable @typescript-eslint/no-explicit-any */

/**
 * Which agents are on a ticket right now ("agent collision"): one row per agent and ticket,
 * renewed while the agent's page is open and ignored once `expires_at` has passed. Kept in the
 * database so that every instance's staff streams see the same agents; it is not ticket data
 * and writes no event or history.
 */
export const ticketPresenceMigration: Migration = {
  async up(db: Kysely<any>) {
    await sql`create table ticket_presence (
      ticket_id text not null references tickets (id) on delete cascade,
      user_id text not null,
      email text not null,
      state text not null,
      expires_at text not null,
      primary key (ticket_id, user_id))`.execute(db);
    await sql`create index ticket_presence_by_expiry on ticket_presence (expires_at)`.execute(db);
  },
};
