import { AttachmentIds } from '../attachments/attachment.schemas.js';
import { Type, type Static } from '@sinclair/typebox';
import { InputSchemaLink, Nullable, Ref, SchemaLink } from '../http/schemas.js';
import { NonBlank, PageParams, SupportTicket, SupportTicketComment, SupportTicketSummary, TicketHistoryEntry, TicketPage } from '../tickets/ticket.schemas.js';
import { COMMENT_CHANNELS, MESSAGE_FROM, TICKET_PRIORITIES, TICKET_STATUSES, TICKET_TYPES, WAITING_ON } from '../tickets/ticket.table.js';

const Enum = <T extends readonly string[]>(values: T, description: string) =>
  Type.Unsafe<T[number]>({ type: 'string', enum: [...values], description });

export const QUEUE_SORTS = ['created_at', '-created_at', 'updated_at', '-updated_at', 'priority', '-priority', 'waiting_since', '-waiting_since', 'relevance'] as const;

/** Where a search's words were found, and which parts of the text they are (for `<mark>`). */
export const SearchSnippet = Type.Object(
  {
    source: Enum(['title', 'description', 'comment'] as const, 'The text the snippet is taken from: the title, the description, or a comment (internal notes included)'),
    text: Type.String({ description: 'Up to about 200 characters of that text around the first match; `…` marks a cut' }),
    marks: Type.Array(
      Type.Object(
        {
          start: Type.Integer({ minimum: 0, description: 'Offset of the marked part in `text`, in UTF-16 code units (JavaScript string indexes)' }),
          end: Type.Integer({ minimum: 0, description: 'Offset just past the marked part' }),
        },
        { additionalProperties: false },
      ),
      { description: 'The parts of `text` that the search words begin, in order, not overlapping' },
    ),
  },
  { additionalProperties: false, description: 'With `q`: where the words were found, the matched words marked' },
);
export type SearchSnippet = Static<typeof SearchSnippet>;

/** What needs attention next, as staff see it (kept by every write: tickets/ticket.changes.ts). */
const StaffAttention = {
  waiting_since: Nullable(Type.String({ format: 'date-time', description: 'Since when the side in `waiting_on` has been waiting; null once resolved or closed' })),
  last_message_from: Enum(MESSAGE_FROM, 'Who wrote the last public message (the ticket itself is the customer’s first)'),
  last_customer_message_at: Type.String({ format: 'date-time', description: 'When the customer last wrote (or opened the ticket)' }),
  last_staff_reply_at: Nullable(Type.String({ format: 'date-time', description: 'When the team last replied publicly' })),
  last_message_preview: Type.String({ description: 'The start of the last public message' }),
  unread: Type.Boolean({ description: 'Whether the customer wrote since you last opened the ticket (PUT …/read)' }),
};

export const AdminTicketSummary = Type.Object(
  {
    ...SupportTicketSummary.properties,
    created_by: Type.String({ description: 'User ID of the ticket creator' }),
    tenant_id: Type.String({ description: 'Organization (tenant) the ticket belongs to' }),
    ...StaffAttention,
    snippet: Type.Optional(
      Nullable({
        ...SearchSnippet,
        description: 'With `q`: where the words were found, the matched words marked; null when they are only in text past what a ticket’s search document holds. Absent without `q`',
      }),
    ),
  },
  { $id: 'AdminTicketSummary', additionalProperties: false },
);

/** A comment as staff see it: the customer's shape, and how it came in. */
export const StaffTicketComment = Type.Object(
  {
    ...SupportTicketComment.properties,
    $schema: SchemaLink('StaffTicketComment'),
    channel: Enum(COMMENT_CHANNELS, 'How the comment came in: `web` (the dashboard or the API) or `email` (a reply by e-mail, shown “via e-mail”)'),
  },
  { $id: 'StaffTicketComment', additionalProperties: false },
);

/** A ticket as staff see it: the customer's view, internal notes counted and listed, and what needs attention. */
export const StaffTicket = Type.Object(
  { ...SupportTicket.properties, comments: Type.Array(Ref(StaffTicketComment), { description: 'Comments and internal notes, oldest first' }), ...StaffAttention },
  { $id: 'StaffTicket', additionalProperties: false },
);

export const StaffTicketDetailResponse = Type.Object(
  {
    $schema: SchemaLink('StaffTicketDetailResponse'),
    history: Type.Array(Ref(TicketHistoryEntry), { description: 'Changes to the ticket, oldest first' }),
    ticket: Ref(StaffTicket),
  },
  { $id: 'StaffTicketDetailResponse', additionalProperties: false },
);

const AdminTicketPage = TicketPage('AdminTicketListResponse', AdminTicketSummary, 'in the requested order');
export const AdminTicketListResponse = Type.Object(
  {
    ...AdminTicketPage.properties,
    total: Type.Integer({
      format: 'int64',
      minimum: 0,
      description: 'Number of tickets matching the filters; for a search with more matches than the server counts (HELPDESK_SEARCH_TOTAL_BOUND, 10,000 by default), that bound, with `total_is_lower_bound`',
    }),
    total_is_lower_bound: Type.Boolean({ description: 'True when more tickets than `total` match (show it as “10,000+”); false when `total` is exact' }),
  },
  { $id: 'AdminTicketListResponse', additionalProperties: false },
);

