import { sql, type QueryCreator, type RawBuilder, type SelectQueryBuilder, type SqlBool } from 'kysely';
import { countRows, type Database, type Db, type Dialect } from '../db/database.js';
import { UNSOLVED_STATUSES, type TicketPriority, type TicketRow, type TicketStatus, type TicketType, type WaitingOn } from '../tickets/ticket.table.js';
import type { UserRow } from '../users/user.table.js';
import { countFromTallies } from '../tickets/ticket.tallies.js';
import { indexQueuedSearches } from '../search/search.queue.js';
import { SUMMARY_COLUMNS } from '../tickets/ticket.repository.js';
import { facetToken, postgresFacetLexeme, type FacetPrefix } from '../search/search.documents.js';
import { changeMark, changesSince } from '../events/event.repository.js';

/** The staff queue's filters, already resolved (`me` is a user id by now). */
export interface QueueFilter {
  /** Any of these statuses. */
  status?: TicketStatus[] | undefined;
  /** Whose move it is (tickets/ticket.changes.ts); not kept in the search documents. */
  waitingOn?: WaitingOn | undefined;
  /** The ticket with this number (a search for `#1042`). */
  number?: number | undefined;
  type?: TicketType | undefined;
  priority?: TicketPriority | undefined;
  /** A user id, or null for unassigned tickets. */
  assignedTo?: string | null | undefined;
  tenantId?: string | undefined;
  createdBy?: string | undefined;
  /** Words that must each begin a word of the title, description or a comment (see searchWords). */
  words?: string[] | undefined;
}

/** `relevance` is for searches only: see relevanceTier. */
export type QueueSort = { field: 'created_at' | 'updated_at' | 'priority' | 'waiting_since' | 'relevance'; direction: 'asc' | 'desc' };

/**
 * A search hit's relevance: 3 when every word begins a word of its title, 2 when each begins a
 * word of its title or description, 1 when some are only in comments. The page sorts by it,
 * then by `updated_at`, both descending. Worked out from the ticket's own columns for each hit
 * (the index only finds them): a word begins a word when what comes before it is not a letter
 * or digit. SQLite's lower() folds ASCII only, and its GLOB sees only ASCII letters and digits
 * as such, so a word after a non-ASCII letter can rank higher there than on PostgreSQL: the
 * order can differ for such text, never the hits.
 */
function relevanceTier(dialect: Dialect, words: string[]): RawBuilder<number> {
  const begins = (column: RawBuilder<unknown>, word: string) =>
    dialect === 'sqlite'
      ? sql`(' ' || lower(${column})) glob ${`*[^0-9a-z]${word}*`}`
      : sql`(' ' || lower(${column})) ~ ${`[^[:alnum:]]${word}`}`;
  const all = (column: RawBuilder<unknown>) => sql.join(words.map((word) => begins(column, word)), sql` and `);
  const title = sql`tickets.title`;
  const titleAndDescription = sql`(tickets.title || ' ' || tickets.description)`;
  return sql<number>`(case when ${all(title)} then 3 when ${all(titleAndDescription)} then 2 else 1 end)`;
}

// The customer's summary columns, plus whose ticket it is, the internal note count and what
// needs attention.
export const QUEUE_COLUMNS = [
  ...SUMMARY_COLUMNS,
  'tenant_id',
  'created_by',
  'internal_comment_count',
  'waiting_since',
  'last_message_from',
  'last_customer_message_at',
  'last_staff_reply_at',
  'last_message_preview',
] as const;
export type QueueRow = Pick<TicketRow, (typeof QUEUE_COLUMNS)[number]>;

// Priority is stored by name; this ranks it for sorting. Migration 005 indexes this very
// expression (with updated_at): keep the two identical.
export const PRIORITY_RANK = sql<number>`case priority when 'urgent' then 4 when 'high' then 3 when 'normal' then 2 else 1 end`;

/**
 * Tickets where every one of `words` starts a word of the title, description or a comment:
 * one full-text query over one document per ticket, FTS5 on SQLite (migrations 006 and 015), a
 * GIN index over tsvectors on PostgreSQL (migrations 008 and 016). The query also carries the
 * column filters as facets, so its hits are the answer, not candidates.
 */
