import { Type, type Static } from '@sinclair/typebox';
import { SchemaLink } from '../http/schemas.js';

export const MAX_ATTACHMENTS = 10;

export const Attachment = Type.Object(
  {
    attachment_id: Type.String({ format: 'uuid', description: 'Attachment ID (the upload it was made from)' }),
    filename: Type.String({ description: 'File name as uploaded, sanitized for display' }),
    content_type: Type.String({ description: 'Media type, decided from the file’s content' }),
    size: Type.Integer({ format: 'int64', minimum: 0, description: 'Size in bytes' }),
    url: Type.String({ format: 'uri-reference', description: 'Where to download it, with the same credentials as the ticket' }),
  },
  { $id: 'Attachment', additionalProperties: false },
);
export type Attachment = Static<typeof Attachment>;

export const Upload = Type.Object(
  {
    $schema: SchemaLink('Upload'),
    upload_id: Type.String({ format: 'uuid', description: 'Name it in `attachments` when creating a ticket or comment' }),
    filename: Type.String({ description: 'File name as uploaded, sanitized for display' }),
    content_type: Type.String({ description: 'Media type, decided from the file’s content (not the client’s header or the name)' }),
    size: Type.Integer({ format: 'int64', minimum: 0, description: 'Size in bytes' }),
    sha256: Type.String({ pattern: '^[0-9a-f]{64}$', description: 'SHA-256 of the content, hex' }),
    expires_at: Type.String({ format: 'date-time', description: 'Deleted after this unless attached to a ticket or comment' }),
  },
  { $id: 'Upload', additionalProperties: false },
);
export type Upload = Static<typeof Upload>;

/** The optional `attachments` of a new ticket or comment. */
export const AttachmentIds = Type.Optional(
  Type.Array(Type.String({ format: 'uuid' }), {
    maxItems: MAX_ATTACHMENTS,
    uniqueItems: true,
    description: `Upload IDs (from the uploads operation) to attach, at most ${MAX_ATTACHMENTS}; each must be yours, unattached and unexpired`,
  }),
);

export const AttachmentParams = Type.Object({
  attachmentId: Type.String({ format: 'uuid', description: 'Attachment ID' }),
});

export const attachmentSchemas = [Attachment, Upload];
