import { sql, type Kysely } from 'kysely';

/* eslint-disable @typescript-eslint/no-explicit-any */

// The staff queue's priority sort, urgent first, read from an index instead of sorting every
// matching ticket. The expression must stay identical to PRIORITY_RANK in admin.repository.ts.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`create index tickets_by_priority_updated on tickets (
    (case priority when 'urgent' then 4 when 'high' then 3 when 'normal' then 2 else 1 end), updated_at, id)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('tickets_by_priority_updated').execute();
}