function matchesWords(dialect: Dialect, filter: QueueFilter, words: string[], plan: SearchPlan): RawBuilder<SqlBool> {
  if (dialect === 'sqlite') {
    // Dense (see listQueue): the query walks a sort index and keeps each ticket whose document
    // is among the hits; SQLite collects the hits' document ids once, and each ticket walked
    // past costs one lookup of its document id. Sparse: the hits drive the query, each joined
    // to its ticket. From `hits`: as read once by searchPageAndTotal.
    const match = sql`ticket_search match ${ftsQuery(words, filter)}`;
    if (plan.dense) {
      const hits = plan.fromHits ? sql`select doc_id from hits` : sql`select rowid from ticket_search where ${match}`;
      return sql<SqlBool>`(select d.doc_id from ticket_search_docs d where d.ticket_id = tickets.id) in (${hits})`;
    }
    return plan.fromHits
      ? sql<SqlBool>`tickets.id in (select d.ticket_id from hits h join ticket_search_docs d on d.doc_id = h.doc_id)`
      : sql<SqlBool>`tickets.id in (select d.ticket_id from ticket_search s join ticket_search_docs d on d.doc_id = s.rowid where ${match})`;
  }
  // Dense on PostgreSQL: each ticket walked (in the sort's index order, through the other
  // filters) has its document looked up by key and tested; a subquery per row, so that the
  // planner cannot turn it back into a join over every hit. The query is evaluated once.
  if (plan.dense) return sql<SqlBool>`(select d.search from ticket_search_docs d where d.ticket_id = tickets.id) @@ (select ${tsQuery(words, filter)})`;
  // Sparse: the hits, found once through the GIN index, then their tickets by key. As an
  // array, so that the planner cannot walk the sort's index probing every ticket's document,
  // as it chose to from its estimate of a prefix's hits (1.7 s for a word in 454 tickets).
  return sql<SqlBool>`tickets.id = any(array(select ticket_id from ticket_search_docs where search @@ ${tsQuery(words, filter)}))`;
}

/** How a SQLite search reads its page (see listQueue and searchPageAndTotal). */
interface SearchPlan {
  dense: boolean;
  fromHits: boolean;
}

/** The filter's values by facet prefix (migrations 015 and 016), any of each; null is "unassigned". */
function facets(filter: QueueFilter): Array<[FacetPrefix, Array<string | null>]> {
  const all: Array<[FacetPrefix, Array<string | null> | undefined]> = [
    ['s', filter.status],
    ['y', filter.type === undefined ? undefined : [filter.type]],
    ['p', filter.priority === undefined ? undefined : [filter.priority]],
    ['a', filter.assignedTo === undefined ? undefined : [filter.assignedTo]],
    ['t', filter.tenantId === undefined ? undefined : [filter.tenantId]],
    ['c', filter.createdBy === undefined ? undefined : [filter.createdBy]],
  ];
  return all.filter((facet): facet is [FacetPrefix, Array<string | null>] => facet[1] !== undefined);
}

const anyOf = (terms: string[], or: string) => (terms.length === 1 ? (terms[0] as string) : `(${terms.join(or)})`);

/** Whether a filter is all facets: a search's total is then a count of its matching documents. */
const onlyFacets = (filter: QueueFilter) => filter.waitingOn === undefined && filter.number === undefined;

// Words are runs of letters and digits (searchWords), so neither query language can see an
// operator in them; each must begin a word of the text, and every facet is required.
function ftsQuery(words: string[], filter: QueueFilter): string {
  const tokens = facets(filter).map(([prefix, values]) => anyOf(values.map((value) => `"${facetToken(prefix, value)}"`), ' OR '));
  const text = `body : (${words.map((word) => `"${word}"*`).join(' AND ')})`;
  return tokens.length === 0 ? text : `${text} AND facets : (${tokens.join(' AND ')})`;
}
function tsQuery(words: string[], filter: QueueFilter): RawBuilder<unknown> {
  const text = sql`to_tsquery('simple', ${words.map((word) => `${word}:*`).join(' & ')})`;
  const lexemes = facets(filter).map(([prefix, values]) => anyOf(values.map((value) => postgresFacetLexeme(prefix, value)), ' | '));
  // Cast, not to_tsquery: the lexemes are taken as they are, not normalised (only `=`,
  // letters and digits, so no operator either).
  const query = lexemes.length === 0 ? text : sql`(${text} && ${lexemes.join(' & ')}::tsquery)`;
  // A word the parser keeps no lexeme of (`²`) would drop out, leaving the other words or only the
  // filters to match; it can begin no word of any text, so the search matches nothing, as on SQLite.
  const indexable = sql.join(words.map((word) => sql`numnode(to_tsquery('simple', ${`${word}:*`})) > 0`), sql` and `);
  return sql`(case when ${indexable} then ${query} else ''::tsquery end)`;
}

