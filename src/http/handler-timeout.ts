import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from './problem.js';

/** A request in flight, linked to the ones that arrived just before and after it. */
interface InFlight {
  request: FastifyRequest;
  reply: FastifyReply;
  deadline: number;
  older: InFlight | null;
  newer: InFlight | null;
}

/**
 * Answers 503 for a request whose handler is still running after `ms`, as Fastify's own
 * `handlerTimeout` does, at a fraction of its cost. Fastify's gives every request an
 * AbortController, a timer and a 'close' listener that builds an AbortError (a DOMException,
 * with its stack) at the end of every request, which shows in the server's CPU profile under
 * load. Nothing here reads `request.signal`, so this keeps only the answer: requests in
 * flight form a list in arrival order, and one timer walks it from the oldest. Call it before
 * any other onSend hook is added: a request leaves the list when its answer is ready.
 *
 * The list is linked through the requests themselves, and a request leaving it is unlinked at
 * once, so nothing long-lived points at a finished request. It was a Map: a Map's table is
 * not cleared as entries leave it, and the young garbage it still pointed at survived every
 * young-generation collection until a full one. Under load each scavenge then copied and
 * promoted every request's objects, and its pauses set the cached reads' p99; with the list,
 * next to nothing survives a scavenge (docs/PERFORMANCE.md).
 */
export function installHandlerTimeout(app: FastifyInstance, ms: number): void {
  // One key per install, so that two installs on one request keep two lists intact. A
  // request points at its entry while, and only while, the entry is in the list.
  const IN_FLIGHT = Symbol('in flight');
  type Tracked = FastifyRequest & { [IN_FLIGHT]?: InFlight | null };
  let oldest: InFlight | null = null;
  let newest: InFlight | null = null;
  const leave = (entry: InFlight) => {
    (entry.request as Tracked)[IN_FLIGHT] = null;
    if (entry.older) entry.older.newer = entry.newer;
    else oldest = entry.newer;
    if (entry.newer) entry.newer.older = entry.older;
    else newest = entry.older;
    entry.older = entry.newer = null;
  };
  const sweep = () => {
    const now = performance.now();
    while (oldest !== null && oldest.deadline <= now) {
      const { request, reply } = oldest;
      leave(oldest);
      if (reply.sent) continue;
      if (reply.raw.headersSent) {
        // A response already under way cannot become a problem document: cut it off.
        request.log.error(`handler still running after ${ms} ms, response cut off`);
        reply.raw.destroy();
        continue;
      }
      reply.send(new AppError(503, 'the request took too long; retry later', undefined, undefined, new Error(`handler still running after ${ms} ms`)));
    }
  };
  let timer: NodeJS.Timeout | undefined;
  app.addHook('onRequest', (request: Tracked, reply, done) => {
    const entry: InFlight = { request, reply, deadline: performance.now() + ms, older: newest, newer: null };
    if (newest) newest.newer = entry;
    else oldest = entry;
    newest = entry;
    request[IN_FLIGHT] = entry;
    timer ??= setInterval(sweep, Math.min(ms / 4, 1_000)).unref();
    done();
  });
  const leaveRequest = (request: Tracked) => {
    const entry = request[IN_FLIGHT];
    if (entry) leave(entry);
  };
  // A handler that produced its answer is done: what follows (the wait for the disk flush in
  // app.ts's onSend) must not be overwritten by a 503 halfway through.
  app.addHook('onSend', (request, _reply, payload, done) => {
    leaveRequest(request);
    done(null, payload);
  });
  app.addHook('onRequestAbort', (request, done) => {
    leaveRequest(request);
    done();
  });
  app.addHook('onClose', (_app, done) => {
    clearInterval(timer);
    while (oldest !== null) leave(oldest);
    done();
  });
}
