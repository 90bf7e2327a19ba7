import { decodeJwt } from 'jose';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Db } from '../db/database.js';
import { parseCursor, type FeedCursor } from '../events/event.repository.js';
import type { Actor } from '../http/auth.js';
import { AppError, notFound } from '../http/problem.js';
import { schemaUrl } from '../http/schemas.js';
import { ALL_TENANTS, findTicket } from '../tickets/ticket.repository.js';
import { createLiveHub, frame, type Audience, type LiveHub, type LiveMessage } from './live.hub.js';
import type { TicketPresence } from './live.schemas.js';
import { activePresence, deletePresence, pruneExpiredPresence, upsertPresence } from './presence.repository.js';
import type { PresenceState } from './presence.table.js';

/** How long an announcement keeps an agent on a ticket without being renewed. */
export const PRESENCE_TTL_MS = 30_000;
// What an SSE client waits before reconnecting after the connection drops.
const RETRY_MS = 3_000;
const MAX_TIMER_MS = 2 ** 31 - 1;
const MAX_BUFFERED_BYTES = 1024 * 1024;

export interface LiveLimits {
  streamsPerUser: number;
  streamsPerInstance: number;
  pollMs: number;
}

/** Where a stream starts: the Last-Event-ID header, else the `last_event_id` query parameter, else now. */
export interface StreamStart {
  header: string | undefined;
  query: string | undefined;
}

/** The PostgreSQL channel notified when a transaction writes events or presence (migration 023). */
export const LIVE_CHANNEL = 'helpdesk_live';

export interface LiveStreams {
  /** Answers the request with an event stream for `actor` (or a problem before anything is sent). */
  open(request: FastifyRequest, reply: FastifyReply, audience: Audience, start: StreamStart): void;
  /** Reads the feed soon (a write went through this instance). */
  wake(): void;
  /** Ends every stream (the server is shutting down) and stops the hub. */
  close(): Promise<void>;
}

/**
 * The live streams of this instance: caps per user and per instance, Server-Sent Events framing,
 * the end of a stream when its token expires; the events and agents come from the one hub.
 */
export function createLiveStreams(db: Db, limits: LiveLimits, onError: (error: unknown) => void): LiveStreams {
  const hub: LiveHub = createLiveHub(db, { pollMs: limits.pollMs, onError });
  const perUser = new Map<string, number>();
  const ends = new Set<() => void>();

  return {
    open(request, reply, audience, start) {
      const actor = request.actor as Actor;
      const cursor = startOf(start);
      const open = perUser.get(actor.userId) ?? 0;
      if (open >= limits.streamsPerUser) {
        throw new AppError(429, `at most ${limits.streamsPerUser} live streams per user may be open at once; close one first`, undefined, { 'retry-after': '5' });
      }
      if (hub.size >= limits.streamsPerInstance) {
        throw new AppError(429, 'this server holds as many live streams as it may; retry shortly', undefined, { 'retry-after': '5' });
      }
      // The token was verified for this request: the stream lives no longer than it does.
      const expiresAt = tokenExpiry(request);
      perUser.set(actor.userId, open + 1);

      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        ...(reply.getHeaders() as Record<string, string>),
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        'x-accel-buffering': 'no',
        // The connection ends with the stream: a server shutting down does not wait for an idle keep-alive.
        connection: 'close',
        'x-request-id': request.id,
      });
      res.write(`retry: ${RETRY_MS}\n: connected\n\n`);

      let ended = false;
      const end = (final?: LiveMessage) => {
        if (ended) return;
        ended = true;
        unsubscribe();
        clearTimeout(expiry);
        ends.delete(end);
        const left = (perUser.get(actor.userId) ?? 1) - 1;
        if (left > 0) perUser.set(actor.userId, left);
        else perUser.delete(actor.userId);
        if (final && !res.destroyed) res.write(final.text);
        res.end();
      };
      ends.add(end);
      let expiry: NodeJS.Timeout | undefined;
      // A timer longer than 2^31-1 ms fires at once: a far expiry is reached in steps.
      const expireAt = () => {
        const left = expiresAt - Date.now();
        expiry = left > MAX_TIMER_MS ? setTimeout(expireAt, MAX_TIMER_MS) : setTimeout(() => end(frame('expired', { detail: 'the token has expired: reconnect with a fresh one' })), Math.max(0, left));
      };
      expireAt();
      const unsubscribe = hub.subscribe({
        audience,
        cursor,
        send: (messages) => {
          if (ended || res.destroyed) return;
          // A client that does not read is cut off rather than buffered for without end: it
          // reconnects with Last-Event-ID and reads the rest from the feed.
          if (res.writableLength > MAX_BUFFERED_BYTES) return end();
          res.write(messages.length === 1 ? (messages[0] as LiveMessage).text : messages.map((message) => message.text).join(''));
        },
        heartbeat: () => {
          if (!ended && !res.destroyed) res.write(': heartbeat\n\n');
        },
      });
      request.raw.on('close', () => end());
      res.on('close', () => end());
    },
    wake: () => hub.wake(),
    async close() {
      for (const end of [...ends]) end();
      await hub.close();
    },
  };
}

function startOf(start: StreamStart): FeedCursor | undefined {
  const [text, location] = start.header !== undefined ? [start.header, 'header.last-event-id'] : [start.query, 'query.last_event_id'];
  if (text === undefined) return undefined;
  const cursor = parseCursor(text.trim());
  if (!cursor) throw new AppError(422, 'validation failed', [{ location, message: 'expected the id of an event from this stream', value: text }]);
  return cursor;
}

function tokenExpiry(request: FastifyRequest): number {
  const token = /^Bearer[ ]+([^\s]+)/i.exec(request.headers.authorization ?? '')?.[1];
  const exp = token ? decodeJwt(token).exp : undefined;
  // Verification required `exp`; a token without one never got this far.
  return typeof exp === 'number' ? exp * 1000 : Date.now();
}

/**
 * Announces that `actor` is viewing or replying to a ticket for the next 30 s; the staff streams
 * of every instance carry it. Answers every agent on the ticket now.
 */
export async function announcePresence(db: Db, actor: Actor, ticketId: string, state: PresenceState): Promise<TicketPresence> {
  const ticket = await findTicket(db, ticketId, ALL_TENANTS);
  if (!ticket) throw notFound();
  const now = new Date();
  await upsertPresence(db, {
    ticket_id: ticket.id,
    user_id: actor.userId,
    email: actor.email,
    state,
    expires_at: new Date(now.getTime() + PRESENCE_TTL_MS).toISOString(),
  });
  await pruneExpiredPresence(db, now.toISOString());
  const agents = await activePresence(db, now.toISOString(), [ticket.id]);
  return {
    $schema: schemaUrl('TicketPresence'),
    ticket_id: ticket.id,
    agents: agents.map(({ user_id, email, state: doing, expires_at }) => ({ user_id, email, state: doing, expires_at })),
  };
}

/** Takes `actor` off a ticket at once. */
export async function leavePresence(db: Db, actor: Actor, ticketId: string): Promise<void> {
  const ticket = await findTicket(db, ticketId, ALL_TENANTS);
  if (!ticket) throw notFound();
  await deletePresence(db, ticket.id, actor.userId);
}
