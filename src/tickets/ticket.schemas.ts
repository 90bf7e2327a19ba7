import { Type, type Static, type TObject } from '@sinclair/typebox';
import { Attachment, AttachmentIds } from '../attachments/attachment.schemas.js';
import { InputSchemaLink, Nullable, Ref, SchemaLink } from '../http/schemas.js';
import { AUTHOR_TYPES, TICKET_PRIORITIES, TICKET_STATUSES, TICKET_TYPES, WAITING_ON } from './ticket.table.js';

const TicketStatus = Type.Unsafe<(typeof TICKET_STATUSES)[number]>({ type: 'string', enum: [...TICKET_STATUSES] });
const TicketType = Type.Unsafe<(typeof TICKET_TYPES)[number]>({ type: 'string', enum: [...TICKET_TYPES] });
const TicketPriority = Type.Unsafe<(typeof TICKET_PRIORITIES)[number]>({ type: 'string', enum: [...TICKET_PRIORITIES] });
const AuthorType = Type.Unsafe<(typeof AUTHOR_TYPES)[number]>({ type: 'string', enum: [...AUTHOR_TYPES] });
const WaitingOn = Type.Unsafe<(typeof WAITING_ON)[number] | null>({
  type: ['string', 'null'],
  enum: [...WAITING_ON, null],
  description: 'Whose move it is: `support` (the team owes an answer), `customer` (an answer was sent; the customer’s reply is awaited), null once resolved or closed',
});
const TicketNumber = Type.Integer({ format: 'int64', minimum: 1, description: 'A short number for people to quote (#1042), unique in this help desk' });
const Timestamp = (description: string) => Type.String({ format: 'date-time', description });
const Uuid = (description: string) => Type.String({ format: 'uuid', description });
// Blank text is never a useful title, description or comment.
export const NonBlank = (maxLength: number, description: string) =>
  Type.String({ minLength: 1, maxLength, pattern: '\\S', description });

export const SupportTicketComment = Type.Object(
  {
    $schema: SchemaLink('SupportTicketComment'),
    author_email: Type.String({ description: 'Email of the comment author' }),
    author_id: Type.String({ description: 'User ID of the comment author' }),
    attachments: Type.Array(Ref(Attachment), { description: 'Files attached to the comment' }),
    author_type: { ...AuthorType, description: 'Whether a customer (user) or the support team (staff) wrote it' },
    comment_id: Uuid('Comment UUID'),
    content: Type.String({ description: 'Comment text, exactly as written' }),
    created_at: Timestamp('When the comment was written'),
    is_internal: Type.Boolean({ description: 'Internal staff note; customers never see these' }),
    ticket_id: Uuid('Ticket UUID'),
  },
  { $id: 'SupportTicketComment', additionalProperties: false },
);

export const SupportTicket = Type.Object(
  {
    $schema: SchemaLink('SupportTicket'),
    assigned_to: Nullable(Type.String({ description: 'User ID of the assigned support agent' })),
    assigned_to_email: Nullable(Type.String({ description: 'Email of the assigned support agent' })),
    attachments: Type.Array(Ref(Attachment), { description: 'Files attached when the ticket was opened (those of comments are listed with them)' }),
    comment_count: Type.Integer({ format: 'int64', minimum: 0, description: 'Number of comments on the ticket' }),
    comments: Type.Array(Ref(SupportTicketComment), { description: 'Comments, oldest first' }),
    created_at: Timestamp('When the ticket was created'),
    created_by: Type.String({ description: 'User ID of the ticket creator' }),
    created_by_email: Type.String({ description: 'Email of the ticket creator' }),
    description: Type.String({ description: 'Ticket description' }),
    priority: { ...TicketPriority, description: 'Ticket priority, set by the support team' },
    resolved_at: Nullable(Type.String({ format: 'date-time', description: 'When the ticket was resolved or closed' })),
    status: { ...TicketStatus, description: 'Ticket status' },
    tenant_id: Type.String({ description: 'Organization (tenant) the ticket belongs to' }),
    ticket_id: Uuid('Ticket UUID'),
    title: Type.String({ description: 'Ticket title' }),
    type: { ...TicketType, description: 'Ticket type' },
    updated_at: Timestamp('When the ticket last changed'),
    number: TicketNumber,
    waiting_on: WaitingOn,
  },
  { $id: 'SupportTicket', additionalProperties: false },
);

export const SupportTicketSummary = Type.Object(
  {
    assigned_to_email: Nullable(Type.String({ description: 'Email of the assigned support agent' })),
    comment_count: Type.Integer({ format: 'int64', minimum: 0, description: 'Number of comments on the ticket' }),
    created_at: Timestamp('When the ticket was created'),
    created_by_email: Type.String({ description: 'Email of the ticket creator' }),
    priority: { ...TicketPriority, description: 'Ticket priority' },
    status: { ...TicketStatus, description: 'Ticket status' },
    ticket_id: Uuid('Ticket UUID'),
    title: Type.String({ description: 'Ticket title' }),
    type: { ...TicketType, description: 'Ticket type' },
    updated_at: Timestamp('When the ticket last changed'),
    number: TicketNumber,
    waiting_on: WaitingOn,
  },
  { $id: 'SupportTicketSummary', additionalProperties: false },
);

