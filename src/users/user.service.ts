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
  // Users whose write is under way: a request of theirs meanwhile waits for it instead of
  // writing them again (with the old details only if those are still theirs).
  const writing = new Map<string, { email: string; isStaff: boolean; done: Promise<void> }>();
  const write = batchedByTurn<never>(async (ids) => {
    // In key order: two batches under way at once (on two PostgreSQL connections) then lock
    // their rows in the same order and wait for each other instead of deadlocking.
    const users = ids.sort().flatMap((id) => {
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
    const sameAs = (known: { email: string; isStaff: boolean } | undefined) => known !== undefined && known.email === actor.email && known.isStaff === actor.isStaff;
    const seen = lastWritten.get(actor.userId);
    if (sameAs(seen) && now - (seen?.at ?? 0) < REFRESH_MS) return;
    const under = writing.get(actor.userId);
    if (sameAs(under)) return under?.done;
    toWrite.set(actor.userId, { actor, at: now });
    const done = write(actor.userId).then(() => undefined);
    const entry = { email: actor.email, isStaff: actor.isStaff, done };
    writing.set(actor.userId, entry);
    try {
      await done;
    } finally {
      if (writing.get(actor.userId) === entry) writing.delete(actor.userId);
    }
  };
}
