import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { Db } from '../db/database.js';
import { requireStaff, type Actor } from '../http/auth.js';
import { problemResponses, Ref } from '../http/schemas.js';
import { TicketParams } from '../tickets/ticket.schemas.js';
import { CustomerStreamQuery, PresenceBody, StaffStreamQuery, StreamHeaders, TicketPresence } from './live.schemas.js';
import { announcePresence, leavePresence, type LiveStreams } from './live.service.js';

const MESSAGES =
  'Each message: `id:` the event’s feed cursor, `event:` its type, `data:` the event as in the events feed (one JSON line). ' +
  'Reconnecting with `Last-Event-ID` (or `last_event_id`) resumes after that event: nothing missed, nothing repeated, late commits included. ' +
  'A comment line every 15 s keeps the connection open; when the token expires the stream ends with `event: expired` (reconnect with a fresh token). ' +
  'Authenticated with the bearer token like every call (browsers: a fetch-based SSE client, since `EventSource` cannot send the header). ' +
  'A user may hold a few streams at once (429 beyond); the rate limit counts a stream as one request.';

const stream = (description: string) => ({
  description,
  content: { 'text/event-stream': { schema: { type: 'string', description } } },
});

/** Live updates as Server-Sent Events, and which agents are on a ticket. */
export const liveRoutes: FastifyPluginAsyncTypebox<{ db: Db; streams: LiveStreams }> = async (app, { db, streams }) => {
  const actorOf = (request: { actor: Actor | null }): Actor => request.actor as Actor;

  app.get(
    '/support/events/stream',
    {
      // A HEAD would hold a stream open with nothing to show for it.
      exposeHeadRoute: false,
      schema: {
        operationId: 'stream-events',
        summary: 'Follow my tickets live (Server-Sent Events)',
        description: `What happens to the caller’s own tickets as it happens: the events a customer may see, never an internal note. ${MESSAGES}`,
        tags: ['Support'],
        security: [{ bearerClerk: [] }],
        headers: StreamHeaders,
        querystring: CustomerStreamQuery,
        response: { 200: stream('An endless stream of events'), ...problemResponses(401, 422, 429, 500) },
      },
    },
    async (request, reply) => {
      const actor = actorOf(request);
      streams.open(request, reply, { kind: 'customer', tenantId: actor.tenantId, userId: actor.userId }, { header: request.headers['last-event-id'], query: request.query.last_event_id });
      return reply;
    },
  );

  app.get(
    '/admin/support/events/stream',
    {
      exposeHeadRoute: false,
      onRequest: requireStaff,
      schema: {
        operationId: 'stream-events-staff',
        summary: 'Follow the desk live (Server-Sent Events, staff)',
        description:
          `Every event of every ticket (or of one), as it happens, and \`event: presence\` messages (no \`id:\`; not in the log): ` +
          `\`data\` {ticket_id, agents: [{user_id, email, state, expires_at}]}, the agents on a ticket whenever they change, and all of them when the stream opens. ${MESSAGES}`,
        tags: ['Support (staff)'],
        security: [{ bearerClerk: [] }],
        headers: StreamHeaders,
        querystring: StaffStreamQuery,
        response: { 200: stream('An endless stream of events and presence'), ...problemResponses(401, 403, 422, 429, 500) },
      },
    },
    async (request, reply) => {
      streams.open(request, reply, { kind: 'staff', ticketId: request.query.ticket_id }, { header: request.headers['last-event-id'], query: request.query.last_event_id });
      return reply;
    },
  );

  app.post(
    '/admin/support/tickets/:ticketId/presence',
    {
      onRequest: requireStaff,
      schema: {
        operationId: 'announce-presence-staff',
        summary: 'Say I am viewing or replying to a ticket (staff)',
        description:
          'Puts the caller on the ticket for 30 s (renew it to stay), so that other agents see who else is there (`event: presence` on the staff stream). ' +
          'Not ticket data: no event, no history, never shown to customers.',
        tags: ['Support (staff)'],
        security: [{ bearerClerk: [] }],
        params: TicketParams,
        body: Ref(PresenceBody),
        response: { 200: Ref(TicketPresence), ...problemResponses(400, 401, 403, 404, 413, 415, 422, 429, 500) },
      },
    },
    async (request) => announcePresence(db, actorOf(request), request.params.ticketId, request.body.state),
  );

  app.delete(
    '/admin/support/tickets/:ticketId/presence',
    {
      onRequest: requireStaff,
      schema: {
        operationId: 'leave-presence-staff',
        summary: 'Say I left a ticket (staff)',
        description: 'Takes the caller off the ticket at once rather than when the announcement expires.',
        tags: ['Support (staff)'],
        security: [{ bearerClerk: [] }],
        params: TicketParams,
        response: { 204: Type.Null({ description: 'Gone' }), ...problemResponses(400, 401, 403, 404, 413, 415, 422, 429, 500) },
      },
    },
    async (request, reply) => {
      await leavePresence(db, actorOf(request), request.params.ticketId);
      return reply.code(204).send(null);
    },
  );
};
