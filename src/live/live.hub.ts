import { durable, type Db } from '../db/database.js';
import { presentEvent } from '../events/event.presenter.js';
import { FEED_START, formatCursor, laterOf, type FeedCursor, type FeedRow } from '../events/event.repository.js';
import { readEvents } from '../events/event.service.js';
import { ticketStamps } from '../tickets/ticket.repository.js';
import { activePresence } from './presence.repository.js';
import type { TicketPresenceRow } from './presence.table.js';

/** One Server-Sent Events message, framed once however many streams carry it. */
export interface LiveMessage {
  event: string;
  text: string;
}

/** Frames a message: `id` only for events of the feed (presence is not in the log); JSON has no raw newline, so `data` is one line. */
export function frame(event: string, data: unknown, id?: string): LiveMessage {
  return { event, text: `${id === undefined ? '' : `id: ${id}\n`}event: ${event}\ndata: ${JSON.stringify(data)}\n\n` };
}

/** Who a stream is for: a customer (their own tickets, customer events) or staff (everything, or one ticket). */
export type Audience = { kind: 'customer'; tenantId: string; userId: string } | { kind: 'staff'; ticketId?: string | undefined };

/** An open stream as the hub sees it. */
export interface Subscriber {
  readonly audience: Audience;
  /** Where the stream stands in the feed; undefined until the hub places it at the end. */
  cursor: FeedCursor | undefined;
  /** Writes messages to the client; the hub never awaits the socket. */
  send(messages: LiveMessage[]): void;
  /** Writes an SSE comment, to keep proxies from closing an idle connection. */
  heartbeat(): void;
}

interface State {
  subscriber: Subscriber;
  caughtUp: boolean;
  presenceSent: boolean;
}

const PAGE = 500;
// Pages a resuming stream may read per round, so that one far-behind stream does not hold up the others.
const CATCH_UP_PAGES = 20;
const HEARTBEAT_MS = 15_000;
// Writes through this instance wake the hub; under a burst of them it reads at most this often.
const MIN_ROUND_GAP_MS = 50;
// No ticket has this id (ids are UUIDv7): reading the feed filtered to it returns only where the feed ends.
const NO_TICKET = '00000000-0000-0000-0000-000000000000';

export interface LiveHub {
  /** Adds a stream; it gets the events after its cursor (or from now on) and, for staff, presence. */
  subscribe(subscriber: Subscriber): () => void;
  /** Reads the feed soon: something was written through this instance. */
  wake(): void;
  readonly size: number;
  close(): Promise<void>;
}

/**
 * The one reader of the events feed in this process, shared by every open stream: each round it
 * reads what was committed since its last round (one query, however many streams are open), and
 * hands each stream the events it may see. Instances share nothing but the database: each tails
 * the feed itself, so an event written through another instance reaches this one's streams at
 * the next round. Rounds run while a stream is open, every `pollMs`, and at once after a write
 * through this instance; with no stream open the hub does not touch the database.
 */
