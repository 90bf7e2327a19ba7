import type { Db } from '../db/database.js';

/** Inserts or refreshes a user seen with a verified token. */
export async function upsertUser(db: Db, user: { id: string; email: string; isStaff: boolean; seenAt: string }): Promise<void> {
  await db
    .insertInto('users')
    .values({
      id: user.id,
      email: user.email,
      is_staff: user.isStaff ? 1 : 0,
      first_seen_at: user.seenAt,
      last_seen_at: user.seenAt,
    })
    .onConflict((oc) =>
      oc.column('id').doUpdateSet({ email: user.email, is_staff: user.isStaff ? 1 : 0, last_seen_at: user.seenAt }),
    )
    .execute();
}
