import type { Kysely } from 'kysely';
import { restartOwnerVersions } from '../../tickets/ticket.repository.js';

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
  await restartOwnerVersions(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('ticket_owner_versions').execute();
}