/** The ticket number a search names (`#1042`), if that is all it is. */
export function searchedNumber(q: string): number | undefined {
  const match = /^\s*#(\d{1,9})\s*$/.exec(q);
  return match ? Number(match[1]) : undefined;
}

/** The words of a search: runs of letters and digits, lower-cased. */
export function searchWords(q: string): string[] {
  return (q.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []).slice(0, 10);
}

/**
 * The queue's filters. On SQLite, when the page is sorted by something other than
 * `updated_at`, the low-cardinality columns (status, type, priority, assignee) are written as
 * `+column`, which keeps the planner from using their indexes: it then walks the sort's own
 * index and stops after one page, where it would otherwise collect and sort every open ticket
 * (a cost that grows with the desk). Tenant and creator stay indexable.
 */
function queue(db: QueryCreator<Database>, dialect: Dialect, filter: QueueFilter, sortField: QueueSort['field'] = 'updated_at', plan: SearchPlan = { dense: false, fromHits: false }) {
  const words = filter.words;
  // Ranked by relevance, every hit is ranked: there is no sort index to walk.
  const walkSortIndex = dialect === 'sqlite' && sortField !== 'updated_at' && sortField !== 'relevance';
  // Sorted by wait, the assignee narrows the walk: the waiting indexes begin with it.
  const indexable = (name: string) => name === 'assigned_to' && sortField === 'waiting_since';
  const col = (name: 'status' | 'type' | 'priority' | 'assigned_to') => (walkSortIndex && !indexable(name) ? sql`+${sql.ref(name)}` : sql.ref(name));
  return db
    .selectFrom('tickets')
    .$if(filter.status !== undefined, (qb) => qb.where(col('status'), 'in', filter.status as TicketStatus[]))
    .$if(filter.waitingOn !== undefined, (qb) => qb.where('waiting_on', '=', filter.waitingOn as WaitingOn))
    .$if(filter.number !== undefined, (qb) => qb.where('number', '=', filter.number as number))
    // Someone waits on exactly the unsolved tickets (ticket.changes.ts): said outright, the
    // waiting indexes (partial on it, migration 026) serve these views sorted by wait.
    .$if(sortField === 'waiting_since' && waitsOnly(filter), (qb) => qb.where('waiting_since', 'is not', null))
    .$if(filter.type !== undefined, (qb) => qb.where(col('type'), '=', filter.type as TicketType))
    .$if(filter.priority !== undefined, (qb) => qb.where(col('priority'), '=', filter.priority as TicketPriority))
    .$if(filter.assignedTo === null, (qb) => qb.where(col('assigned_to'), 'is', null))
    .$if(typeof filter.assignedTo === 'string', (qb) => qb.where(col('assigned_to'), '=', filter.assignedTo as string))
    .$if(filter.tenantId !== undefined, (qb) => qb.where('tenant_id', '=', filter.tenantId as string))
    .$if(filter.createdBy !== undefined, (qb) => qb.where('created_by', '=', filter.createdBy as string))
    // A search with no searchable word in it matches nothing.
    .$if(words !== undefined && words.length === 0, (qb) => qb.where(sql<SqlBool>`1 = 0`))
    .$if(words !== undefined && words.length > 0, (qb) => qb.where(matchesWords(dialect, filter, words ?? [], plan)));
}

/**
 * One page of the staff queue. For a search on SQLite, `matching` (the total) picks the plan:
 * a few hits are fetched and sorted; many are better found by walking the sort's index over
 * the tickets its indexable filters select, keeping the hits, which stops after one page (it
 * passes `filtered / matching` tickets per hit kept). The crossover follows from the measured
 * cost of a hit fetched and sorted against that of a ticket walked past (docs/PERFORMANCE.md,
 * the search's page plan). A search's queued documents were indexed by countQueue, which the
 * caller runs first in the same snapshot.
 */
