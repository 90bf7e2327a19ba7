import { Type, type Static } from '@sinclair/typebox';
import { Ref, SchemaLink } from '../http/schemas.js';
import { ACTOR_TYPES, AUDIENCES, EVENT_TYPES } from './event.table.js';

const Enum = <T extends readonly string[]>(values: T, description: string) => Type.Unsafe<T[number]>({ type: 'string', enum: [...values], description });

export const EVENT_PAGE_MAX = 500;
const CURSOR_PATTERN = '^\\d{1,19}\\.\\d{1,19}$';

export const TicketEvent = Type.Object(
  {
    event_id: Type.String({ format: 'uuid', description: 'The event’s id (UUIDv7), the same wherever the event is delivered' }),
    cursor: Type.String({ pattern: CURSOR_PATTERN, description: 'Its place in the feed: pass it as `after` to read what came next' }),
    type: Enum(EVENT_TYPES, 'What happened: `ticket.created`; `ticket.updated` (priority, type, assignee); `ticket.status_changed`; `comment.created` (a public comment); `note.created` (an internal note)'),
    ticket_id: Type.String({ format: 'uuid', description: 'The ticket it happened to' }),
    tenant_id: Type.String({ description: 'The ticket’s organization (tenant)' }),
    actor: Type.Object(
      {
        id: Type.String({ description: 'User ID of who did it' }),
        email: Type.String({ description: 'Their email' }),
        type: Enum(ACTOR_TYPES, '`user` (a customer), `staff` or `system`'),
      },
      { additionalProperties: false, description: 'Who did it' },
    ),
    audience: Enum(AUDIENCES, '`customer` when the ticket’s customer may see it, `staff` when only staff may (internal notes)'),
    occurred_at: Type.String({ format: 'date-time', description: 'When it happened' }),
    data: Type.Object(
      {},
      {
        additionalProperties: true,
        description:
          'What changed, thin: `ticket.created` {status, priority, type}; `ticket.updated` {changes: {field: {from, to}}}; ' +
          '`ticket.status_changed` {from, to}; `comment.created` and `note.created` {comment_id, author_type, length}',
      },
    ),
  },
  { $id: 'TicketEvent', additionalProperties: false },
);

export const EventFeedResponse = Type.Object(
  {
    $schema: SchemaLink('EventFeedResponse'),
    events: Type.Array(Ref(TicketEvent), {
      description:
        'Events after the cursor: one ticket’s in the order its changes were made; across tickets, in the order their transactions began. A cursor never skips an event committed late',
    }),
    next_cursor: Type.String({
      pattern: CURSOR_PATTERN,
      description: 'Where to read from next; always present, so a reader at the end polls from it',
    }),
    has_more: Type.Boolean({ description: 'Whether more events can be read right away' }),
  },
  { $id: 'EventFeedResponse', additionalProperties: false },
);

export const EventFeedQuery = Type.Object({
  after: Type.Optional(Type.String({ pattern: CURSOR_PATTERN, description: 'A cursor from an earlier page (`next_cursor`) or event; the beginning if absent' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: EVENT_PAGE_MAX, default: 100, description: 'Events per page' })),
  type: Type.Optional(Type.Array(Enum(EVENT_TYPES, 'An event type'), { maxItems: EVENT_TYPES.length, description: 'Only events of these types (repeat the parameter for several)' })),
  ticket_id: Type.Optional(Type.String({ format: 'uuid', description: 'Only events of this ticket' })),
});

export type TicketEvent = Static<typeof TicketEvent>;
export type EventFeedResponse = Static<typeof EventFeedResponse>;
export type EventFeedQuery = Static<typeof EventFeedQuery>;

export const eventSchemas = [TicketEvent, EventFeedResponse];
