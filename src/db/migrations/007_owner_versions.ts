import { sql, type Kysely } from 'kysely';

/* eslint-disable @typescript-eslint/no-explicit-any */

// A counter per ticket owner, bumped by every change they can see in their list; cached list
// responses are served only while it stands still (ticket.repository.ts, ticket.routes.ts).
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('ticket_owner_versions')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('version', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('ticket_owner_versions_pk', ['tenant_id', 'created_by'])
    .execute();
  // Every owner's counter starts from the clock, so that no value a running process may have
  // cached comes round again (a frozen copy of restartOwnerVersions in ticket.repository.ts).
  await sql`insert into ticket_owner_versions (tenant_id, created_by, version)
    select tenant_id, created_by, ${Date.now()} from tickets group by tenant_id, created_by`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('ticket_owner_versions').execute();
}