export async function listQueue(
  db: Db,
  dialect: Dialect,
  filter: QueueFilter,
  sort: QueueSort,
  page: { limit: number; offset: number },
  matching?: number,
  /** `matching` is a count stopped at a bound: there may be many more. */
  atLeast = false,
): Promise<QueueRow[]> {
  // Past the bound the hits are too many to fetch (a common word: 213,000 at 1,000,000
  // tickets), whatever the bound: walk the sort, unless every hit must be ranked.
  const dense = filter.words !== undefined && matching !== undefined && ((atLeast && sort.field !== 'relevance') || (await denseSearch(db, filter, sort, page, matching)));
  return inPages(queue(db, dialect, filter, sort.field, { dense, fromHits: false }).select(QUEUE_COLUMNS), sort, page, filter, dialect).execute();
}

/** Whether a SQLite search with `matching` hits reads its page by walking the sort (listQueue). */
async function denseSearch(db: Db, filter: QueueFilter, sort: QueueSort, page: { limit: number; offset: number }, matching: number): Promise<boolean> {
  if (sort.field === 'relevance') return false;
  // The tickets the walk passes: those the indexable filters select. Sorted by anything but
  // updated_at, the low-cardinality filters are not indexable (see queue): only tenant and
  // customer narrow the walk.
  const { words: _words, waitingOn: _waitingOn, number: _number, ...columns } = filter;
  const walked = sort.field === 'updated_at' ? columns : { tenantId: columns.tenantId, createdBy: columns.createdBy };
  const filtered = (await countFromTallies(db, walked)) ?? (await countFromTallies(db, {})) ?? 0;
  return matching * matching * 4 > (page.offset + page.limit) * filtered;
}

/** Whether only tickets someone waits on can match: unsolved statuses, or whose move it is. */
function waitsOnly(filter: QueueFilter): boolean {
  return filter.waitingOn !== undefined || (filter.status !== undefined && filter.status.every((status) => UNSOLVED_STATUSES.has(status)));
}

/** The queue's order and one page of it. */
function inPages<O>(qb: SelectQueryBuilder<Database, 'tickets', O>, sort: QueueSort, page: { limit: number; offset: number }, filter: QueueFilter, dialect: Dialect) {
  const byRelevance = sort.field === 'relevance' && filter.words !== undefined && filter.words.length > 0;
  return (
    qb
      .$if(byRelevance, (q) => q.orderBy(relevanceTier(dialect, filter.words ?? []), 'desc').orderBy('updated_at', 'desc'))
      // Without words there is nothing to rank: the most recently updated first.
      .$if(sort.field === 'relevance' && !byRelevance, (q) => q.orderBy('updated_at', 'desc'))
      // Ties go by the same direction, so that one index serves the whole order.
      .$if(sort.field === 'priority', (q) => q.orderBy(PRIORITY_RANK, sort.direction).orderBy('updated_at', sort.direction))
      // Solved tickets wait on no one: they come after every waiting one, either way.
      .$if(sort.field === 'waiting_since' && !waitsOnly(filter), (q) => q.orderBy(sql`waiting_since is null`))
      .$if(sort.field !== 'priority' && sort.field !== 'relevance', (q) => q.orderBy(sort.field as 'created_at' | 'updated_at' | 'waiting_since', sort.direction))
      .orderBy('id', sort.field === 'relevance' ? 'desc' : sort.direction)
      .limit(page.limit)
      .offset(page.offset)
  );
}

/**
 * The last total of each SQLite full-text query of one database, by query text: enough to
 * pick a plan before counting (searchPageAndTotal). A stale one can only cost time, once; the
 * page and total are exact. Bounded: the oldest query goes first.
 */
export class SearchTotals {
  static readonly #KEPT = 1000;
  readonly #totals = new Map<string, number>();

  get(query: string): number | undefined {
    return this.#totals.get(query);
  }

