import type { Db } from '../db/database.js';
import type { IdempotencyKeyRow } from './idempotency.table.js';

/** Whose keys: a user in a tenant. */
export interface KeyScope {
  tenantId: string;
  userId: string;
}

/** A user's stored result for a key, however old. */
export async function findIdempotencyKey(db: Db, scope: KeyScope, key: string): Promise<IdempotencyKeyRow | undefined> {
  return db
    .selectFrom('idempotency_keys')
    .selectAll()
    .where('tenant_id', '=', scope.tenantId)
    .where('user_id', '=', scope.userId)
    .where('key', '=', key)
    .executeTakeFirst();
}

/** Forgets an expired key (the one stored at `createdAt`, not a newer one), so that it can be used again. */
export async function deleteIdempotencyKey(db: Db, scope: KeyScope, key: string, createdAt: string): Promise<void> {
  await db
    .deleteFrom('idempotency_keys')
    .where('tenant_id', '=', scope.tenantId)
    .where('user_id', '=', scope.userId)
    .where('key', '=', key)
    .where('created_at', '=', createdAt)
    .execute();
}

/** Deletes the oldest keys stored before `before`, about `limit` of them (those of one instant go together); returns how many went. */
export async function pruneIdempotencyKeys(db: Db, before: string, limit: number): Promise<number> {
  const oldest = db.selectFrom('idempotency_keys').select('created_at').where('created_at', '<', before).orderBy('created_at').limit(limit);
  const result = await db.deleteFrom('idempotency_keys').where('created_at', 'in', oldest).executeTakeFirst();
  return Number(result.numDeletedRows);
}
