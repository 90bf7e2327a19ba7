import { sql, type Kysely } from 'kysely';

/* eslint-disable @typescript-eslint/no-explicit-any */

// The rank of a priority, urgent highest. Must stay identical to PRIORITY_RANK in
// admin.repository.ts, or the queue's priority sort stops using these indexes.
const RANK = sql`(case priority when 'urgent' then 4 when 'high' then 3 when 'normal' then 2 else 1 end)`;

/**
 * The staff queue's other two sorts read from an index instead of sorting every match: by
 * priority across the desk, and by creation or priority within a tenant. (The updated_at sort
 * and the desk-wide created_at sort have had their indexes since 001.)
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`create index tickets_by_priority_updated on tickets (${RANK}, updated_at, id)`.execute(db);
  await sql`create index tickets_by_tenant_priority_updated on tickets (tenant_id, ${RANK}, updated_at, id)`.execute(db);
  await db.schema.createIndex('tickets_by_tenant_created').on('tickets').columns(['tenant_id', 'created_at', 'id']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const index of ['tickets_by_tenant_created', 'tickets_by_tenant_priority_updated', 'tickets_by_priority_updated']) {
    await db.schema.dropIndex(index).execute();
  }
}
