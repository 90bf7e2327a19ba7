import type { Db } from '../db/database.js';
import type { Actor } from '../http/auth.js';
import { upsertUser } from './user.repository.js';

const REFRESH_MS = 60_000;
const MAX_REMEMBERED = 10_000;

/**
 * Keeps the users table in step with verified tokens without a write on every request:
 * a user is written when first seen by this process, when their email or role changes,
 * and at most once a minute otherwise.
 */
export function createUserTracker(db: Db): (actor: Actor) => Promise<void> {
  const lastWritten = new Map<string, { email: string; isStaff: boolean; at: number }>();
  return async function rememberUser(actor: Actor): Promise<void> {
    const now = Date.now();
    const seen = lastWritten.get(actor.userId);
    if (seen && seen.email === actor.email && seen.isStaff === actor.isStaff && now - seen.at < REFRESH_MS) return;
    await upsertUser(db, { id: actor.userId, email: actor.email, isStaff: actor.isStaff, seenAt: new Date(now).toISOString() });
    if (lastWritten.size >= MAX_REMEMBERED) lastWritten.clear();
    lastWritten.set(actor.userId, { email: actor.email, isStaff: actor.isStaff, at: now });
  };
}
