import { sql } from 'kysely';
import { dialectOf, type Db } from '../db/database.js';
import type { TicketPresenceRow } from './presence.table.js';

/** Records that an agent is on a ticket until `expiresAt` (replacing what they announced before). */
export async function upsertPresence(db: Db, row: TicketPresenceRow): Promise<void> {
  await db
    .insertInto('ticket_presence')
    .values(row)
    .onConflict((oc) => oc.columns(['ticket_id', 'user_id']).doUpdateSet({ email: row.email, state: row.state, expires_at: row.expires_at }))
    .execute();
}

/** Removes an agent from a ticket at once (they left the page). */
export async function deletePresence(db: Db, ticketId: string, userId: string): Promise<void> {
  await db.deleteFrom('ticket_presence').where('ticket_id', '=', ticketId).where('user_id', '=', userId).execute();
}

/** Deletes up to `limit` rows that expired before `now`. */
export async function pruneExpiredPresence(db: Db, now: string, limit = 1000): Promise<void> {
  // Several instances may prune at once: on PostgreSQL each skips the rows another is deleting.
  const lock = dialectOf(db) === 'postgres' ? sql`for update skip locked` : sql``;
  await sql`delete from ticket_presence where (ticket_id, user_id) in (
    select ticket_id, user_id from ticket_presence where expires_at <= ${now} limit ${limit} ${lock})`.execute(db);
}

/** Every agent on any ticket at `now`, or on the given tickets only. */
export async function activePresence(db: Db, now: string, ticketIds?: string[]): Promise<TicketPresenceRow[]> {
  let query = db.selectFrom('ticket_presence').selectAll().where('expires_at', '>', now);
  if (ticketIds) query = ticketIds.length === 0 ? query.where(sql<boolean>`1 = 0`) : query.where('ticket_id', 'in', ticketIds);
  return query.orderBy('ticket_id').orderBy('email').orderBy('user_id').execute();
}