export function createLiveHub(db: Db, options: { pollMs: number; onError: (error: unknown) => void }): LiveHub {
  const streams = new Set<State>();
  let head: FeedCursor | undefined;
  // Set when the last stream closed: the next first stream starts from the end, not from a stale head.
  let restart = false;
  let running: Promise<void> | undefined;
  let again = false;
  let timer: NodeJS.Timeout | undefined;
  let heartbeats: NodeJS.Timeout | undefined;
  let closed = false;
  // What the staff streams were last told about each ticket's agents.
  let presence = new Map<string, string>();

  const schedule = (delay: number) => {
    if (closed || streams.size === 0 || timer) return;
    timer = setTimeout(() => {
      timer = undefined;
      run();
    }, delay);
  };

  let lastRound = 0;
  const run = () => {
    if (running) {
      again = true;
      return;
    }
    const wait = lastRound + MIN_ROUND_GAP_MS - performance.now();
    if (wait > 0) {
      // Soon, once: the timer already set (a poll or an earlier wake) is moved up, not doubled.
      clearTimeout(timer);
      timer = undefined;
      return schedule(wait);
    }
    lastRound = performance.now();
    running = round()
      .catch(options.onError)
      .finally(() => {
        running = undefined;
        if (again) {
          again = false;
          run();
        } else schedule(options.pollMs);
      });
  };

  /**
   * One round: reads, then tells. Where each stream stands moves only once its messages are
   * handed to it, so a round that fails halfway (the database went away) is read again whole
   * next time, and nothing is skipped.
   */
  async function round(): Promise<void> {
    if (streams.size === 0) return;
    if (!head || restart) {
      restart = false;
      head = (await readEvents(db, FEED_START, 1, { ticketId: NO_TICKET })).next;
    }
    let at: FeedCursor = head;
    const outbox = new Map<State, LiveMessage[]>();
    const moved = new Map<State, { cursor: FeedCursor; caughtUp: boolean }>();
    const placeOf = (state: State) => moved.get(state) ?? { cursor: state.subscriber.cursor, caughtUp: state.caughtUp };
    const framed = new Map<FeedRow, LiveMessage>();
    const messageOf = (row: FeedRow): LiveMessage => {
      let message = framed.get(row);
      if (!message) framed.set(row, (message = frame(row.type, presentEvent(row), formatCursor(row.cursor))));
      return message;
    };
    const post = (state: State, message: LiveMessage) => {
      const list = outbox.get(state);
      if (list) list.push(message);
      else outbox.set(state, [message]);
    };

    // A resuming stream reads its own filtered feed up to where the hub stands; one that did
    // not resume starts where the hub stands.
    for (const state of [...streams]) {
      if (state.caughtUp) continue;
      const { audience } = state.subscriber;
      let cursor = state.subscriber.cursor;
      if (!cursor) {
        moved.set(state, { cursor: at, caughtUp: true });
        continue;
      }
      let caughtUp = false;
      for (let page = 0; page < CATCH_UP_PAGES && !caughtUp; page++) {
        const read = await readEvents(db, cursor, PAGE, filterOf(audience));
        for (const row of read.rows) post(state, messageOf(row));
        cursor = read.next;
        // The end of an unfiltered read is the end of the whole feed, at or after the hub's head.
        caughtUp = !read.hasMore;
      }
      moved.set(state, { cursor, caughtUp });
      // Far behind: the rest at once, not at the next poll.
      if (!caughtUp) again = true;
    }

    // What was committed since the last round, read once for every stream.
    for (;;) {
      const live = [...streams].filter((state) => placeOf(state).caughtUp);
      const read = await readEvents(db, at, PAGE, {});
      const owners = live.some((state) => state.subscriber.audience.kind === 'customer') ? await ownersOf(read.rows) : new Map<string, Owner>();
      for (const row of read.rows) {
        for (const state of live) {
          if (compareCursors(row.cursor, placeOf(state).cursor as FeedCursor) <= 0 || !sees(state.subscriber.audience, row, owners)) continue;
          post(state, messageOf(row));
        }
      }
      for (const state of live) moved.set(state, { cursor: laterOf(placeOf(state).cursor as FeedCursor, read.next), caughtUp: true });
      at = read.next;
      if (!read.hasMore) break;
    }

    const presenceTold = await presenceRound(post);

    // Under SQLite group commit, nothing is told before the commits it shows are on disk.
    await durable(db);
    head = at;
    presenceTold();
    for (const [state, place] of moved) {
      state.subscriber.cursor = place.cursor;
      state.caughtUp = place.caughtUp;
    }
    for (const [state, messages] of outbox) if (streams.has(state)) state.subscriber.send(messages);
  }

  /** Posts what staff streams should hear about agents; returns what to remember once it is sent. */
  async function presenceRound(post: (state: State, message: LiveMessage) => void): Promise<() => void> {
    const staff = [...streams].filter((state) => state.subscriber.audience.kind === 'staff');
    if (staff.length === 0) {
      return () => {
        presence = new Map();
      };
    }
    const rows = await activePresence(db, new Date().toISOString());
    const now = new Map<string, TicketPresenceRow[]>();
    for (const row of rows) now.set(row.ticket_id, [...(now.get(row.ticket_id) ?? []), row]);
    const signatures = new Map([...now].map(([ticketId, agents]) => [ticketId, JSON.stringify(agents.map((a) => [a.user_id, a.state]))]));
    const changed = new Set([...signatures].filter(([ticketId, signature]) => presence.get(ticketId) !== signature).map(([ticketId]) => ticketId));
    for (const ticketId of presence.keys()) if (!signatures.has(ticketId)) changed.add(ticketId);
    const framed = new Map<string, LiveMessage>();
    const messageOf = (ticketId: string): LiveMessage => {
      let message = framed.get(ticketId);
      if (!message) framed.set(ticketId, (message = frame('presence', presenceMessage(ticketId, now.get(ticketId) ?? []))));
      return message;
    };
    const told: State[] = [];
    for (const state of staff) {
      const { ticketId } = state.subscriber.audience as { ticketId?: string };
      // A new stream hears of every agent already there; the others hear of changes.
      const tickets = state.presenceSent ? changed : new Set(now.keys());
      told.push(state);
      for (const id of tickets) {
        if (ticketId && id !== ticketId) continue;
        post(state, messageOf(id));
      }
    }
    return () => {
      presence = signatures;
      for (const state of told) state.presenceSent = true;
    };
  }

  return {
    subscribe(subscriber) {
      if (closed) throw new Error('the live hub is closed');
      const state: State = { subscriber, caughtUp: false, presenceSent: false };
      streams.add(state);
      heartbeats ??= setInterval(() => {
        for (const { subscriber: s } of streams) s.heartbeat();
      }, HEARTBEAT_MS);
      run();
      return () => {
        streams.delete(state);
        if (streams.size > 0) return;
        clearInterval(heartbeats);
        heartbeats = undefined;
        restart = true;
        presence = new Map();
      };
    },
    wake() {
      if (streams.size > 0) run();
    },
    get size() {
      return streams.size;
    },
    async close() {
      closed = true;
      clearTimeout(timer);
      clearInterval(heartbeats);
      await running;
    },
  };

  async function ownersOf(rows: FeedRow[]): Promise<Map<string, Owner>> {
    const ids = [...new Set(rows.filter((row) => row.audience === 'customer').map((row) => row.ticket_id))];
    return ids.length === 0 ? new Map() : ticketStamps(db, ids);
  }
}

