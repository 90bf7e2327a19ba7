import { API_PREFIX, schemaUrl } from '../http/schemas.js';
import type { Attachment, Upload } from './attachment.schemas.js';
import type { AttachmentRow, UploadRow } from './attachment.table.js';

/** Whose API the attachment's URL points into: the customer's or the staff's. */
export type AttachmentSide = 'customer' | 'staff';

export function attachmentUrl(id: string, side: AttachmentSide): string {
  return `${API_PREFIX}/${side === 'staff' ? 'admin/support' : 'support'}/attachments/${id}`;
}

export function presentAttachment(row: AttachmentRow, side: AttachmentSide): Attachment {
  return { attachment_id: row.upload_id, filename: row.filename, content_type: row.content_type, size: Number(row.size), url: attachmentUrl(row.upload_id, side) };
}

export function presentUpload(row: UploadRow): Upload {
  return {
    $schema: schemaUrl('Upload'),
    upload_id: row.id,
    filename: row.filename,
    content_type: row.content_type,
    size: Number(row.size),
    sha256: row.sha256,
    expires_at: row.expires_at,
  };
}
