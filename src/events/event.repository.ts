import { sql, type RawBuilder } from 'kysely';
import { dialectOf, type Db } from '../db/database.js';
import type { EventType, TicketEventRow } from './event.table.js';

/**
 * A place in the events feed: after the event written by transaction `txid` as number `seq`.
 * On SQLite `txid` is always 0 (one writer at a time: `seq` is commit order).
 */
export interface FeedCursor {
  txid: string;
  seq: string;
}

export const FEED_START: FeedCursor = { txid: '0', seq: '0' };

const CURSOR = /^(\d{1,19})\.(\d{1,19})$/;
const MAX_BIGINT = 2n ** 63n - 1n;

export const formatCursor = (cursor: FeedCursor): string => `${cursor.txid}.${cursor.seq}`;

/** The cursor a client sent, or undefined if it is not one (each part a bigint, as the database keeps them). */
export function parseCursor(text: string): FeedCursor | undefined {
  const match = CURSOR.exec(text);
  if (!match) return undefined;
  const [txid, seq] = [BigInt(match[1] as string), BigInt(match[2] as string)];
  return txid > MAX_BIGINT || seq > MAX_BIGINT ? undefined : { txid: txid.toString(), seq: seq.toString() };
}

const compare = (a: FeedCursor, b: FeedCursor): number => {
  const byTxid = BigInt(a.txid) - BigInt(b.txid);
  const delta = byTxid !== 0n ? byTxid : BigInt(a.seq) - BigInt(b.seq);
  return delta < 0n ? -1 : delta > 0n ? 1 : 0;
};

export const laterOf = (a: FeedCursor, b: FeedCursor): FeedCursor => (compare(a, b) >= 0 ? a : b);

/** Which events a reader wants. */
export interface FeedFilter {
  types?: EventType[] | undefined;
  ticketId?: string | undefined;
  /** A customer's own tickets, and only what the customer may see of them. */
  customer?: { tenantId: string; userId: string } | undefined;
}

export type FeedRow = TicketEventRow & { cursor: FeedCursor };

/**
 * Up to `limit` events after `after`, in commit order, and the end of what can be read now.
 * A cursor never skips an event whose transaction commits late: SQLite commits one writer at
 * a time, in `seq` order; on PostgreSQL the feed is ordered by (writing transaction, seq) and
 * shows only events of transactions below the oldest one still running, all of which have
 * ended, so nothing can appear behind a cursor later. Run it in one snapshot (readSnapshot):
 * the page and the end must agree.
 */
export async function readFeed(db: Db, after: FeedCursor, limit: number, filter: FeedFilter): Promise<{ rows: FeedRow[]; end: FeedCursor }> {
  const conditions: RawBuilder<unknown>[] = [];
  if (filter.types && filter.types.length > 0) conditions.push(sql`type in (${sql.join(filter.types)})`);
  if (filter.ticketId) conditions.push(sql`ticket_id = ${filter.ticketId}`);
  if (filter.customer) {
    conditions.push(sql`audience = 'customer' and tenant_id = ${filter.customer.tenantId}
      and ticket_id in (select id from tickets where tenant_id = ${filter.customer.tenantId} and created_by = ${filter.customer.userId})`);
  }
  const filtered = conditions.length > 0 ? sql`and ${sql.join(conditions, sql` and `)}` : sql``;
  const columns = sql`seq, event_id, type, ticket_id, tenant_id, actor_id, actor_email, actor_type, audience, occurred_at, data`;
  if (dialectOf(db) === 'sqlite') {
    const { rows } = await sql<TicketEventRow>`select ${columns} from ticket_events
      where seq > ${Number(after.seq)} ${filtered} order by seq limit ${limit}`.execute(db);
    const last = await sql<{ seq: number | null }>`select max(seq) as seq from ticket_events`.execute(db);
    const end = { txid: '0', seq: String(last.rows[0]?.seq ?? 0) };
    return { rows: rows.map((row) => ({ ...row, seq: String(row.seq), cursor: { txid: '0', seq: String(row.seq) } })), end };
  }
  const settled = sql`txid < pg_snapshot_xmin(pg_current_snapshot())`;
  // Ordered by the table's columns, named with the table: a bare `txid` in ORDER BY would be the
  // text the SELECT makes of it, where "10" sorts before "9" (a page crossing a power of ten
  // would skip events) and no index applies (every read sorted the whole log).
  const { rows } = await sql<TicketEventRow & { txid: string }>`select txid::text as txid, ${columns} from ticket_events
    where (txid, seq) > (cast(${after.txid} as xid8), cast(${after.seq} as bigint)) and ${settled} ${filtered}
    order by ticket_events.txid, ticket_events.seq limit ${limit}`.execute(db);
  const last = await sql<{ txid: string; seq: string }>`select txid::text as txid, seq::text as seq from ticket_events
    where ${settled} order by ticket_events.txid desc, ticket_events.seq desc limit 1`.execute(db);
  const end = last.rows[0] ?? FEED_START;
  return { rows: rows.map(({ txid, ...row }) => ({ ...row, seq: String(row.seq), cursor: { txid, seq: String(row.seq) } })), end };
}

/**
 * Where the events log stands in the caller's snapshot, for changesSince to count from: on
 * SQLite the last sequence number given (AUTOINCREMENT: never given twice, one writer at a
 * time); on PostgreSQL the snapshot itself (which transactions it sees as committed).
 */
export async function changeMark(db: Db): Promise<string> {
  if (dialectOf(db) === 'sqlite') {
    const { rows } = await sql<{ seq: number | null }>`select (select seq from sqlite_sequence where name = 'ticket_events') as seq`.execute(db);
    return String(rows[0]?.seq ?? 0);
  }
  const { rows } = await sql<{ mark: string }>`select pg_current_snapshot()::text as mark`.execute(db);
  return rows[0]?.mark as string;
}

/**
 * How many events were written after `mark` (changeMark) and are in the caller's snapshot, or
 * `limit` when there are at least that many: never fewer than there are, sometimes more (on
 * SQLite, numbers given to events since pruned). Each ticket change writes at least one event
 * in its own transaction, so no more tickets than this have changed since the mark.
 */
export async function changesSince(db: Db, mark: string, limit: number): Promise<number> {
  if (dialectOf(db) === 'sqlite') {
    const now = Number(await changeMark(db));
    return Math.min(limit, Math.max(0, now - Number(mark)));
  }
  // The events of transactions the mark's snapshot did not see: running then, or begun since.
  const { rows } = await sql<{ n: string }>`select count(*) as n from (select 1 from ticket_events
    where txid >= pg_snapshot_xmin(cast(${mark} as pg_snapshot)) and not pg_visible_in_snapshot(txid, cast(${mark} as pg_snapshot))
    limit ${limit}) as since`.execute(db);
  return Number(rows[0]?.n ?? 0);
}

/** Deletes up to `limit` of the oldest events that occurred before `before`; returns how many went. */
export async function pruneEvents(db: Db, before: string, limit: number): Promise<number> {
  // Several instances may prune at once: on PostgreSQL each skips the rows another is deleting.
  const lock = dialectOf(db) === 'postgres' ? sql`for update skip locked` : sql``;
  const result = await sql`delete from ticket_events where seq in (
    select seq from ticket_events where occurred_at < ${before} order by occurred_at limit ${limit} ${lock})`.execute(db);
  return Number(result.numAffectedRows ?? 0);
}
