import { sql } from 'kysely';
import { dialectOf, type Db } from '../src/db/database.js';

/**
 * Waits until the events feed can show every event written so far. On PostgreSQL the feed shows
 * an event only once every transaction that began before its own has ended, anywhere on the
 * server (see event.repository.ts); tests share the server, so another test's transaction can
 * hold the newest events back for a moment. SQLite shows them at once.
 */
export async function feedSettled(db: Db, timeoutMs = 10_000): Promise<void> {
  if (dialectOf(db) !== 'postgres') return;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { rows } = await sql<{ settled: boolean }>`select coalesce(max(txid) < pg_snapshot_xmin(pg_current_snapshot()), true) as settled from ticket_events`.execute(db);
    if (rows[0]?.settled) return;
    if (Date.now() > deadline) throw new Error('the events feed did not catch up within 10 s');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
