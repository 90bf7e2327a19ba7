import { Type } from '@sinclair/typebox';
import { sql } from 'kysely';
import type { FastifyInstance } from 'fastify';
import type { Db } from '../db/database.js';
import { sendProblem } from './problem.js';
import { problemResponses } from './schemas.js';

const Health = Type.Object({ status: Type.String({ description: '`ok` (alive) or `ready` (database reachable)' }) }, { additionalProperties: false });
const tags = ['Operations'];

/** Liveness (the process answers) and readiness (the database answers). Public, no token. */
export async function healthRoutes(app: FastifyInstance, { db }: { db: Db }): Promise<void> {
  app.get(
    '/healthz',
    { schema: { operationId: 'healthz', summary: 'Liveness: the process answers', description: 'Answers 200 while the process runs, without touching the database: for a liveness probe that restarts a stuck process.', tags, security: [], response: { 200: Health } } },
    async () => ({ status: 'ok' }),
  );
  app.get(
    '/readyz',
    {
      schema: {
        operationId: 'readyz',
        summary: 'Readiness: the database answers',
        description: 'Answers 200 when the database answers a query, 503 when it does not: for a load balancer that sends traffic only to ready instances.',
        tags,
        security: [],
        response: { 200: Health, ...problemResponses(503) },
      },
    },
    async (request, reply) => {
      try {
        await sql`select 1`.execute(db);
        return { status: 'ready' };
      } catch (error) {
        request.log.error({ err: error }, 'readiness check failed');
        return sendProblem(reply, 503, 'database unavailable');
      }
    },
  );
}