export const AdminListTicketsQuery = Type.Object({
  ...PageParams,
  status: Type.Optional(
    Type.Array(Enum(TICKET_STATUSES, 'A status'), {
      minItems: 1,
      maxItems: TICKET_STATUSES.length,
      description: 'Filter by status: any of those given (repeat the parameter: `status=open&status=in_progress`)',
    }),
  ),
  waiting_on: Type.Optional(Enum(WAITING_ON, 'Filter by whose move it is: `support` (the team owes an answer) or `customer`')),
  type: Type.Optional(Enum(TICKET_TYPES, 'Filter by type')),
  priority: Type.Optional(Enum(TICKET_PRIORITIES, 'Filter by priority')),
  assigned_to: Type.Optional(
    Type.String({ minLength: 1, maxLength: 200, description: 'Filter by assignee: a user ID, `me`, or `none` for unassigned' }),
  ),
  tenant_id: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Filter by organization (tenant)' })),
  created_by: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Filter by creator user ID' })),
  q: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 200,
      description:
        'Full-text search: every word must begin a word of the title, description or any comment (internal notes included); case-insensitive. `#1042` finds the ticket numbered 1042. Each hit carries a `snippet`',
    }),
  ),
  sort: Type.Optional({
    ...Enum(
      QUEUE_SORTS,
      'Sort field; a leading `-` sorts descending. Ties in priority go by `updated_at` in the same direction; `waiting_since` puts the longest wait first and solved tickets last; `relevance` (with `q` only) puts tickets whose title holds every word first, then those whose title and description do, then the rest, each group most recently updated first',
    ),
    default: '-updated_at',
  }),
});
export type AdminListTicketsQuery = Static<typeof AdminListTicketsQuery>;

export const UpdateTicketBody = Type.Object(
  {
    $schema: InputSchemaLink('UpdateTicketBody'),
    status: Type.Optional(Enum(TICKET_STATUSES, 'New status')),
    priority: Type.Optional(Enum(TICKET_PRIORITIES, 'New priority')),
    type: Type.Optional(Enum(TICKET_TYPES, 'New type')),
    assigned_to: Type.Optional(
      Nullable(Type.String({ minLength: 1, maxLength: 200, description: 'User ID of a staff member, or null to unassign' })),
    ),
  },
  { $id: 'UpdateTicketBody', additionalProperties: false },
);
export type UpdateTicketBody = Static<typeof UpdateTicketBody>;

export const CreateStaffCommentBody = Type.Object(
  {
    $schema: InputSchemaLink('CreateStaffCommentBody'),
    content: NonBlank(20000, 'Comment text'),
    is_internal: Type.Optional(
      Type.Boolean({ default: false, description: 'An internal note for the support team; never shown to the customer' }),
    ),
    attachments: AttachmentIds,
  },
  { $id: 'CreateStaffCommentBody', additionalProperties: false },
);
export type CreateStaffCommentBody = Static<typeof CreateStaffCommentBody>;

const Counts = <T extends readonly string[]>(values: T, description: string) =>
  Type.Object(
    Object.fromEntries(values.map((v) => [v, Type.Integer({ format: 'int64', minimum: 0 })])) as Record<T[number], ReturnType<typeof Type.Integer>>,
    { description, additionalProperties: false },
  );

export const SupportStats = Type.Object(
  {
    $schema: SchemaLink('SupportStats'),
    total: Type.Integer({ format: 'int64', minimum: 0, description: 'All tickets' }),
    by_status: Counts(TICKET_STATUSES, 'Tickets per status'),
    by_priority: Counts(TICKET_PRIORITIES, 'Tickets per priority'),
    by_type: Counts(TICKET_TYPES, 'Tickets per type'),
    open_unassigned: Type.Integer({ format: 'int64', minimum: 0, description: 'Open or in-progress tickets with no assignee' }),
    window_days: Type.Integer({ format: 'int64', minimum: 1, description: 'The window the medians cover, in days' }),
    median_first_response_seconds: Nullable(
      Type.Number({ description: 'Median time from creation to the first public staff reply, over tickets created in the window' }),
    ),
    first_response_sample: Type.Integer({ format: 'int64', minimum: 0, description: 'Tickets the first-response median is taken over' }),
    median_resolution_seconds: Nullable(
      Type.Number({ description: 'Median time from creation to resolution, over tickets created in the window and resolved' }),
    ),
    resolution_sample: Type.Integer({ format: 'int64', minimum: 0, description: 'Tickets the resolution median is taken over' }),
  },
  { $id: 'SupportStats', additionalProperties: false },
);
export type SupportStats = Static<typeof SupportStats>;

export const StatsQuery = Type.Object({
  days: Type.Optional(Type.Integer({ format: 'int64', minimum: 1, maximum: 365, default: 30, description: 'Window for the medians, in days' })),
});

export const Agent = Type.Object(
  {
    user_id: Type.String({ description: 'User ID' }),
    email: Type.String({ description: 'Email' }),
    last_seen_at: Type.String({ format: 'date-time', description: 'When the agent was last seen with a valid token' }),
  },
  { $id: 'Agent', additionalProperties: false },
);

export const AgentListResponse = Type.Object(
  {
    $schema: SchemaLink('AgentListResponse'),
    agents: Type.Array(Ref(Agent), { description: 'Staff users, by email' }),
  },
  { $id: 'AgentListResponse', additionalProperties: false },
);
export type AgentListResponse = Static<typeof AgentListResponse>;
export type AdminTicketSummary = Static<typeof AdminTicketSummary>;
export type AdminTicketListResponse = Static<typeof AdminTicketListResponse>;
export type StaffTicketComment = Static<typeof StaffTicketComment>;
export type StaffTicket = Static<typeof StaffTicket>;
export type StaffTicketDetailResponse = Static<typeof StaffTicketDetailResponse>;

export const adminSchemas = [
  AdminTicketSummary,
  StaffTicketComment,
  StaffTicket,
  StaffTicketDetailResponse,
  AdminTicketListResponse,
  UpdateTicketBody,
  CreateStaffCommentBody,
  SupportStats,
  Agent,
  AgentListResponse,
];