/** A page of tickets: the `tickets`, `total`, `has_more` envelope of every ticket list. */
export function TicketPage<T extends TObject>(name: string, item: T, order: string) {
  return Type.Object(
    {
      $schema: SchemaLink(name),
      has_more: Type.Boolean({ description: 'Whether more tickets follow this page' }),
      tickets: Type.Array(Ref(item), { description: `Tickets on this page, ${order}` }),
      total: Type.Integer({ format: 'int64', minimum: 0, description: 'Number of tickets matching the filters' }),
    },
    { $id: name, additionalProperties: false },
  );
}

export const TicketListResponse = TicketPage('TicketListResponse', SupportTicketSummary, 'newest first');

export const TicketHistoryEntry = Type.Object(
  {
    changed_by: Type.String({ description: 'User ID of who made the change' }),
    changed_by_email: Type.String({ description: 'Email of who made the change' }),
    created_at: Timestamp('When the change was made'),
    field_changed: Type.String({ description: 'The ticket field that changed (status, priority, type, assigned_to)' }),
    history_id: Uuid('History entry UUID'),
    new_value: Nullable(Type.String({ description: 'Value after the change' })),
    old_value: Nullable(Type.String({ description: 'Value before the change' })),
    ticket_id: Uuid('Ticket UUID'),
  },
  { $id: 'TicketHistoryEntry', additionalProperties: false },
);

export const TicketDetailResponse = Type.Object(
  {
    $schema: SchemaLink('TicketDetailResponse'),
    history: Type.Array(Ref(TicketHistoryEntry), { description: 'Changes to the ticket, oldest first' }),
    ticket: Ref(SupportTicket),
  },
  { $id: 'TicketDetailResponse', additionalProperties: false },
);

export const CreateTicketBody = Type.Object(
  {
    $schema: InputSchemaLink('CreateTicketBody'),
    title: NonBlank(200, 'Short summary of the problem'),
    description: NonBlank(20000, 'What happened, what you expected, steps to reproduce'),
    type: { ...TicketType, description: 'Ticket type' },
    attachments: AttachmentIds,
  },
  { $id: 'CreateTicketBody', additionalProperties: false },
);
export type CreateTicketBody = Static<typeof CreateTicketBody>;

export const CreateCommentBody = Type.Object(
  {
    $schema: InputSchemaLink('CreateCommentBody'),
    content: NonBlank(20000, 'Comment text'),
    attachments: AttachmentIds,
  },
  { $id: 'CreateCommentBody', additionalProperties: false },
);
export type CreateCommentBody = Static<typeof CreateCommentBody>;

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

/** `limit` and `offset`, as every list takes them. */
export const PageParams = {
  limit: Type.Optional(
    Type.Integer({ format: 'int64', minimum: 1, maximum: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE, description: 'Items per page' }),
  ),
  offset: Type.Optional(Type.Integer({ format: 'int64', minimum: 0, default: 0, description: 'Pagination offset' })),
};

export const CUSTOMER_SORTS = ['-created_at', '-updated_at'] as const;

export const ListTicketsQuery = Type.Object({
  ...PageParams,
  sort: Type.Optional(
    Type.Unsafe<(typeof CUSTOMER_SORTS)[number]>({
      type: 'string',
      enum: [...CUSTOMER_SORTS],
      default: '-created_at',
      description: 'Newest first (`-created_at`, the default) or latest activity first (`-updated_at`)',
    }),
  ),
  status: Type.Optional({ ...TicketStatus, description: 'Filter by status (open, in_progress, resolved, closed)' }),
  type: Type.Optional({ ...TicketType, description: 'Filter by type (support, bug, feature_request, billing, ...)' }),
});
export type ListTicketsQuery = Static<typeof ListTicketsQuery>;

export const TicketParams = Type.Object({
  ticketId: Uuid('Ticket UUID'),
});

export type SupportTicket = Static<typeof SupportTicket>;
export type SupportTicketComment = Static<typeof SupportTicketComment>;
export type SupportTicketSummary = Static<typeof SupportTicketSummary>;
export type TicketHistoryEntry = Static<typeof TicketHistoryEntry>;
export type TicketListResponse = Static<typeof TicketListResponse>;
export type TicketDetailResponse = Static<typeof TicketDetailResponse>;

/** Every named schema of the tickets module, registered once and served under /schemas. */
export const ticketSchemas = [
  SupportTicketComment,
  SupportTicket,
  SupportTicketSummary,
  TicketListResponse,
  TicketHistoryEntry,
  TicketDetailResponse,
  CreateTicketBody,
  CreateCommentBody,
];
