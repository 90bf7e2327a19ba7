import type { Db } from '../db/database.js';
import type { IdempotencyKeyRow } from './idempotency.table.js';

/** A user's stored result for a key, if it is younger than `since`. */
export async function findIdempotencyKey(db: Db, userId: string, key: string, since: string): Promise<IdempotencyKeyRow | undefined> {
  return db
    .selectFrom('idempotency_keys')
    .selectAll()
    .where('user_id', '=', userId)
    .where('key', '=', key)
    .where('created_at', '>=', since)
    .executeTakeFirst();
}

/** Stores a result; a concurrent duplicate fails here on the primary key. */
export async function insertIdempotencyKey(db: Db, row: IdempotencyKeyRow): Promise<void> {
  await db.insertInto('idempotency_keys').values(row).execute();
}

/** Forgets a user's expired keys, so an expired key can be used again. */
export async function deleteExpiredIdempotencyKeys(db: Db, userId: string, before: string): Promise<void> {
  await db.deleteFrom('idempotency_keys').where('user_id', '=', userId).where('created_at', '<', before).execute();
}
