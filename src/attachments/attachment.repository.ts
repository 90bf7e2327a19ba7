import { sql, type Expression, type ExpressionBuilder } from 'kysely';
import type { Database, Db } from '../db/database.js';
import type { AttachmentRow, UploadRow } from './attachment.table.js';
import { runShaped } from '../db/shaped.js';

/** Records an upload whose bytes are already durable in the blob store. */
export async function insertUpload(db: Db, row: UploadRow): Promise<void> {
  await db.insertInto('uploads').values(row).execute();
}

/** Bytes a user uploaded since `since` (attached or not; expired ones are gone). */
export async function uploadedBytesSince(db: Db, uploaderId: string, since: string): Promise<number> {
  const row = await db
    .selectFrom('uploads')
    .select((eb) => eb.fn.coalesce(eb.fn.sum<number | string>('size'), sql<number>`0`).as('bytes'))
    .where('uploader_id', '=', uploaderId)
    .where('created_at', '>=', since)
    .executeTakeFirst();
  return Number(row?.bytes ?? 0);
}

/**
 * Of `ids`, the uploads `uploaderId` made in `tenantId` that are still unattached and not
 * expired at `now`: the ones they may attach.
 */
export async function attachableUploads(db: Db, scope: { tenantId: string; userId: string }, ids: string[], now: string): Promise<UploadRow[]> {
  if (ids.length === 0) return [];
  return db
    .selectFrom('uploads')
    .selectAll()
    .where('id', 'in', ids)
    .where('tenant_id', '=', scope.tenantId)
    .where('uploader_id', '=', scope.userId)
    .where('expires_at', '>', now)
    .where(({ not, exists, selectFrom }) => not(exists(selectFrom('ticket_attachments').select('upload_id').whereRef('ticket_attachments.upload_id', '=', 'uploads.id'))))
    .execute();
}

const ATTACHMENT_COLUMNS = [
  'ticket_attachments.upload_id',
  'ticket_attachments.ticket_id',
  'ticket_attachments.comment_id',
  'ticket_attachments.is_internal',
  'ticket_attachments.created_at',
  'uploads.filename',
  'uploads.content_type',
  'uploads.size',
  'uploads.sha256',
] as const;

/** A ticket's attachments (its own and its comments'), oldest first; those on internal notes only when asked for. */
export async function listTicketAttachments(db: Db, ticketId: string, opts: { includeInternal: boolean }): Promise<AttachmentRow[]> {
  const build = () => ticketAttachmentsQuery(db, ticketId, opts);
  const [shape, parameters] = opts.includeInternal ? ['attachments', [ticketId]] : ['public attachments', [ticketId, 0]];
  return (await runShaped(db, shape, parameters, build)).rows;
}

/**
 * The query of a ticket's attachments in order (notes' only with `includeInternal`), for
 * another statement to embed: `ticketId` is a value or a reference to the ticket's id.
 */
export function ticketAttachmentsQuery(db: Db, ticketId: string | Expression<string>, opts: { includeInternal: boolean }) {
  return db
    .selectFrom('ticket_attachments')
    .innerJoin('uploads', 'uploads.id', 'ticket_attachments.upload_id')
    .select(ATTACHMENT_COLUMNS)
    .where('ticket_attachments.ticket_id', '=', ticketId)
    .$if(!opts.includeInternal, (qb) => qb.where('ticket_attachments.is_internal', '=', 0))
    .orderBy('ticket_attachments.created_at', 'asc')
    .orderBy('ticket_attachments.upload_id', 'asc');
}

/** An attached upload with its ticket's tenant and owner, to decide who may read it. */
export type AttachmentWithTicket = AttachmentRow & { tenant_id: string; created_by: string };

export async function findAttachment(db: Db, uploadId: string): Promise<AttachmentWithTicket | undefined> {
  return db
    .selectFrom('ticket_attachments')
    .innerJoin('uploads', 'uploads.id', 'ticket_attachments.upload_id')
    .innerJoin('tickets', 'tickets.id', 'ticket_attachments.ticket_id')
    .select([...ATTACHMENT_COLUMNS, 'tickets.tenant_id', 'tickets.created_by'])
    .where('ticket_attachments.upload_id', '=', uploadId)
    .executeTakeFirst();
}

/**
 * Deletes up to `limit` uploads that expired before `before` and were never attached (or
 * whose ticket is gone); returns the blobs they named, for the collector.
 */
export async function deleteExpiredUploads(db: Db, before: string, limit: number): Promise<string[]> {
  const rows = await db
    .deleteFrom('uploads')
    .where('id', 'in', (eb) =>
      eb
        .selectFrom('uploads as u')
        .select('u.id')
        .where('u.expires_at', '<', before)
        .where(({ not, exists, selectFrom }) => not(exists(selectFrom('ticket_attachments').select('upload_id').whereRef('ticket_attachments.upload_id', '=', 'u.id'))))
        .limit(limit),
    )
    .returning('sha256')
    .execute();
  return rows.map((row) => row.sha256);
}

/** Whether any upload still names the blob. */
export async function isBlobReferenced(db: Db, sha256: string): Promise<boolean> {
  return (await db.selectFrom('uploads').select('id').where('sha256', '=', sha256).limit(1).executeTakeFirst()) !== undefined;
}

/** Every blob an upload names (for the store's full collection after a crash between delete and collect). */
export async function referencedBlobs(db: Db, sha256s: string[]): Promise<Set<string>> {
  if (sha256s.length === 0) return new Set();
  const rows = await db.selectFrom('uploads').select('sha256').distinct().where('sha256', 'in', sha256s).execute();
  return new Set(rows.map((row) => row.sha256));
}

/**
 * The uploads an export carries: attached, or not expired yet. The rest are about to be
 * deleted by housekeeping (an hour past expiry at the earliest), and with them their files.
 */
export function isExportedUpload(now: string) {
  return (eb: ExpressionBuilder<Database, 'uploads'>) =>
    eb.or([
      eb('uploads.expires_at', '>', now),
      eb.exists(eb.selectFrom('ticket_attachments').select('ticket_attachments.upload_id').whereRef('ticket_attachments.upload_id', '=', 'uploads.id')),
    ]);
}

/** A page of the blobs exported uploads name, by hash, with their size. */
export async function exportedBlobs(db: Db, now: string, after: string, limit: number): Promise<Array<{ sha256: string; size: number }>> {
  const rows = await db
    .selectFrom('uploads')
    .select((eb) => ['uploads.sha256', eb.fn.max('uploads.size').as('size')])
    .where(isExportedUpload(now))
    .where('uploads.sha256', '>', after)
    .groupBy('uploads.sha256')
    .orderBy('uploads.sha256')
    .limit(limit)
    .execute();
  return rows.map((row) => ({ sha256: row.sha256, size: Number(row.size) }));
}
