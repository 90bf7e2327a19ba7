import { readSnapshot, type Db } from '../db/database.js';
import { AppError } from '../http/problem.js';
import { presentFeed } from './event.presenter.js';
import { FEED_START, laterOf, parseCursor, readFeed, type FeedCursor, type FeedFilter, type FeedRow } from './event.repository.js';
import type { EventFeedQuery, EventFeedResponse } from './event.schemas.js';

/** A page of the feed and where the next one starts. */
export interface FeedPage {
  rows: FeedRow[];
  next: FeedCursor;
  hasMore: boolean;
}

/**
 * Reads the feed after `after`: at most `limit` events, in commit order. `next` is the last
 * event's cursor while more follow; at the end it is the end of everything committed so far,
 * filtered or not, so that a reader polling with a filter does not scan again what it skipped.
 */
export async function readEvents(db: Db, after: FeedCursor, limit: number, filter: FeedFilter): Promise<FeedPage> {
  const { rows, end } = await readSnapshot(db, (trx) => readFeed(trx, after, limit + 1, filter));
  const hasMore = rows.length > limit;
  const page = hasMore ? rows.slice(0, limit) : rows;
  const last = page[page.length - 1]?.cursor ?? after;
  return { rows: page, next: hasMore ? last : laterOf(last, end), hasMore };
}

/** The staff feed: every event, optionally of some types or one ticket. */
export async function listEventsForStaff(db: Db, query: EventFeedQuery): Promise<EventFeedResponse> {
  const after = query.after === undefined ? FEED_START : parseCursor(query.after);
  if (!after) throw new AppError(422, 'validation failed', [{ location: 'query.after', message: 'expected a cursor from this feed', value: query.after }]);
  const page = await readEvents(db, after, query.limit ?? 100, { types: query.type, ticketId: query.ticket_id });
  return presentFeed(page.rows, page.next, page.hasMore);
}
