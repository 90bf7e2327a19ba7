import type { Selectable } from 'kysely';

/** A file a user sent (migration 021); its bytes are in the blob store under `sha256`. */
export interface UploadTable {
  id: string;
  tenant_id: string;
  uploader_id: string;
  /** For display only, sanitized; never a path. */
  filename: string;
  /** Decided from the content, never from the client. */
  content_type: string;
  size: number;
  sha256: string;
  created_at: string;
  /** Deleted after this unless attached. */
  expires_at: string;
}

/** An upload attached to a ticket or to one of its comments. */
export interface TicketAttachmentTable {
  upload_id: string;
  ticket_id: string;
  /** Null: attached to the ticket itself (when it was opened). */
  comment_id: string | null;
  /** 1 when attached to an internal note: staff only. */
  is_internal: number;
  created_at: string;
}

export type UploadRow = Selectable<UploadTable>;
export type TicketAttachmentRow = Selectable<TicketAttachmentTable>;
/** An attachment as read: the link and its upload. */
export type AttachmentRow = TicketAttachmentRow & Pick<UploadRow, 'filename' | 'content_type' | 'size' | 'sha256'>;

/** A blob kept in the database (the database store). */
export interface AttachmentBlobTable {
  sha256: string;
  size: number;
  /** When it was last stored: the collector spares a blob stored within the grace period. */
  stored_at: string;
}

/** One chunk of a blob, numbered from 0. */
export interface AttachmentChunkTable {
  sha256: string;
  n: number;
  data: Buffer;
}
