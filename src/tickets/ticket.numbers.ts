import { sql } from 'kysely';
import type { Db } from '../db/database.js';

/** Numbers one reservation takes: one statement per this many new tickets. */
const BLOCK = 32;

interface Block {
  next: number;
  end: number;
}

const blocks = new WeakMap<Db, { block: Block; reserving: Promise<Block> | undefined }>();

/**
 * The next ticket number of the desk. Numbers are reserved from the `counters` table in blocks
 * (one UPDATE … RETURNING, the same on both databases), so a create does not pay a round trip
 * for its number; each instance hands out its own block. Numbers are unique and grow, but not
 * strictly in creation order across instances, and a block left unused when an instance stops
 * leaves a gap: they are for people to quote, not to count.
 */
export async function nextTicketNumber(db: Db): Promise<number> {
  let state = blocks.get(db);
  if (!state) blocks.set(db, (state = { block: { next: 0, end: 0 }, reserving: undefined }));
  for (;;) {
    if (state.block.next < state.block.end) return state.block.next++;
    state.reserving ??= reserve(db).finally(() => {
      (state as { reserving: unknown }).reserving = undefined;
    });
    const fresh = await state.reserving;
    // Several callers waited for the same reservation: the first to run installs it.
    if (state.block.next >= state.block.end && fresh.next < fresh.end) state.block = fresh;
  }
}

async function reserve(db: Db): Promise<Block> {
  const { rows } = await sql<{ next: number | string }>`update counters set next = next + ${BLOCK} where name = 'ticket_number' returning next`.execute(db);
  const end = Number(rows[0]?.next);
  if (!Number.isFinite(end)) throw new Error('the ticket_number counter is missing (migration 026)');
  return { next: end - BLOCK, end };
}

/** Reserves `count` numbers at once (the seed); returns the first. */
export async function reserveTicketNumbers(db: Db, count: number): Promise<number> {
  const { rows } = await sql<{ next: number | string }>`update counters set next = next + ${count} where name = 'ticket_number' returning next`.execute(db);
  return Number(rows[0]?.next) - count;
}

/** Moves the counter past every number in use (after an import), never back: blocks handed out stay unique. */
export async function resetTicketNumbers(db: Db): Promise<void> {
  await sql`update counters set next = (select coalesce(max(number), 0) + 1 from tickets) where name = 'ticket_number'
    and next < (select coalesce(max(number), 0) + 1 from tickets)`.execute(db);
}
