import { sql, type RawBuilder } from 'kysely';
import type { Db } from '../db/database.js';
import type { TicketPriority, TicketRow, TicketStatus, TicketType } from './ticket.table.js';

/** The columns the tallies count by. */
export type Tallied = Pick<TicketRow, 'tenant_id' | 'created_by' | 'status' | 'type' | 'priority' | 'assigned_to'>;

export type TallyTable = 'ticket_tallies' | 'tenant_ticket_tallies' | 'user_ticket_tallies';

/** Each tally's key columns. Triggers keep the counts (migration 012, whose copy must agree). */
const DESK_KEYS = ['status', 'type', 'priority', 'assigned_to'] as const;
const TALLY_KEYS: Record<TallyTable, ReadonlyArray<keyof Tallied>> = {
  ticket_tallies: DESK_KEYS,
  tenant_ticket_tallies: ['tenant_id', ...DESK_KEYS],
  user_ticket_tallies: ['tenant_id', 'created_by', 'status', 'type'],
};

export const TALLY_TABLES = Object.keys(TALLY_KEYS) as TallyTable[];

/**
 * Recounts every tally from the tickets themselves (after a seed or an import). The triggers
 * that keep them were created by migrations 012 and 014 with frozen copies of the keys; every
 * test app checks on close that the two agree (test/helpers.ts, expectTalliesExact).
 */
export async function rebuildTallies(db: Db): Promise<void> {
  for (const table of ['tenant_ticket_tallies', 'user_ticket_tallies'] as const) {
    const keys = TALLY_KEYS[table];
    const grouped = keys.map((column) => (column === 'assigned_to' ? sql`coalesce(assigned_to, '')` : sql.ref(column)));
    await sql`delete from ${sql.table(table)}`.execute(db);
    await sql`insert into ${sql.table(table)} (${sql.join(keys.map((k) => sql.ref(k)))}, n)
      select ${sql.join(grouped)}, count(*) from tickets group by ${sql.join(grouped)}`.execute(db);
  }
  // The desk-wide tally from the tenants' (its key is theirs without the tenant): summing their
  // rows costs a fraction of grouping every ticket again.
  const keys = sql.join(DESK_KEYS.map((k) => sql.ref(k)));
  await sql`delete from ticket_tallies`.execute(db);
  await sql`insert into ticket_tallies (${keys}, n) select ${keys}, sum(n) from tenant_ticket_tallies group by ${keys}`.execute(db);
}

export interface TallyFilter {
  tenantId?: string | undefined;
  createdBy?: string | undefined;
  /** One status, or any of several. */
  status?: TicketStatus | TicketStatus[] | undefined;
  type?: TicketType | undefined;
  priority?: TicketPriority | undefined;
  /** A user id, or null for unassigned. */
  assignedTo?: string | null | undefined;
}

const FILTER_COLUMNS = {
  tenantId: 'tenant_id',
  createdBy: 'created_by',
  status: 'status',
  type: 'type',
  priority: 'priority',
  assignedTo: 'assigned_to',
} as const satisfies Record<keyof TallyFilter, keyof Tallied>;

/**
 * The exact number of tickets matching `filter`, summed from the tally that covers every
 * filtered column; undefined when none does, and the caller counts the rows instead. A filter
 * by creator needs the tenant too, since a customer's tallies are keyed by both.
 */
export async function countFromTallies(db: Db, filter: TallyFilter): Promise<number | undefined> {
  const count = tallyCount(filter);
  if (!count) return undefined;
  const { rows } = await count.execute(db);
  return Number(rows[0]?.n ?? 0);
}

/** The statement `countFromTallies` runs (one row, `n`), to use inside another; undefined when no tally covers `filter`. */
export function tallyCount(filter: TallyFilter): RawBuilder<{ n: number | string }> | undefined {
  const filtered = (Object.keys(FILTER_COLUMNS) as Array<keyof TallyFilter>).filter((k) => filter[k] !== undefined);
  const columns = filtered.map((k) => FILTER_COLUMNS[k]);
  const table: TallyTable =
    filter.createdBy !== undefined ? 'user_ticket_tallies' : filter.tenantId !== undefined ? 'tenant_ticket_tallies' : 'ticket_tallies';
  if (!columns.every((c) => TALLY_KEYS[table].includes(c)) || (table === 'user_ticket_tallies' && filter.tenantId === undefined)) return undefined;
  const conditions = filtered.map((k) => {
    const value = filter[k];
    return Array.isArray(value) ? sql`${sql.ref(FILTER_COLUMNS[k])} in (${sql.join(value)})` : sql`${sql.ref(FILTER_COLUMNS[k])} = ${value ?? ''}`;
  });
  const where = conditions.length > 0 ? sql`where ${sql.join(conditions, sql` and `)}` : sql``;
  return sql<{ n: number | string }>`select coalesce(sum(n), 0) as n from ${sql.table(table)} ${where}`;
}
