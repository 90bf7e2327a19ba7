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
          'Every change to every ticket, in the order it was committed, from a cursor. Poll from `next_cursor` to follow it; ' +
          'a cursor never skips an event whose transaction committed late.',
        tags: ['Support (staff)'],
        security: [{ bearerClerk: [] }],
        querystring: EventFeedQuery,
        response: { 200: Ref(EventFeedResponse), ...problemResponses(401, 403, 422, 429, 500) },
      },
    },
    async (request) => listEventsForStaff(db, request.query),
  );
};
