import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Db } from '../db/database.js';
import type { Actor } from '../http/auth.js';
import { sendSerialized } from '../http/response-cache.js';
import { problemResponses, Ref, schemaUrl } from '../http/schemas.js';
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
import { addMyComment, closeMyTicket, createTicket, customerReads, ticketLocation } from './ticket.service.js';

const security = [{ bearerClerk: [] }];
const tags = ['Support'];

/** The customer side of the desk: the five operations of the API contract. */
export const ticketRoutes: FastifyPluginAsyncTypebox<{ db: Db }> = async (app, { db }) => {
  // Registered under the authenticating scope, so an actor is always present here.
  const actorOf = (request: { actor: Actor | null }): Actor => request.actor as Actor;
  const idempotent = idempotencyHook(db);
  // The hot reads, answered from memory while unchanged (the service owns the policy).
  const reads = customerReads(db);

  app.get(
    '/support/tickets',
    {
      schema: {
        operationId: 'list-my-tickets',
        summary: 'List my support tickets',
        description: 'The signed-in user\'s tickets in their current organization, newest first, paginated with limit and offset and filtered by status and type. Internal notes are never counted.',
        tags,
        security,
        querystring: ListTicketsQuery,
        response: { 200: Ref(TicketListResponse), ...problemResponses(401, 422, 429, 500) },
      },
    },
    async (request, reply) =>
      sendSerialized(reply, await reads.list(actorOf(request), request.query, (body) => String(reply.serialize(body))), schemaUrl('TicketListResponse')),
  );

  app.post(
    '/support/tickets',
    {
      preHandler: idempotent,
      schema: {
        operationId: 'create-ticket',
        summary: 'Create a support ticket',
        description: 'Opens a ticket for the signed-in user in their current organization, with status open and priority normal. An Idempotency-Key header makes a retry replay the first result.',
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
        description: 'One of the signed-in user\'s tickets with its public comments and its history. Another user\'s or another organization\'s ticket is a 404.',
        tags,
        security,
        params: TicketParams,
        response: { 200: Ref(TicketDetailResponse), ...problemResponses(400, 401, 404, 422, 429, 500) },
      },
    },
    async (request, reply) =>
      sendSerialized(reply, await reads.get(actorOf(request), request.params.ticketId, (body) => String(reply.serialize(body))), schemaUrl('TicketDetailResponse')),
  );

  app.post(
    '/support/tickets/:ticketId/close',
    {
      preHandler: idempotent,
      schema: {
        operationId: 'close-my-ticket',
        summary: 'Close a support ticket (user)',
        description: 'Closes one of the signed-in user\'s tickets; a ticket that is already closed is a 409.',
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
        description: 'Adds the signed-in user\'s comment to one of their tickets; a resolved ticket reopens, a closed one is a 409.',
        tags,
        security,
        params: TicketParams,
        headers: IdempotencyHeaders,
        body: Ref(CreateCommentBody),
        response: { 201: Ref(SupportTicketComment), ...problemResponses(400, 401, 404, 409, 413, 415, 422, 429, 500) },
      },
    },
    async (request, reply) => {
      const comment = await addMyComment(db, actorOf(request), request.params.ticketId, request.body, request.idempotency).catch(
        rethrowDuplicateAsConflict,
      );
      return reply.code(201).send(comment);
    },
  );
};
