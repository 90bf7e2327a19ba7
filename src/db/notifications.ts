import { sql } from 'kysely';
import pg from 'pg';
import type { Db } from './database.js';

/** A PostgreSQL LISTEN held open on a connection of its own. */
export interface Listener {
  /** Stops listening and closes the connection. */
  stop(): Promise<void>;
}

const RETRY_MIN_MS = 500;
const RETRY_MAX_MS = 30_000;

/**
 * Calls `onNotify` whenever `channel` is notified on the PostgreSQL server at `url`: a LISTEN on
 * a connection outside the pool, opened again (with a growing pause) when it drops. A
 * notification sent while the connection was down is lost, so `onNotify` is also called after
 * every (re)connection: a listener treats a notification as a hint to read again, never as data.
 */
export function listenPostgres(url: string, channel: string, onNotify: () => void, onError: (error: unknown) => void): Listener {
  let client: pg.Client | undefined;
  let stopped = false;
  let retry: NodeJS.Timeout | undefined;
  let pause = RETRY_MIN_MS;

  const connect = async (): Promise<void> => {
    const next = new pg.Client({ connectionString: url });
    client = next;
    next.on('notification', (message) => {
      if (message.channel === channel) onNotify();
    });
    // Never thrown: a dropped connection is reported and opened again.
    next.on('error', (error) => {
      onError(error);
      again(next);
    });
    next.on('end', () => again(next));
    try {
      await next.connect();
      await next.query(`listen ${pg.escapeIdentifier(channel)}`);
      pause = RETRY_MIN_MS;
      onNotify();
    } catch (error) {
      onError(error);
      again(next);
    }
  };

  const again = (lost: pg.Client): void => {
    if (stopped || client !== lost || retry) return;
    client = undefined;
    void lost.end().catch(() => {});
    retry = setTimeout(() => {
      retry = undefined;
      void connect();
    }, pause);
    retry.unref();
    pause = Math.min(pause * 2, RETRY_MAX_MS);
  };

  void connect();
  return {
    async stop() {
      stopped = true;
      clearTimeout(retry);
      const last = client;
      client = undefined;
      await last?.end().catch(() => {});
    },
  };
}

/** Sends notifications on a channel after writes; see createNotifier. */
export interface Notifier {
  /** Something was written and has committed: listeners should read again. */
  signal(): void;
  /** Sends what is owed and stops. */
  stop(): Promise<void>;
}

/**
 * Notifies `channel` after writes, off their transactions: `signal()` sends one notification at
 * once when none is on its way, and while one is, one more after it, at most one per `minGapMs`,
 * however many writes signal meanwhile. A notification sent from inside a writing transaction
 * would make its commit wait for the server's notification lock, held by every other notifying
 * commit through its disk flush. Each is sent in a statement of its own, which writes nothing to
 * the log but its commit record, and PostgreSQL waits for no flush of that (200 of them: one log
 * flush, from its background writer): a notification lost in a crash only leaves listeners to
 * their next poll, as a dropped LISTEN connection does (listenPostgres).
 */
export function createNotifier(db: Db, channel: string, options: { minGapMs: number; onError: (error: unknown) => void }): Notifier {
  let owed = false;
  let stopped = false;
  let sending: Promise<void> | undefined;
  const send = async (): Promise<void> => {
    while (owed) {
      owed = false;
      const started = Date.now();
      try {
        await sql`select pg_notify(${channel}, '')`.execute(db);
      } catch (error) {
        options.onError(error);
      }
      const pause = options.minGapMs - (Date.now() - started);
      if (owed && !stopped && pause > 0) await new Promise((resolve) => setTimeout(resolve, pause).unref());
    }
    sending = undefined;
  };
  return {
    signal() {
      if (stopped) return;
      owed = true;
      sending ??= send();
    },
    async stop() {
      stopped = true;
      await sending;
    },
  };
}