  remember(query: string, total: number): void {
    this.#totals.delete(query);
    if (this.#totals.size >= SearchTotals.#KEPT) this.#totals.delete(this.#totals.keys().next().value as string);
    this.#totals.set(query, total);
  }
}

/**
 * A SQLite search's page and total from one reading of the full-text index: its hits are
 * collected once, counted, and the page read from them, where countQueue and listQueue read the
 * index once each. For a search of several terms (words and filters) that is the cheaper
 * way; for a single term, collecting the hits costs more than reading the index twice. The
 * plan comes from the query's last total in `totals` (the page must be read in the same
 * statement as the count). Undefined when this does not apply (PostgreSQL, one term, no
 * earlier total), or when that total passed `bound` (then a count that stops there, or none at
 * all, is cheaper than collecting every hit): then count and list.
 */
export async function searchPageAndTotal(
  db: Db,
  dialect: Dialect,
  filter: QueueFilter,
  sort: QueueSort,
  page: { limit: number; offset: number },
  totals: SearchTotals,
  bound = Number.POSITIVE_INFINITY,
): Promise<{ rows: QueueRow[]; total: number } | undefined> {
  const words = filter.words;
  if (dialect !== 'sqlite' || words === undefined || words.length === 0 || words.length + facets(filter).length < 2 || !onlyFacets(filter)) return undefined;
  const query = ftsQuery(words, filter);
  const estimate = totals.get(query);
  if (estimate === undefined || estimate > bound) return undefined;
  await indexQueuedSearches(db, dialect);
  const plan = { dense: await denseSearch(db, filter, sort, page, estimate), fromHits: true };
  // The statement has a table of its own; the builder goes on as over the usual tables.
  const withHits = db.with((cte) => cte('hits').materialized(), () => sql`(select rowid as doc_id from ticket_search where ticket_search match ${query})`) as unknown as QueryCreator<Database>;
  const found = await inPages(queue(withHits, dialect, filter, sort.field, plan).select([...QUEUE_COLUMNS, sql<number>`(select count(*) from hits)`.as('total')]), sort, page, filter, dialect).execute();
  // A page past the end has no row to carry the total.
  const total = found[0]?.total ?? (await countQueue(db, dialect, filter, totals));
  totals.remember(query, total);
  return { rows: found.map(({ total: _, ...row }) => row), total };
}

/**
 * How many tickets match the staff queue's filters: from the tallies unless searching; a
 * search is a count of full-text documents (one per ticket, its filters as facets).
 */
export async function countQueue(db: Db, dialect: Dialect, filter: QueueFilter, totals?: SearchTotals): Promise<number> {
  return (await countQueueUpTo(db, dialect, filter, totals)).n;
}

/**
 * countQueue, but a count that is not read from the tallies stops once it passes `bound`: `n`
 * is then `bound + 1` ("more than the bound") whatever the true number, and `counted` is true.
 * Without a bound, exact. With `past`, a count already known to be past the bound is not
 * counted again while too few tickets have changed to bring it down (CountsPastBound).
 */
export async function countQueueUpTo(
  db: Db,
  dialect: Dialect,
  filter: QueueFilter,
  totals?: SearchTotals,
  bound?: number,
  past?: CountsPastBound,
): Promise<{ n: number; counted: boolean }> {
  const { words, waitingOn: _waiting, number: _number, ...columns } = filter;
  if (words === undefined && onlyFacets(filter)) {
    const tallied = await countFromTallies(db, columns);
    if (tallied !== undefined) return { n: tallied, counted: false };
  }
  // Tickets queued for the search index (by this batch, another process, the command line) count.
  if (words !== undefined) await indexQueuedSearches(db, dialect);
  if (words !== undefined && words.length === 0) return { n: 0, counted: true };
  if (bound === undefined) return { n: await countMatching(db, dialect, filter, totals), counted: true };
  if (past === undefined) return { n: await countMatching(db, dialect, filter, totals, bound + 1), counted: true };
  return { n: await past.count(db, filter, bound, (limit) => countMatching(db, dialect, filter, totals, limit)), counted: true };
}

/**
 * The tickets matching a filter the tallies cannot count, up to `limit` if given: a search is a
 * count of full-text documents (one per ticket, its filters as facets), anything else of the
 * tickets the query selects.
 */
async function countMatching(db: Db, dialect: Dialect, filter: QueueFilter, totals?: SearchTotals, limit?: number): Promise<number> {
  const words = filter.words;
  if (words === undefined || !onlyFacets(filter)) {
    const query = queue(db, dialect, filter);
    if (limit === undefined) return countRows(query);
    return countRows(db.selectFrom(query.select(sql`1`.as('one')).limit(limit).as('matching')));
  }
  const limited = limit === undefined ? sql`` : sql` limit ${limit}`;
  if (dialect === 'sqlite') {
    const query = ftsQuery(words, filter);
    const { rows } = await sql<{ n: number }>`select count(*) as n from (select 1 from ticket_search where ticket_search match ${query}${limited})`.execute(db);
    const total = Number(rows[0]?.n ?? 0);
    // Past the bound, the bound is estimate enough to plan the next reading (denseSearch).
    totals?.remember(query, total);
    return total;
  }
  // Enough memory for the bitmap of a common word's hits to stay exact: at Debian's 4 MB it goes
  // lossy, and every document on a lossy page is read and tested again (the transaction's only).
  if (db.isTransaction) await sql`set local work_mem = '32MB'`.execute(db);
  const { rows } = await sql<{ n: string }>`select count(*) as n from (select 1 from ticket_search_docs where search @@ ${tsQuery(words, filter)}${limited}) as matching`.execute(db);
  return Number(rows[0]?.n ?? 0);
}

/**
 * Counts that went past their bound, each with where the events log stood when it was taken,
 * so that on a busy desk a common word is not counted again after every change. A ticket
 * change moves one ticket into or out of a filter's matches, and writes at least one event in
 * its own transaction; so a count of `n` stays more than `bound` until `n - bound` events have
 * been written since (changesSince), which costs a few index entries to check where counting
 * again tests `bound` documents. To make the answer last, a count goes a tenth past the bound.
 * Writes that go around the ticket changes (an operator's SQL, a repair) write no events: a
 * count is also taken again after a minute. One per database; the oldest filter goes first.
 */
export class CountsPastBound {
  static readonly #KEPT = 1000;
  static readonly #MAX_AGE_MS = 60_000;
  readonly #counts = new Map<string, { n: number; mark: string; at: number }>();

