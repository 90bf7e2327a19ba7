import { sql } from 'kysely';
import { dialectOf, type Db } from '../db/database.js';
import { FEED_START, formatCursor, laterOf, parseCursor, readFeed, type FeedFilter, type FeedRow } from './event.repository.js';

export interface ConsumeOptions {
  /** Events handed over per transaction (default 100). */
  batch?: number;
  filter?: FeedFilter;
}

/**
 * Hands the events after consumer `name`'s cursor to `handle` inside one transaction, moves the
 * cursor past them and commits: whatever `handle` writes with `trx` (deliveries, an outbox)
 * exists exactly when the cursor has moved, so each event is acted on once, through crashes and
 * across instances. A new consumer starts at the end of the feed: it hears what happens from now
 * on, not the history. On PostgreSQL the consumer's row is locked for the transaction; an
 * instance that finds it locked returns 0 at once (SKIP LOCKED) rather than wait. Returns how
 * many events `handle` was given. Keep `handle` to database writes: send nothing from it.
 */
export async function consumeEvents(
  db: Db,
  name: string,
  handle: (trx: Db, rows: FeedRow[]) => Promise<void>,
  options: ConsumeOptions = {},
): Promise<number> {
  const batch = options.batch ?? 100;
  const postgres = dialectOf(db) === 'postgres';
  try {
    // One snapshot for the page and the end of the feed, as readEvents reads them: a cursor moved
    // to an end seen later than the page could pass events the page did not show.
    return await db
      .transaction()
      .setIsolationLevel('repeatable read')
      .execute(async (trx) => {
        const claim = postgres ? sql`for update skip locked` : sql``;
        const { rows: held } = await sql<{ position: string }>`select position from event_consumers where name = ${name} ${claim}`.execute(trx);
        const position = held[0]?.position;
        if (position === undefined) {
          const { rows: exists } = await sql`select 1 from event_consumers where name = ${name}`.execute(trx);
          if (exists.length === 0) {
            const { end } = await readFeed(trx, FEED_START, 0, {});
            await sql`insert into event_consumers (name, position, updated_at) values (${name}, ${formatCursor(end)}, ${new Date().toISOString()})
              on conflict (name) do nothing`.execute(trx);
          }
          return 0;
        }
        const after = parseCursor(position) ?? FEED_START;
        const { rows, end } = await readFeed(trx, after, batch + 1, options.filter ?? {});
        const full = rows.length > batch;
        const page = full ? rows.slice(0, batch) : rows;
        const last = page[page.length - 1]?.cursor ?? after;
        const next = full ? last : laterOf(last, end);
        if (page.length > 0) await handle(trx, page);
        if (formatCursor(next) !== position) {
          await sql`update event_consumers set position = ${formatCursor(next)}, updated_at = ${new Date().toISOString()}
            where name = ${name}`.execute(trx);
        }
        return page.length;
      });
  } catch (error) {
    // Repeatable read: another instance moved this cursor between our snapshot and our lock.
    if (postgres && (error as { code?: string }).code === '40001') return 0;
    throw error;
  }
}

export interface ConsumerLoop {
  /** Runs a round now instead of at the next tick (say, after this instance wrote an event). */
  wake(): void;
  /** Stops the loop; resolves once a round under way has finished. */
  stop(): Promise<void>;
}

/**
 * Calls `round` every `intervalMs`, and again at once while it reports a full batch, one round at
 * a time. A failing round is reported to `onError` and retried at the next tick.
 */
export function startConsumerLoop(round: () => Promise<number>, options: { intervalMs: number; batch: number; onError: (error: unknown) => void }): ConsumerLoop {
  let stopped = false;
  let running: Promise<void> | undefined;
  let again = false;
  const run = (): void => {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = (async () => {
      try {
        do {
          again = false;
          if ((await round()) >= options.batch) again = true;
        } while (again && !stopped);
      } catch (error) {
        options.onError(error);
      } finally {
        running = undefined;
      }
    })();
  };
  const timer = setInterval(run, options.intervalMs);
  timer.unref();
  return {
    wake: run,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
