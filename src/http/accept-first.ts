import type { FastifyInstance } from 'fastify';
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';

/** How long turns in a row must each have accepted a connection before requests wait for the rest of a storm. */
export const STORM_MS = 10;
/**
 * Or a wave: this many more connections open at the end of a window of `WAVE_MS` than at its
 * start (a rate of 12,800 new connections a second that stay open). An idle server takes
 * hundreds within a millisecond, in a turn or two. Clients that connect per request (no
 * keep-alive) keep as many open as there are of them, however fast they reconnect, and a steady
 * stream of new keep-alive connections at a few thousand a second opens a few dozen per window.
 */
export const STORM_CONNECTIONS = 64;
export const WAVE_MS = 5;
/** A wave is spent once a window opens fewer than this many more, or none has come for `QUIET_MS`. */
export const WAVE_SPENT = 16;
export const QUIET_MS = 2;

/**
 * Accepts a storm of new connections before serving their requests. Node.js 20's libuv (1.45
 * and later) accepts one connection each time a turn of the event loop finds the listening
 * socket readable (libuv pull request 3696), and a turn serves every request that arrived
 * since the last one: with hundreds of busy keep-alive connections a turn lasts 8–16 ms, so a
 * reconnect storm's later connections waited in the kernel's accept queue for seconds, their
 * requests unread (docs/PERFORMANCE.md, "Accepting in a storm").
 *
 * A storm shows in one of two ways. On a busy server, as turn after turn accepting a
 * connection: the kernel's queue is not empty until a turn accepts none; once such a streak
 * has lasted `STORM_MS` (two turns at least) it is a storm until a turn accepts none. On an
 * idle one, as a wave: `STORM_CONNECTIONS` more connections open within `WAVE_MS`, taken in a
 * turn or two; it is a storm until a window opens fewer than `WAVE_SPENT` more or none has come
 * for `QUIET_MS` (the clients may still be opening the rest, and a turn with nothing to do is
 * over in microseconds, so a turn that accepts none does not end it). Clients that open a
 * connection per request (no keep-alive) make streaks of a few short turns and keep no more
 * connections open than there are of them, and a steady stream of new ones opens a few dozen a
 * window, so nothing waits for them.
 *
 * During a storm requests wait, in arrival order, so that turns are short and each accepts the
 * next connection. When it ends, or once the oldest has waited `maxWaitMs`, every waiting
 * request starts, together: the reads and writes of a turn are batched, so starting them
 * together also costs less, and started a turn's worth at a time as each came of age they
 * kept every turn as long as the storm's, one accept each, for as long as it lasted.
 */
export function createAcceptFirst(
  maxWaitMs: number,
  /** Told of an error a waiting request's start threw; the requests after it still start. */
  onError: (error: unknown) => void,
  now: () => number = () => performance.now(),
) {
  let waiting: Array<{ start: () => void; since: number }> = [];
  let accepted = false;
  let streak = 0;
  let streakSince = 0;
  // Whether the streak of accepting turns has lasted long enough to be a storm (the wave is the other kind).
  let streaking = false;
  let watching = false;
  // Connections open, when the current window began and how many were open then, and when the last came.
  let open = 0;
  let windowSince = Number.NEGATIVE_INFINITY;
  let before = 0;
  let lastAccept = Number.NEGATIVE_INFINITY;
  let wave = false;

  const startWaiting = () => {
    const all = waiting;
    waiting = [];
    for (const entry of all) {
      try {
        entry.start();
      } catch (error) {
        onError(error);
      }
    }
  };

  // Runs in each turn's check phase while connections arrive or requests wait.
  const endTurn = () => {
    streak = accepted ? streak + 1 : 0;
    accepted = false;
    if (wave && now() - lastAccept >= QUIET_MS) wave = false;
    streaking = streak >= 2 && now() - streakSince >= STORM_MS;
    if (!(streaking || wave) || (waiting.length > 0 && (waiting[0] as { since: number }).since <= now() - maxWaitMs)) startWaiting();
    // The next turn is watched too while this one accepted: a turn without an accept ends the streak.
    if (streak > 0 || waiting.length > 0 || wave) setImmediate(endTurn);
    else watching = false;
  };
  const watch = () => {
    if (watching) return;
    watching = true;
    setImmediate(endTurn);
  };

  return {
    /** Call for every connection the server accepts; call what it returns when that connection closes. */
    connected(): () => void {
      const at = now();
      if (streak === 0 && !accepted) streakSince = at;
      if (at - windowSince >= WAVE_MS) {
        if (open - before < WAVE_SPENT) wave = false;
        windowSince = at;
        before = open;
      }
      lastAccept = at;
      open += 1;
      if (open - before >= STORM_CONNECTIONS) wave = true;
      accepted = true;
      watch();
      return () => {
        open -= 1;
        before = Math.min(before, open);
      };
    },
    /** Starts a request now, or when the storm's accepting is over (or it has waited `maxWaitMs`). */
    admit(start: () => void): void {
      if (!streaking && !wave && waiting.length === 0) return start();
      waiting.push({ start, since: now() });
      watch();
    },
  };
}

/** Installs accept-first scheduling on the app's server as an onRequest hook (install it before the others); 0 turns it off. */
export function installAcceptFirst(app: FastifyInstance, maxWaitMs: number): void {
  if (maxWaitMs <= 0) return;
  const scheduler = createAcceptFirst(maxWaitMs, (error) => app.log.error({ err: error }, 'a request held through a connection storm failed to start'));
  (app.server as Server).on('connection', (socket: Socket) => socket.once('close', scheduler.connected()));
  app.addHook('onRequest', (_request, _reply, done) => scheduler.admit(done));
}