type Owner = { tenant_id: string; created_by: string };

function filterOf(audience: Audience) {
  return audience.kind === 'customer' ? { customer: { tenantId: audience.tenantId, userId: audience.userId } } : { ticketId: audience.ticketId };
}

/** Whether a stream may carry an event: a customer only their own tickets' customer events. */
function sees(audience: Audience, row: FeedRow, owners: Map<string, Owner>): boolean {
  if (audience.kind === 'staff') return !audience.ticketId || audience.ticketId === row.ticket_id;
  if (row.audience !== 'customer' || row.tenant_id !== audience.tenantId) return false;
  const owner = owners.get(row.ticket_id);
  return owner !== undefined && owner.tenant_id === audience.tenantId && owner.created_by === audience.userId;
}

function presenceMessage(ticketId: string, agents: TicketPresenceRow[]) {
  return {
    ticket_id: ticketId,
    agents: agents.map((agent) => ({ user_id: agent.user_id, email: agent.email, state: agent.state, expires_at: agent.expires_at })),
  };
}

function compareCursors(a: FeedCursor, b: FeedCursor): number {
  const byTxid = BigInt(a.txid) - BigInt(b.txid);
  const delta = byTxid !== 0n ? byTxid : BigInt(a.seq) - BigInt(b.seq);
  return delta < 0n ? -1 : delta > 0n ? 1 : 0;
}
