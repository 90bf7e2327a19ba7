import { Type, type Static } from '@sinclair/typebox';
import { Ref, SchemaLink } from '../http/schemas.js';

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

export const mailSchemas = [DevOutboxMessage, DevOutboxResponse];
