import type { FastifyInstance } from 'fastify';
import type { Server } from 'node:http';
import { performance } from 'node:perf_hooks';

/** How long turns in a row must each have accepted a connection before requests wait for the rest of a storm. */
export const STORM_MS = 10;

/**
 * Accepts a storm of new connections before serving their requests. Node.js 20's libuv (1.45
 * and later) accepts one connection each time a turn of the event loop finds the listening
 * socket readable (libuv pull request 3696), and a turn serves every request that arrived
 * since the last one: with hundreds of busy keep-alive connections a turn lasts 8–16 ms, so a
 * reconnect storm's later connections waited in the kernel's accept queue for seconds, their
 * requests unread (docs/PERFORMANCE.md, "Accepting in a storm").
 *
 * A storm shows as turn after turn accepting a connection: the kernel's queue is not empty
 * until a turn accepts none. Once such a streak has lasted `STORM_MS` (two turns at least),
 * requests wait, in arrival order, so that turns are short and the next turn accepts the next
 * connection; the first turn that accepts none starts every waiting request, together (the
 * reads and writes of a turn are batched, so starting them together also costs less). While
 * turns are short the server accepts quickly anyway, and clients that open a connection per
 * request (no keep-alive) make streaks of a few turns, so nothing waits; when turns are long
 * (a busy server) two turns make a storm. No request waits longer than `maxWaitMs`: under an
 * endless stream of new connections each turn still starts the requests that have waited that
 * long.
 */
export function createAcceptFirst(
  maxWaitMs: number,
  /** Told of an error a waiting request's start threw; the requests after it still start. */
  onError: (error: unknown) => void,
  now: () => number = () => performance.now(),
) {
  let waiting: Array<{ start: () => void; since: number }> = [];
  let next = 0;
  let accepted = false;
  let streak = 0;
  let streakSince = 0;
  let storm = false;
  let watching = false;

  const startWaiting = (all: boolean) => {
    const oldEnough = now() - maxWaitMs;
    while (next < waiting.length) {
      const entry = waiting[next] as { start: () => void; since: number };
      if (!all && entry.since > oldEnough) break;
      waiting[next++] = STARTED;
      try {
        entry.start();
      } catch (error) {
        onError(error);
      }
    }
    if (next === waiting.length) {
      waiting = [];
      next = 0;
    } else if (next > 1_024 && next * 2 > waiting.length) {
      // A storm that lasts: the started ones leave the front of the queue.
      waiting = waiting.slice(next);
      next = 0;
    }
  };

  // Runs in each turn's check phase while connections arrive or requests wait.
  const endTurn = () => {
    streak = accepted ? streak + 1 : 0;
    accepted = false;
    storm = streak >= 2 && now() - streakSince >= STORM_MS;
    startWaiting(!storm);
    // The next turn is watched too while this one accepted: a turn without an accept ends the streak.
    if (streak > 0 || next < waiting.length) setImmediate(endTurn);
    else watching = false;
  };
  const watch = () => {
    if (watching) return;
    watching = true;
    setImmediate(endTurn);
  };

  return {
    /** Call for every connection the server accepts. */
    connected(): void {
      if (streak === 0 && !accepted) streakSince = now();
      accepted = true;
      watch();
    },
    /** Starts a request now, or when the storm's accepting is over (or it has waited `maxWaitMs`). */
    admit(start: () => void): void {
      if (!storm && next === waiting.length) return start();
      waiting.push({ start, since: now() });
      watch();
    },
  };
}

const STARTED = { start: () => {}, since: 0 };

/** Installs accept-first scheduling on the app's server as an onRequest hook (install it before the others); 0 turns it off. */
export function installAcceptFirst(app: FastifyInstance, maxWaitMs: number): void {
  if (maxWaitMs <= 0) return;
  const scheduler = createAcceptFirst(maxWaitMs, (error) => app.log.error({ err: error }, 'a request held through a connection storm failed to start'));
  (app.server as Server).on('connection', () => scheduler.connected());
  app.addHook('onRequest', (_request, _reply, done) => scheduler.admit(done));
}
