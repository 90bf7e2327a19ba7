import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Db } from '../db/database.js';
import { requireStaff } from '../http/auth.js';
import { problemResponses, Ref } from '../http/schemas.js';
import { EventFeedQuery, EventFeedResponse } from './event.schemas.js';
import { listEventsForStaff } from './event.service.js';

/** The events feed, for staff and the integrations they run: every ticket change, in commit order. */
export const eventRoutes: FastifyPluginAsyncTypebox<{ db: Db }> = async (app, { db }) => {
  app.addHook('onRequest', requireStaff);
  app.get(
    '/admin/support/events',
    {
      schema: {
        operationId: 'list-events-staff',
        summary: 'Read the events feed (staff)',
        description:
          'Every change to every ticket, from a cursor: one ticket’s in the order its changes were made, across tickets in the order ' +
          'their transactions began. Poll from `next_cursor` to follow it; a cursor never skips an event whose transaction committed late. ' +
          'Cursors belong to one database: after an export and import, read from the beginning.',
        tags: ['Support (staff)'],
        security: [{ bearerClerk: [] }],
        querystring: EventFeedQuery,
        response: { 200: Ref(EventFeedResponse), ...problemResponses(401, 403, 422, 429, 500) },
      },
    },
    async (request) => listEventsForStaff(db, request.query),
  );
};
