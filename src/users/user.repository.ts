import type { Db } from '../db/database.js';

/** Inserts or refreshes users seen with a verified token, in one statement (ids distinct). */
export async function upsertUsers(db: Db, users: Array<{ id: string; email: string; isStaff: boolean; seenAt: string }>): Promise<void> {
  if (users.length === 0) return;
  await db
    .insertInto('users')
    .values(users.map((user) => ({ id: user.id, email: user.email, is_staff: user.isStaff ? 1 : 0, first_seen_at: user.seenAt, last_seen_at: user.seenAt })))
    .onConflict((oc) =>
      oc.column('id').doUpdateSet((eb) => ({ email: eb.ref('excluded.email'), is_staff: eb.ref('excluded.is_staff'), last_seen_at: eb.ref('excluded.last_seen_at') })),
    )
    .execute();
}
