import { sql, type Kysely } from 'kysely';

/* eslint-disable @typescript-eslint/no-explicit-any */

// Maintained ticket counts for exact totals (see TicketTallyTable), filled from today's rows.
export async function up(db: Kysely<any>): Promise<void> {
  const counts = (table: string, keys: string[]) =>
    keys
      .reduce((t, key) => t.addColumn(key, 'text', (c) => c.notNull()), db.schema.createTable(table))
      .addColumn('n', 'integer', (c) => c.notNull())
      .addPrimaryKeyConstraint(`${table}_pk`, keys as never)
      .execute();
  await counts('ticket_tallies', ['status', 'type', 'priority', 'assigned_to']);
  await counts('tenant_ticket_tallies', ['tenant_id', 'status', 'type', 'priority', 'assigned_to']);
  await counts('user_ticket_tallies', ['tenant_id', 'created_by', 'status', 'type']);
  // Counted from the tickets as they stand (a frozen copy: ticket.tallies.ts rebuilds them at run time).
  for (const [table, keys] of [
    ['ticket_tallies', ['status', 'type', 'priority', 'assigned_to']],
    ['tenant_ticket_tallies', ['tenant_id', 'status', 'type', 'priority', 'assigned_to']],
    ['user_ticket_tallies', ['tenant_id', 'created_by', 'status', 'type']],
  ] as const) {
    const grouped = keys.map((column) => (column === 'assigned_to' ? sql`coalesce(assigned_to, '')` : sql.ref(column)));
    await sql`insert into ${sql.table(table)} (${sql.join(keys.map((k) => sql.ref(k)))}, n)
      select ${sql.join(grouped)}, count(*) from tickets group by ${sql.join(grouped)}`.execute(db);
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['user_ticket_tallies', 'tenant_ticket_tallies', 'ticket_tallies']) await db.schema.dropTable(table).execute();
}
