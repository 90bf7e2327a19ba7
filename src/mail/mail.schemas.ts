import { Type, type Static } from '@sinclair/typebox';
import { InputSchemaLink, Ref, SchemaLink } from '../http/schemas.js';
import { MAIL_LEVELS, type MailLevel } from './mail.table.js';

export const DevOutboxMessage = Type.Object(
  {
    id: Type.String({ description: 'The file’s name in the outbox folder, without .eml' }),
    to: Type.String({ description: 'Recipients' }),
    subject: Type.String({ description: 'Subject' }),
    date: Type.String({ format: 'date-time', description: 'When it was written' }),
    text: Type.String({ description: 'The plain-text part' }),
  },
  { $id: 'DevOutboxMessage', additionalProperties: false },
);
export type DevOutboxMessage = Static<typeof DevOutboxMessage>;

export const DevOutboxResponse = Type.Object(
  {
    $schema: SchemaLink('DevOutboxResponse'),
    messages: Type.Array(Ref(DevOutboxMessage), { description: 'The latest 50 messages, newest first' }),
  },
  { $id: 'DevOutboxResponse', additionalProperties: false },
);
export type DevOutboxResponse = Static<typeof DevOutboxResponse>;

const Level = Type.Unsafe<MailLevel>({
  type: 'string',
  enum: [...MAIL_LEVELS],
  description: '`all`: replies, and the ticket resolved or closed by support; `replies`: support’s replies only; `none`: no e-mail',
});

export const MailPreference = Type.Object(
  { $schema: SchemaLink('MailPreference'), email: Level },
  { $id: 'MailPreference', additionalProperties: false },
);
export type MailPreference = Static<typeof MailPreference>;

export const UpdateMailPreferenceBody = Type.Object(
  { $schema: InputSchemaLink('UpdateMailPreferenceBody'), email: Level },
  { $id: 'UpdateMailPreferenceBody', additionalProperties: false },
);
export type UpdateMailPreferenceBody = Static<typeof UpdateMailPreferenceBody>;

export const mailSchemas = [DevOutboxMessage, DevOutboxResponse, MailPreference, UpdateMailPreferenceBody];
