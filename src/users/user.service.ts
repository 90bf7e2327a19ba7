import type { Db } from '../db/database.js';
import { batchedByTurn } from '../db/turn-batch.js';
import type { Actor } from '../http/auth.js';
import { upsertUsers } from './user.repository.js';

const REFRESH_MS = 60_000;
/** Users remembered at once: about 150 bytes each, so 15 MB at most. */
const REMEMBERED = 100_000;

/**
 * Keeps the users table in step with verified tokens without a write on every request:
 * a user is written when first seen by this process, when their email or role changes,
 * and at most once a minute otherwise. The users to write in one event-loop turn are written
 * by one statement (a reconnect storm brings a thousand new ones at once). Past `remembered`
 * users the one written longest ago is forgotten (written again when next seen). It used to
 * forget everyone at 10,000: a desk with 10,000 active customers then wrote a user row on every
 * request.
 */
export function createUserTracker(db: Db, { remembered = REMEMBERED }: { remembered?: number } = {}): (actor: Actor) => Promise<void> {
  const lastWritten = new Map<string, { email: string; isStaff: boolean; at: number }>();
  const toWrite = new Map<string, { actor: Actor; at: number }>();
  const write = batchedByTurn<never>(async (ids) => {
    const users = ids.flatMap((id) => {
      const user = toWrite.get(id);
      toWrite.delete(id);
      return user ? [user] : [];
    });
    await upsertUsers(
      db,
      users.map(({ actor, at }) => ({ id: actor.userId, email: actor.email, isStaff: actor.isStaff, seenAt: new Date(at).toISOString() })),
    );
    for (const { actor, at } of users) {
      // Written now: to the end of the line (a Map keeps the order in which keys were set).
      lastWritten.delete(actor.userId);
      if (lastWritten.size >= remembered) lastWritten.delete(lastWritten.keys().next().value as string);
      lastWritten.set(actor.userId, { email: actor.email, isStaff: actor.isStaff, at });
    }
    return new Map<string, never>();
  });
  return async function rememberUser(actor: Actor): Promise<void> {
    const now = Date.now();
    const seen = lastWritten.get(actor.userId);
    if (seen && seen.email === actor.email && seen.isStaff === actor.isStaff && now - seen.at < REFRESH_MS) return;
    toWrite.set(actor.userId, { actor, at: now });
    await write(actor.userId);
  };
}
