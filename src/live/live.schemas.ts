import { Type, type Static } from '@sinclair/typebox';
import { InputSchemaLink, SchemaLink } from '../http/schemas.js';
import { PRESENCE_STATES } from './presence.table.js';

const CURSOR_PATTERN = '^\\d{1,19}\\.\\d{1,19}$';
const LastEventId = Type.String({
  pattern: CURSOR_PATTERN,
  description:
    'Resume after this event (its `id:`, a feed cursor), as the `Last-Event-ID` header does for clients that cannot send it; the header wins when both are sent',
});

export const CustomerStreamQuery = Type.Object({ last_event_id: Type.Optional(LastEventId) });

export const StaffStreamQuery = Type.Object({
  last_event_id: Type.Optional(LastEventId),
  ticket_id: Type.Optional(Type.String({ format: 'uuid', description: 'Only this ticket’s events and agents' })),
});

export const StreamHeaders = Type.Object({
  'last-event-id': Type.Optional(Type.String({ description: 'Resume after this event: sent by an SSE client when it reconnects' })),
});

const StateEnum = Type.Unsafe<(typeof PRESENCE_STATES)[number]>({ type: 'string', enum: [...PRESENCE_STATES], description: '`viewing` the ticket, or `replying` to it' });

export const PresenceBody = Type.Object(
  {
    $schema: InputSchemaLink('PresenceBody'),
    state: StateEnum,
  },
  { $id: 'PresenceBody', additionalProperties: false },
);

export const TicketPresence = Type.Object(
  {
    $schema: SchemaLink('TicketPresence'),
    ticket_id: Type.String({ format: 'uuid', description: 'The ticket' }),
    agents: Type.Array(
      Type.Object(
        {
          user_id: Type.String({ description: 'The agent’s user ID' }),
          email: Type.String({ description: 'Their email' }),
          state: StateEnum,
          expires_at: Type.String({ format: 'date-time', description: 'When they count as gone unless they announce themselves again' }),
        },
        { additionalProperties: false },
      ),
      { description: 'Every agent on the ticket now, the caller included' },
    ),
  },
  { $id: 'TicketPresence', additionalProperties: false },
);

export type PresenceBody = Static<typeof PresenceBody>;
export type TicketPresence = Static<typeof TicketPresence>;

export const liveSchemas = [PresenceBody, TicketPresence];
