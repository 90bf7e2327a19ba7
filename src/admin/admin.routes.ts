import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Db, Dialect } from '../db/database.js';
import { requireStaff, type Actor } from '../http/auth.js';
import { IdempotencyHeaders, idempotencyHook, rethrowDuplicateAsConflict } from '../idempotency/idempotency.service.js';
import { sendSerialized } from '../http/response-cache.js';
import { problemResponses, Ref, schemaUrl } from '../http/schemas.js';
import { TicketParams } from '../tickets/ticket.schemas.js';
import {
  AdminListTicketsQuery,
  AdminTicketListResponse,
  AgentListResponse,
  CreateStaffCommentBody,
  StaffTicket,
  StaffTicketComment,
  StaffTicketDetailResponse,
  StatsQuery,
  SupportStats,
  UpdateTicketBody,
} from './admin.schemas.js';
import {
  addStaffComment,
  getSupportStats,
  getTicketForStaff,
  listAgents,
  markTicketRead,
  staffQueue,
  updateTicketAsStaff,
} from './admin.service.js';

const security = [{ bearerClerk: [] }];
const tags = ['Support (staff)'];
// @fastify/swagger wraps a response header's JSON Schema in { schema } itself.
const ETagHeader = { ETag: { type: 'string', description: 'The ticket version; send it back in If-Match to update safely' } };

/** The support team's side: every tenant's tickets, triage, replies and internal notes, stats. */
export const adminRoutes: FastifyPluginAsyncTypebox<{ db: Db; dialect: Dialect; searchTotalBound?: number }> = async (app, { db, dialect, searchTotalBound }) => {
  // Role comes only from the verified token (metadata.role in HELPDESK_STAFF_ROLES).
  app.addHook('onRequest', requireStaff);
  const actorOf = (request: { actor: Actor | null }): Actor => request.actor as Actor;
  const idempotent = idempotencyHook(db);
  const queue = staffQueue(db, dialect, searchTotalBound);

  app.get(
    '/admin/support/tickets',
    {
      schema: {
        operationId: 'list-tickets-staff',
        summary: 'List every tenant’s tickets (staff)',
        description: 'The support queue across every organization, with filters (status, priority, type, assignee, tenant), full-text search including internal notes, sorting and pagination. Support staff only.',
        tags,
        security,
        querystring: AdminListTicketsQuery,
        response: { 200: Ref(AdminTicketListResponse), ...problemResponses(401, 403, 422, 429, 500) },
      },
    },
    async (request, reply) =>
      sendSerialized(reply, await queue.list(actorOf(request), request.query, (body) => String(reply.serialize(body))), schemaUrl('AdminTicketListResponse')),
  );

  app.get(
    '/admin/support/tickets/:ticketId',
    {
      schema: {
        operationId: 'get-ticket-staff',
        summary: 'Get any ticket with internal notes and history (staff)',
        description: 'Any ticket with every comment, internal notes included, and its full history; the ETag header carries its version for If-Match. Support staff only.',
        tags,
        security,
        params: TicketParams,
        response: { 200: { ...Ref(StaffTicketDetailResponse), headers: ETagHeader }, ...problemResponses(400, 401, 403, 404, 422, 429, 500) },
      },
    },
    async (request, reply) => {
      const { body, etag } = await getTicketForStaff(db, actorOf(request), request.params.ticketId);
      return reply.header('etag', etag).send(body);
    },
  );

  app.patch(
    '/admin/support/tickets/:ticketId',
    {
      schema: {
        operationId: 'update-ticket-staff',
        summary: 'Change a ticket’s status, priority, type or assignee (staff)',
        description: 'Triage: changes any of status, priority, type and assignee, writing one history row per changed field. With If-Match, a stale version is refused with 412. Support staff only.',
        tags,
        security,
        params: TicketParams,
        headers: Type.Object({
          'if-match': Type.Optional(Type.String({ description: 'The ETag the change is based on; a stale one is refused with 412' })),
        }),
        body: Ref(UpdateTicketBody),
        response: { 200: { ...Ref(StaffTicket), headers: ETagHeader }, ...problemResponses(400, 401, 403, 404, 412, 413, 415, 422, 429, 500) },
      },
    },
    async (request, reply) => {
      const { body, etag } = await updateTicketAsStaff(db, actorOf(request), request.params.ticketId, request.body, request.headers['if-match']);
      return reply.header('etag', etag).send(body);
    },
  );

  app.put(
    '/admin/support/tickets/:ticketId/read',
    {
      schema: {
        operationId: 'mark-ticket-read-staff',
        summary: 'Mark a ticket read for me (staff)',
        description: 'Records that the calling agent opened the ticket: `unread` is false for them until the customer writes again.',
        tags,
        security,
        params: TicketParams,
        response: { 204: Type.Null({ description: 'Recorded' }), ...problemResponses(400, 401, 403, 404, 413, 415, 422, 429, 500) },
      },
    },
    async (request, reply) => {
      await markTicketRead(db, actorOf(request), request.params.ticketId);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/admin/support/tickets/:ticketId/comments',
    {
      preHandler: idempotent,
      schema: {
        operationId: 'add-comment-staff',
        summary: 'Reply to a ticket or add an internal note (staff)',
        description: 'A public reply the customer sees, or with is_internal an internal note only staff see. Support staff only.',
        tags,
        security,
        params: TicketParams,
        headers: IdempotencyHeaders,
        body: Ref(CreateStaffCommentBody),
        response: { 201: Ref(StaffTicketComment), ...problemResponses(400, 401, 403, 404, 413, 415, 422, 429, 500) },
      },
    },
    async (request, reply) => {
      const { content, is_internal: isInternal = false, attachments } = request.body;
      const comment = await addStaffComment(db, actorOf(request), request.params.ticketId, { content, isInternal, attachments }, request.idempotency).catch(
        rethrowDuplicateAsConflict,
      );
      return reply.code(201).send(comment);
    },
  );

  app.get(
    '/admin/support/stats',
    {
      schema: {
        operationId: 'get-stats-staff',
        summary: 'Queue counts and response times (staff)',
        description: 'Ticket counts by status and median times over a window of days (days, default 30). Support staff only.',
        tags,
        security,
        querystring: StatsQuery,
        response: { 200: Ref(SupportStats), ...problemResponses(401, 403, 422, 429, 500) },
      },
    },
    async (request) => getSupportStats(db, request.query.days ?? 30),
  );

  app.get(
    '/admin/support/agents',
    {
      schema: {
        operationId: 'list-agents-staff',
        summary: 'Staff users known to the system (staff)',
        description: 'Everyone who has called the API as support staff, for the assignee field. Support staff only.',
        tags,
        security,
        response: { 200: Ref(AgentListResponse), ...problemResponses(401, 403, 429, 500) },
      },
    },
    async () => listAgents(db),
  );
};
