/**
 * The ceiling: bare Fastify answering every request with the very bytes the real server sent
 * for the operation being measured, from memory. No auth, no database, no schemas. The harness
 * loads the bytes through PUT /__ceiling before each operation.
 */
import Fastify from 'fastify';
import { systemBacklog } from '../src/http/listen-backlog.js';

interface Canned {
  status: number;
  headers: Record<string, string>;
  body: string;
}

let canned: Canned = { status: 200, headers: { 'content-type': 'text/plain' }, body: 'not loaded' };
const app = Fastify({ logger: false, bodyLimit: 1024 * 1024 });
app.put('/__ceiling', async (request) => {
  canned = request.body as Canned;
  return { ok: true };
});
app.all('/*', async (_request, reply) => reply.code(canned.status).headers(canned.headers).send(canned.body));
// The listen queue the real server asks for by default, so that a storm of connections meets the
// same kernel queue on both.
const address = await app.listen({ port: Number(process.env.PORT ?? 0), host: '127.0.0.1', backlog: systemBacklog() });
process.stdout.write(`ceiling listening at ${address}\n`);
