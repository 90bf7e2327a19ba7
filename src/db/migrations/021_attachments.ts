import { sql, type Kysely, type Migration } from 'kysely';
import type { Dialect } from '../database.js';

/* eslint-disable @typescript-eslint/no-explicit-any */

/**
 * Attachments, in two steps (upload, then attach):
 * - `uploads`: one file a user sent, stored by its SHA-256 (the bytes live in a blob store,
 *   not here); it belongs to its uploader until attached and is deleted an hour after upload
 *   if never attached;
 * - `ticket_attachments`: an upload attached to a ticket (comment_id null) or to one of its
 *   comments, written in the same transaction as the ticket or comment. The upload is its key,
 *   so an upload is attached once. `is_internal` copies the comment's, so that a customer's
 *   read filters on one table.
 */
export function attachmentsMigration(dialect: Dialect): Migration {
  // The migrator runs each batch in one transaction, on both databases.
  return { up };

  async function up(db: Kysely<any>): Promise<void> {
    await sql`create table uploads (
      id text primary key,
      tenant_id text not null,
      uploader_id text not null,
      filename text not null,
      content_type text not null,
      size integer not null,
      sha256 text not null,
      created_at text not null,
      expires_at text not null)`.execute(db);
    // The daily quota sums a user's recent uploads; housekeeping finds the expired ones; the
    // blob collector asks whether any upload still names a blob.
    await sql`create index uploads_by_uploader on uploads (uploader_id, created_at)`.execute(db);
    await sql`create index uploads_by_expiry on uploads (expires_at)`.execute(db);
    await sql`create index uploads_by_sha256 on uploads (sha256)`.execute(db);
    await sql`create table ticket_attachments (
      upload_id text primary key references uploads (id),
      ticket_id text not null references tickets (id) on delete cascade,
      comment_id text,
      is_internal integer not null,
      created_at text not null)`.execute(db);
    await sql`create index ticket_attachments_by_ticket on ticket_attachments (ticket_id, created_at)`.execute(db);
    await sql`create table attachment_blobs (
      sha256 text primary key,
      size integer not null,
      stored_at text not null)`.execute(db);
    await sql`create table attachment_chunks (
      sha256 text not null,
      n integer not null,
      data ${sql.raw(dialect === 'postgres' ? 'bytea' : 'blob')} not null,
      primary key (sha256, n))`.execute(db);
  }
}
