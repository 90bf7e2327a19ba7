import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Db } from '../db/database.js';
import type { Actor } from '../http/auth.js';
import { ResponseCache } from '../http/response-cache.js';
import { problemResponses, Ref, schemaUrl } from '../http/schemas.js';
import { canonicalUuid } from '../db/ids.js';
import { ownerKey, ownerVersions, ticketStamps } from './ticket.repository.js';
import { batchedByTurn } from '../db/turn-batch.js';
import {
  CreateCommentBody,
  CreateTicketBody,
  ListTicketsQuery,
  SupportTicket,
  SupportTicketComment,
  TicketDetailResponse,
  TicketListResponse,
  TicketParams,
} from './ticket.schemas.js';
import { IdempotencyHeaders, idempotencyHook, rethrowDuplicateAsConflict } from '../idempotency/idempotency.service.js';
import { addMyComment, closeMyTicket, createTicket, getMyTicket, listMyTickets, ticketLocation } from './ticket.service.js';

const security = [{ bearerClerk: [] }];
const RESPONSE_CACHE_BYTES = 32 * 1024 * 1024;
const tags = ['Support'];

/** The customer side of the desk: the five operations of the API contract. */
export const ticketRoutes: FastifyPluginAsyncTypebox<{ db: Db }> = async (app, { db }) => {
  // Registered under the authenticating scope, so an actor is always present here.
  const actorOf = (request: { actor: Actor | null }): Actor => request.actor as Actor;
  const idempotent = idempotencyHook(db);
  // The customer's list and ticket pages, the hot reads, served from memory while unchanged.
  const responses = new ResponseCache(RESPONSE_CACHE_BYTES);
  // The version reads that decide whether a cached copy stands, those of one event-loop turn
  // in one query (see batchedByTurn). Measured with 50 connections at 1,000,000 tickets: the
  // cached list 10,000 -> 14,000-17,000 requests/s on SQLite (20 customers at once), 5,600 ->
  // 15,800 on PostgreSQL; the ticket 6,700 -> 9,600 and 3,800 -> 9,200.
  const versionOf = batchedByTurn((keys) => ownerVersions(db, keys));
  const stampOf = batchedByTurn((ids) => ticketStamps(db, ids));

  app.get(
    '/support/tickets',
    {
      schema: {
        operationId: 'list-my-tickets',
        summary: 'List my support tickets',
        tags,
        security,
        querystring: ListTicketsQuery,
        response: { 200: Ref(TicketListResponse), ...problemResponses(401, 422, 429, 500) },
      },
    },
    async (request, reply) => {
      const actor = actorOf(request);
      const { status, type, limit, offset } = request.query;
      const key = `list ${actor.tenantId} ${actor.userId} ${status} ${type} ${limit} ${offset}`;
      const current = await versionOf(ownerKey({ tenantId: actor.tenantId, userId: actor.userId }));
      return responses.reply(reply, key, current, schemaUrl('TicketListResponse'), () => listMyTickets(db, actor, request.query));
    },
  );

  app.post(
    '/support/tickets',
    {
      preHandler: idempotent,
      schema: {
        operationId: 'create-ticket',
        summary: 'Create a support ticket',
        tags,
        security,
        headers: IdempotencyHeaders,
        body: Ref(CreateTicketBody),
        response: { 201: Ref(SupportTicket), ...problemResponses(400, 401, 413, 415, 422, 429, 500) },
      },
    },
    async (request, reply) => {
      const ticket = await createTicket(db, actorOf(request), request.body, request.idempotency).catch(rethrowDuplicateAsConflict);
      return reply.code(201).header('location', ticketLocation(ticket.ticket_id)).send(ticket);
    },
  );

  app.get(
    '/support/tickets/:ticketId',
    {
      schema: {
        operationId: 'get-my-ticket',
        summary: 'Get a support ticket with comments',
        tags,
        security,
        params: TicketParams,
        response: { 200: Ref(TicketDetailResponse), ...problemResponses(400, 401, 404, 422, 429, 500) },
      },
    },
    async (request, reply) => {
      const actor = actorOf(request);
      const id = canonicalUuid(request.params.ticketId);
      const key = `detail ${id}`;
      const stamp = await stampOf(id);
      // The stamp says whose ticket it is: a cached copy goes only to its owner.
      const owned = stamp !== undefined && stamp.tenant_id === actor.tenantId && stamp.created_by === actor.userId;
      const current = owned ? String(stamp.version) : undefined;
      return responses.reply(reply, key, current, schemaUrl('TicketDetailResponse'), () => getMyTicket(db, actor, request.params.ticketId));
    },
  );

  app.post(
    '/support/tickets/:ticketId/close',
    {
      preHandler: idempotent,
      schema: {
        operationId: 'close-my-ticket',
        summary: 'Close a support ticket (user)',
        tags,
        security,
        params: TicketParams,
        headers: IdempotencyHeaders,
        response: { 200: Ref(SupportTicket), ...problemResponses(400, 401, 404, 409, 413, 415, 422, 429, 500) },
      },
    },
    async (request) => closeMyTicket(db, actorOf(request), request.params.ticketId, request.idempotency).catch(rethrowDuplicateAsConflict),
  );

  app.post(
    '/support/tickets/:ticketId/comments',
    {
      preHandler: idempotent,
      schema: {
        operationId: 'add-my-comment',
        summary: 'Add a comment to a support ticket',
        tags,
        security,
        params: TicketParams,
        headers: IdempotencyHeaders,
        body: Ref(CreateCommentBody),
        response: { 201: Ref(SupportTicketComment), ...problemResponses(400, 401, 404, 409, 413, 415, 422, 429, 500) },
      },
    },
    async (request, reply) => {
      const comment = await addMyComment(db, actorOf(request), request.params.ticketId, request.body.content, request.idempotency).catch(
        rethrowDuplicateAsConflict,
      );
      return reply.code(201).send(comment);
    },
  );
};
