import type { Kysely } from 'kysely';

// Migrations take Kysely<any>: they describe the schema as it was then, not today's types.
/* eslint-disable @typescript-eslint/no-explicit-any */

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('users')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('email', 'text', (c) => c.notNull())
    .addColumn('is_staff', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('first_seen_at', 'text', (c) => c.notNull())
    .addColumn('last_seen_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('tickets')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_by_email', 'text', (c) => c.notNull())
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('priority', 'text', (c) => c.notNull())
    .addColumn('assigned_to', 'text')
    .addColumn('assigned_to_email', 'text')
    .addColumn('comment_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('internal_comment_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addColumn('resolved_at', 'text')
    .addColumn('first_response_at', 'text')
    .addColumn('version', 'integer', (c) => c.notNull().defaultTo(1))
    .execute();
  // The customer's list: own tickets in a tenant, newest first, optionally by status or type.
  await db.schema.createIndex('tickets_by_creator').on('tickets').columns(['tenant_id', 'created_by', 'created_at', 'id']).execute();
  await db.schema
    .createIndex('tickets_by_creator_status')
    .on('tickets')
    .columns(['tenant_id', 'created_by', 'status', 'created_at', 'id'])
    .execute();
  await db.schema
    .createIndex('tickets_by_creator_type')
    .on('tickets')
    .columns(['tenant_id', 'created_by', 'type', 'created_at', 'id'])
    .execute();

  // The staff queue: newest activity first, narrowed by status, assignee or tenant.
  await db.schema.createIndex('tickets_by_updated').on('tickets').columns(['updated_at', 'id']).execute();
  await db.schema.createIndex('tickets_by_status_updated').on('tickets').columns(['status', 'updated_at', 'id']).execute();
  await db.schema.createIndex('tickets_by_assignee_updated').on('tickets').columns(['assigned_to', 'updated_at', 'id']).execute();
  await db.schema.createIndex('tickets_by_tenant_updated').on('tickets').columns(['tenant_id', 'updated_at', 'id']).execute();
  await db.schema.createIndex('tickets_by_created').on('tickets').columns(['created_at', 'id']).execute();

  await db.schema
    .createTable('ticket_comments')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('ticket_id', 'text', (c) => c.notNull().references('tickets.id').onDelete('cascade'))
    .addColumn('author_id', 'text', (c) => c.notNull())
    .addColumn('author_email', 'text', (c) => c.notNull())
    .addColumn('author_type', 'text', (c) => c.notNull())
    .addColumn('content', 'text', (c) => c.notNull())
    .addColumn('is_internal', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('ticket_comments_by_ticket').on('ticket_comments').columns(['ticket_id', 'created_at', 'id']).execute();

  await db.schema
    .createTable('ticket_history')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('ticket_id', 'text', (c) => c.notNull().references('tickets.id').onDelete('cascade'))
    .addColumn('field_changed', 'text', (c) => c.notNull())
    .addColumn('old_value', 'text')
    .addColumn('new_value', 'text')
    .addColumn('changed_by', 'text', (c) => c.notNull())
    .addColumn('changed_by_email', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('ticket_history_by_ticket').on('ticket_history').columns(['ticket_id', 'created_at', 'id']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('ticket_history').execute();
  await db.schema.dropTable('ticket_comments').execute();
  await db.schema.dropTable('tickets').execute();
  await db.schema.dropTable('users').execute();
}