  /** More than `bound` (then `bound + 1`), or the exact count at or below it. */
  async count(db: Db, filter: QueueFilter, bound: number, countUpTo: (limit: number) => Promise<number>): Promise<number> {
    const key = JSON.stringify(filter);
    const known = this.#counts.get(key);
    if (known !== undefined && known.n > bound && performance.now() - known.at < CountsPastBound.#MAX_AGE_MS) {
      if ((await changesSince(db, known.mark, known.n - bound)) < known.n - bound) return bound + 1;
    }
    // In a transaction the mark is of the count's own snapshot, and is only needed past the
    // bound; outside one it is taken first, so that a change landing in between counts as since.
    const before = db.isTransaction ? undefined : await changeMark(db);
    const n = await countUpTo(bound + Math.ceil(bound / 10) + 1);
    this.#counts.delete(key);
    if (n > bound) {
      if (this.#counts.size >= CountsPastBound.#KEPT) this.#counts.delete(this.#counts.keys().next().value as string);
      this.#counts.set(key, { n, mark: before ?? (await changeMark(db)), at: performance.now() });
    }
    return Math.min(n, bound + 1);
  }
}

/** A user known from a verified token, if they are staff. */
export async function findStaffUser(db: Db, id: string): Promise<UserRow | undefined> {
  return db.selectFrom('users').selectAll().where('id', '=', id).where('is_staff', '=', 1).executeTakeFirst();
}

/** Every staff user, by email. */
export async function listStaffUsers(db: Db): Promise<UserRow[]> {
  return db.selectFrom('users').selectAll().where('is_staff', '=', 1).orderBy('email').orderBy('id').execute();
}

/** Ticket counts grouped by one column, from the tallies. */
export async function countTicketsBy(db: Db, column: 'status' | 'priority' | 'type'): Promise<Array<{ key: string; n: number }>> {
  const rows = await db
    .selectFrom('ticket_tallies')
    .select([`${column} as key`, (eb) => eb.fn.sum<number | string>('n').as('n')])
    .groupBy(column)
    .execute();
  return rows.map((r) => ({ key: String(r.key), n: Number(r.n) }));
}

/** Open and in-progress tickets nobody is assigned to, from the tallies. */
export async function countOpenUnassigned(db: Db): Promise<number> {
  const row = await db
    .selectFrom('ticket_tallies')
    .select((eb) => eb.fn.coalesce(eb.fn.sum<number | string>('n'), eb.val(0)).as('n'))
    .where('status', 'in', ['open', 'in_progress'])
    .where('assigned_to', '=', '')
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Creation, first-response and resolution times of tickets created since `since`. */
export async function listResponseTimes(
  db: Db,
  since: string,
): Promise<Array<Pick<TicketRow, 'created_at' | 'first_response_at' | 'resolved_at'>>> {
  return db
    .selectFrom('tickets')
    .select(['created_at', 'first_response_at', 'resolved_at'])
    .where('created_at', '>=', since)
    .where((eb) => eb.or([eb('first_response_at', 'is not', null), eb('resolved_at', 'is not', null)]))
    .execute();
}
