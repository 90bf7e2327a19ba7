import { recountDerived } from '../tickets/ticket.repository.js';
import type { TallyTable } from '../tickets/ticket.tallies.js';
import type { Database, Db } from '../db/database.js';

const FORMAT = 'helpdesk-export';
const VERSION = 1;
const PAGE = 1000;
const INSERT_BATCH = 500;

// Parents before children, so foreign keys hold while importing.
const TABLES = {
  users: ['id', 'email', 'is_staff', 'first_seen_at', 'last_seen_at'],
  tickets: [
    'id',
    'tenant_id',
    'created_by',
    'created_by_email',
    'title',
    'description',
    'type',
    'status',
    'priority',
    'assigned_to',
    'assigned_to_email',
    'comment_count',
    'internal_comment_count',
    'created_at',
    'updated_at',
    'resolved_at',
    'first_response_at',
    'version',
  ],
  ticket_comments: ['id', 'ticket_id', 'author_id', 'author_email', 'author_type', 'content', 'is_internal', 'created_at'],
  ticket_history: ['id', 'ticket_id', 'field_changed', 'old_value', 'new_value', 'changed_by', 'changed_by_email', 'created_at'],
  // Left out on purpose: idempotency_keys (24-hour retry records, not data worth moving), and
  // the tallies and owner versions, which the import rebuilds from the tickets.
} as const satisfies { [T in Exclude<keyof Database, 'idempotency_keys' | 'ticket_owner_versions' | TallyTable>]: ReadonlyArray<keyof Database[T] & string> };

type TableName = keyof typeof TABLES;
const TABLE_NAMES = Object.keys(TABLES) as TableName[];

/** Row counts written or read per table. */
export type TransferCounts = Record<TableName, number>;

/**
 * Writes the whole database as newline-delimited JSON: a header line, then one
 * `{"table", "row"}` line per row, tables in dependency order, rows by id. Reads in pages,
 * so memory stays flat however large the database is.
 */
export async function exportDatabase(db: Db, write: (line: string) => Promise<void> | void): Promise<TransferCounts> {
  await write(JSON.stringify({ format: FORMAT, version: VERSION, exported_at: new Date().toISOString() }));
  const counts = Object.fromEntries(TABLE_NAMES.map((t) => [t, 0])) as TransferCounts;
  for (const table of TABLE_NAMES) {
    let after: string | null = null;
    for (;;) {
      const rows: Array<Record<string, unknown>> = await db
        .selectFrom(table)
        .select([...TABLES[table]] as never[])
        .$if(after !== null, (qb) => qb.where('id' as never, '>', after as never))
        .orderBy('id' as never)
        .limit(PAGE)
        .execute();
      for (const row of rows) await write(JSON.stringify({ table, row }));
      counts[table] += rows.length;
      if (rows.length < PAGE) break;
      after = String(rows[rows.length - 1]?.id);
    }
  }
  return counts;
}

/** Thrown for an export file that cannot be imported; says which line and why. */
export class ImportError extends Error {}

/**
 * Loads an export into an empty database of either kind, ids and timestamps preserved,
 * in one transaction: all of it lands or none of it.
 */
export async function importDatabase(db: Db, lines: AsyncIterable<string>): Promise<TransferCounts> {
  return db.transaction().execute(async (trx) => {
    for (const table of TABLE_NAMES) {
      const row = await trx.selectFrom(table).select('id' as never).limit(1).executeTakeFirst();
      if (row) throw new ImportError(`the target database is not empty (table ${table} has rows); import needs an empty database`);
    }
    const counts = Object.fromEntries(TABLE_NAMES.map((t) => [t, 0])) as TransferCounts;
    let pending: { table: TableName; rows: Array<Record<string, unknown>> } = { table: 'users', rows: [] };
    const flush = async () => {
      if (pending.rows.length === 0) return;
      await trx.insertInto(pending.table).values(pending.rows as never).execute();
      counts[pending.table] += pending.rows.length;
      pending = { table: pending.table, rows: [] };
    };

    let lineNumber = 0;
    let sawHeader = false;
    for await (const line of lines) {
      lineNumber++;
      if (line.trim() === '') continue;
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch {
        throw new ImportError(`line ${lineNumber}: not valid JSON`);
      }
      if (!sawHeader) {
        const header = parsed as { format?: unknown; version?: unknown };
        if (header.format !== FORMAT || header.version !== VERSION) {
          throw new ImportError(`line ${lineNumber}: not a ${FORMAT} version ${VERSION} file`);
        }
        sawHeader = true;
        continue;
      }
      const { table, row } = parsed as { table?: unknown; row?: unknown };
      if (typeof table !== 'string' || !(table in TABLES)) throw new ImportError(`line ${lineNumber}: unknown table ${JSON.stringify(table)}`);
      const columns: readonly string[] = TABLES[table as TableName];
      if (row === null || typeof row !== 'object' || Object.keys(row).sort().join() !== [...columns].sort().join()) {
        throw new ImportError(`line ${lineNumber}: a ${table} row needs exactly the columns ${columns.join(', ')}`);
      }
      if (table !== pending.table || pending.rows.length >= INSERT_BATCH) {
        await flush();
        pending = { table: table as TableName, rows: [] };
      }
      pending.rows.push(row as Record<string, unknown>);
    }
    await flush();
    if (!sawHeader) throw new ImportError('the file is empty');
    await recountDerived(trx);
    return counts;
  });
}
