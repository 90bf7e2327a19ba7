import { CompiledQuery, sql, type Insertable } from 'kysely';
import { BULK_LOAD_SCHEMA, bulkLoadInterrupted } from '../db/bulk-load.js';
import type { Database, Db, Dialect } from '../db/database.js';
import { documentTextSql, facetsSql, postgresSearchDocumentSql } from '../search/search.documents.js';
import { indexQueuedSearches } from '../search/search.queue.js';
import { afterMessage, afterStatus, charCount, firstChars, indexedChars, PREVIEW_CHARS } from '../tickets/ticket.changes.js';
import { reserveTicketNumbers } from '../tickets/ticket.numbers.js';
import { recountDerived } from '../tickets/ticket.repository.js';
import type { TicketCommentRow, TicketHistoryRow, TicketPriority, TicketRow, TicketStatus, TicketType } from '../tickets/ticket.table.js';
import type { UserRow } from '../users/user.table.js';

export interface SeedOptions {
  tickets: number;
  tenants: number;
  commentsPerTicket: number;
  /** PRNG seed: the same options give the same desk. */
  seed: number;
}

const BATCH = 5000;
type LoadedTable = 'users' | 'tickets' | 'ticket_comments' | 'ticket_history';
const DAY = 86_400_000;

// A small, fast, seedable PRNG (mulberry32): Math.random cannot be replayed.
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** A UUIDv7 for `msecs` whose random bits come from `random`, so that a seed replays its ids too. */
function uuidv7From(random: () => number, msecs: number): string {
  const time = Math.floor(msecs).toString(16).padStart(12, '0');
  // random() gives 32 random bits; three calls give the 74 a UUIDv7 holds.
  const [a, b, c] = [random() * 2 ** 32, random() * 2 ** 32, random() * 2 ** 32];
  const byte = (bits: number, shift: number) => HEX[(bits >>> shift) & 0xff] as string;
  return `${time.slice(0, 8)}-${time.slice(8)}-7${((a >>> 24) & 0x0f).toString(16)}${byte(a, 16)}-${HEX[0x80 | ((a >>> 8) & 0x3f)]}${byte(a, 0)}-${byte(b, 24)}${byte(b, 16)}${byte(b, 8)}${byte(b, 0)}${byte(c, 24)}${byte(c, 16)}`;
}

const PAD2 = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0'));
const PAD3 = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));

/**
 * `new Date(ms).toISOString()`, from the date part of each day computed once: the seed stamps
 * millions of rows, and toISOString was an eighth of its time.
 */
function isoClock(): (ms: number) => string {
  const days = new Map<number, string>();
  return (ms) => {
    const day = Math.floor(ms / DAY);
    let date = days.get(day);
    if (date === undefined) days.set(day, (date = new Date(day * DAY).toISOString().slice(0, 11)));
    const t = ms - day * DAY;
    return `${date}${PAD2[Math.floor(t / 3_600_000)]}:${PAD2[Math.floor(t / 60_000) % 60]}:${PAD2[Math.floor(t / 1000) % 60]}.${PAD3[t % 1000]}Z`;
  };
}

function weighted<T extends string>(random: () => number, choices: Array<[T, number]>): T {
  let r = random() * choices.reduce((sum, [, w]) => sum + w, 0);
  for (const [value, weight] of choices) if ((r -= weight) < 0) return value;
  return (choices[choices.length - 1] as [T, number])[0];
}

// A vocabulary with a long tail, as real text has: everyday words first (most frequent), then
// support words, then made-up product and customer names. Words are drawn with Zipf-like
// weights, so a search for a common word matches many tickets and a rare one a few.
const COMMON = 'the we our when it is not after and to in on for with can you please this from since but again now all'.split(' ');
const SUPPORT =
  'invoice export login password billing refund csv report dashboard sso saml api webhook timeout error slow payment plan upgrade seat email notification mobile sync import permission role account user team admin integration token key limit page screen button chart filter search upload download pdf receipt card charge subscription trial cancel renew domain dns certificate ssl redirect crash freeze blank missing duplicate wrong broken failed stuck delay latency outage migration backup restore schedule calendar timezone language translation invite onboarding workspace project task comment attachment'.split(' ');
const SYLLABLES = 'ka lo mi ter ven sol dra pix nor bel qua zen ro tas fin gul'.split(' ');
const NAMES = SYLLABLES.flatMap((a) => SYLLABLES.flatMap((b) => SYLLABLES.map((c) => `${a}${b}${c}`)));
const WORDS = [...COMMON, ...SUPPORT, ...NAMES];

/**
 * Fills the database with a realistic desk: one tenant holds about 20% of the tickets;
 * statuses, priorities, types and assignees mixed; comments on most tickets (some internal),
 * with counters, first responses and history that match. Batched, in transactions.
 */
export async function seedDatabase(
  db: Db,
  dialect: Dialect,
  options: SeedOptions,
  progress: (done: number) => void | Promise<void> = () => {},
  step: SeedStep = () => {},
): Promise<{ users: number; tickets: number; comments: number; history: number }> {
  // No tickets: only what a killed seed left undone is finished, if anything.
  const nothing = { users: 0, tickets: 0, comments: 0, history: 0 };
  const interrupted = await seedInterrupted(db, dialect);
  if (options.tickets === 0 && !interrupted) return nothing;
  const counts = await withIndexesDeferred(db, dialect, interrupted, options.tickets === 0 ? async () => nothing : () => load(db, options, progress), step);
  if (options.tickets === 0) return counts;
  // Fresh statistics, so that both planners pick the right index for each queue filter. On
  // PostgreSQL also a vacuum: the first vacuum of freshly loaded tables (hint bits, the
  // visibility map) otherwise comes from autovacuum when it chooses, and once came during a
  // bench's searches and slowed them.
  await timedStep(step, 'statistics gathered', async () => {
    if (dialect === 'sqlite') await sql`analyze`.execute(db);
    else {
      // On a connection of its own without the pool's 10 s statement limit: vacuuming a
      // freshly seeded 1,000,000-ticket database takes minutes.
      await db.connection().execute(async (connection) => {
        await sql`set statement_timeout = 0`.execute(connection);
        try {
          await sql`vacuum analyze`.execute(connection);
        } finally {
          await sql`reset statement_timeout`.execute(connection);
        }
      });
    }
  });
  return counts;
}

const LOADED_TABLES = ['tickets', 'ticket_comments', 'ticket_history'];

/**
 * On SQLite most of a bulk load's time goes into keeping the secondary indexes and the
 * full-text index up to date row by row. Dropping them (and the triggers: search, tallies, owner
 * versions), loading, and then building each once is several times faster; the rows loaded
 * meanwhile (anyone's: the rowids tell) are added to the search index afterwards. PostgreSQL
 * loads with its indexes but without the triggers of the search, the tallies and the owner
 * versions, and writes the search documents once afterwards. Both then recount the tallies and
 * owner versions.
 */
async function withIndexesDeferred<T>(db: Db, dialect: Dialect, interrupted: boolean, load: () => Promise<T>, step: SeedStep): Promise<T> {
  if (dialect !== 'sqlite') {
    // Tallies and owner versions are recounted after the load, and the search documents
    // written once at the end: kept row by row, every seeded comment rewrote its
    // ticket's document and GIN entries, which made the seed far slower. DISABLE holds
    // for every session: a server writing meanwhile goes uncounted and unindexed until the end
    // below. A seed killed mid-load leaves the triggers off; the next seed finds them so and
    // rewrites every document (`alter table tickets enable trigger user` and the same for
    // ticket_comments turn them back on by hand).
    const triggers = (action: 'enable' | 'disable') =>
      Object.entries(POSTGRES_DEFERRED_TRIGGERS).map(
        ([table, names]) => sql`alter table ${sql.table(table)} ${sql.raw(names.map((name) => `${action} trigger ${name}`).join(', '))}`,
      );
    // What changes from now on is re-indexed (everything, after a killed seed); the servers
    // stamp changes with their clocks, which are taken to agree with this one.
    const startedAt = interrupted ? '' : new Date().toISOString();
    // Documents for the tickets that have none, and fresh ones for those a server changed or
    // commented on since `changedSince`; with the triggers back on first when `locked`.
    const writeDocuments = (changedSince: string, locked: boolean) =>
      db.transaction().execute(async (trx) => {
        await sql`set local statement_timeout = 0`.execute(trx);
        if (locked) for (const statement of triggers('enable')) await statement.execute(trx);
        await sql`insert into ticket_search_docs (ticket_id, search)
          select t.id, ${sql.raw(postgresSearchDocumentSql('t'))} from tickets t
          where not exists (select 1 from ticket_search_docs d where d.ticket_id = t.id)
            or t.updated_at >= ${changedSince} or t.id in (select ticket_id from ticket_comments where created_at >= ${changedSince})
          on conflict (ticket_id) do update set search = excluded.search`.execute(trx);
      });
    for (const statement of triggers('disable')) await statement.execute(db);
    try {
      return await timedStep(step, 'rows loaded', load);
    } finally {
      // Twice: first the bulk, with writers free to go on (on a big desk it takes longer than
      // their statement timeout); then, holding the tables, what changed meanwhile.
      // ALTER TABLE keeps writers out until that commit: none can slip between the triggers
      // coming back and the documents written from the rows.
      const bulkBegan = new Date().toISOString();
      await timedStep(step, 'search documents written', () => writeDocuments(startedAt, false));
      await timedStep(step, 'search documents caught up', () => writeDocuments(bulkBegan, true));
      // Without the pool's statement limit too: at 1,000,000 tickets on a busy machine the
      // tallies' recount outlasted it and failed the seed after the whole load.
      await timedStep(step, 'recounted', () =>
        db.transaction().execute(async (trx) => {
          await sql`set local statement_timeout = 0`.execute(trx);
          await recountDerived(trx);
        }),
      );
    }
  }
  // What a seed killed mid-load dropped and never built again, saved with the drops themselves.
  const leftover = interrupted ? (await sql<SchemaObject>`select type, name, sql from ${sql.table(BULK_LOAD_SCHEMA)}`.execute(db)).rows : [];
  const { rows: current } = await sql<SchemaObject>`
    select type, name, sql from sqlite_master
    where type in ('index', 'trigger') and sql is not null and tbl_name in (${sql.join(LOADED_TABLES)})`.execute(db);
  const deferred = [...new Map([...leftover, ...current].map((object) => [object.name, object])).values()];
  // Every change a server makes to a ticket stamps updated_at with its clock (this machine's),
  // taken before it waits for the write lock (5 s at most, its busy timeout): a minute's margin.
  const startedAt = new Date(Date.now() - 60_000).toISOString();
  let before = { tickets: 0, comments: 0, docs: 0 };
  // Dropped in the transaction that saves them: a seed killed from here on leaves them listed
  // for the next seed to build, instead of lost.
  await db.transaction().execute(async (trx) => {
    await sql`create table if not exists ${sql.table(BULK_LOAD_SCHEMA)} (type text not null, name text primary key, sql text not null)`.execute(trx);
    for (const { type, name, sql: text } of deferred) {
      await sql`insert or replace into ${sql.table(BULK_LOAD_SCHEMA)} (type, name, sql) values (${type}, ${name}, ${text})`.execute(trx);
    }
    // From its first write this transaction holds the write lock: no server change falls
    // between what is read here and the drops. The bulk path indexes whole documents itself;
    // nothing queued may be indexed twice. After a killed seed every ticket is indexed anew:
    // its rows were never indexed, and neither were the changes a server made meanwhile.
    await indexQueuedSearches(trx, dialect);
    const lastRowid = async (table: string) => (interrupted ? 0 : await highest(trx, table));
    before = { tickets: await lastRowid('tickets'), comments: await lastRowid('ticket_comments'), docs: await lastRowid('ticket_search_docs') };
    for (const { type, name } of current) await sql`drop ${sql.raw(type)} ${sql.id(name)}`.execute(trx);
  });
  try {
    return await timedStep(step, 'rows loaded', load);
  } finally {
    await finishSqliteLoad(db, { interrupted, deferred, before, startedAt }, step);
  }
}

/** Tickets whose search documents one transaction of the finish indexes. */
const SEARCH_BATCH = 50_000;

/**
 * What a SQLite load finishes with, in steps each committed: the indexes; a search document for
 * every new ticket, indexed in batches in ticket order (one transaction for all, at 10,000,000
 * tickets, wrote a 20 GB log and then read the file at random for over an hour); the merge of
 * the index's segments; and last, in one transaction, the triggers, what a server changed while
 * the seed ran, the recounts and the list of what was dropped. A seed killed before that last
 * commit is still one to finish, and the next indexes every ticket anew.
 */
async function finishSqliteLoad(
  db: Db,
  load: { interrupted: boolean; deferred: SchemaObject[]; before: { tickets: number; comments: number; docs: number }; startedAt: string },
  step: SeedStep,
): Promise<void> {
  const { interrupted, deferred, before, startedAt } = load;
  const timed = (what: string, work: () => Promise<unknown>) => timedStep(step, what, work);
  await timed('indexes built', () =>
    db.transaction().execute(async (trx) => {
      for (const object of deferred) if (object.type === 'index') await sql.raw(object.sql).execute(trx);
    }),
  );
  // Comments a server writes from here on are looked for by rowid at the end; before, the
  // batches below read each ticket as it then is.
  const commentsIndexed = await highest(db, 'ticket_comments');
  let ticketsDocumented = 0;
  let docsIndexed = 0;
  await timed('search documents listed', () =>
    db.transaction().execute(async (trx) => {
      if (interrupted) await sql`insert into ticket_search (ticket_search) values ('delete-all')`.execute(trx);
      // New tickets have no document (the trigger that writes it is gone); after a killed seed,
      // some older ones have none either.
      const documented = interrupted ? sql`and not exists (select 1 from ticket_search_docs d where d.ticket_id = t.id)` : sql``;
      await sql`insert into ticket_search_docs (ticket_id) select id from tickets t where rowid > ${before.tickets} ${documented} order by rowid`.execute(trx);
      ticketsDocumented = await highest(trx, 'tickets');
      docsIndexed = await highest(trx, 'ticket_search_docs');
    }),
  );
  // The documents of the new tickets (of every ticket after a killed seed), in batches.
  const indexDocs = (trx: Db, where: ReturnType<typeof sql>) =>
    sql`insert into ticket_search (rowid, body, facets)
      select d.doc_id, ${sql.raw(documentTextSql('t'))}, ${sql.raw(facetsSql('t'))}
      from ticket_search_docs d join tickets t on t.id = d.ticket_id where ${where}`.execute(trx);
  await timed('search index built', async () => {
    for (let from = before.docs; from < docsIndexed; from += SEARCH_BATCH) {
      const to = Math.min(from + SEARCH_BATCH, docsIndexed);
      await db.transaction().execute((trx) => indexDocs(trx, sql`d.doc_id > ${from} and d.doc_id <= ${to}`));
      await step(`  search index: ${to - before.docs} of ${docsIndexed - before.docs} documents`);
    }
  });
  // Merge the many segments a bulk insert leaves: searches then read one b-tree instead of many.
  await timed('search index merged', () => db.transaction().execute((trx) => sql`insert into ticket_search (ticket_search) values ('optimize')`.execute(trx)));
  await timed('finished', () =>
    db.transaction().execute(async (trx) => {
      for (const object of deferred) if (object.type === 'trigger') await sql.raw(object.sql).execute(trx);
      // Tickets a server created since the documents were listed.
      await sql`insert into ticket_search_docs (ticket_id) select id from tickets t where rowid > ${ticketsDocumented}
        and not exists (select 1 from ticket_search_docs d where d.ticket_id = t.id) order by rowid`.execute(trx);
      // Documents written again: those of tickets a server changed (it stamps updated_at with
      // its clock, taken to agree with this one) or commented on while the seed ran, and the
      // tickets it created since. An internal note leaves updated_at alone: older tickets'
      // notes are found by rowid past the load's first, the new tickets' past the batches' first.
      const again = sql`select d.doc_id from ticket_search_docs d where d.doc_id <= ${docsIndexed} and d.ticket_id in (
          select id from tickets where updated_at >= ${startedAt}
          union select ticket_id from ticket_comments where rowid > ${commentsIndexed})
        union select d.doc_id from ticket_search_docs d where d.doc_id <= ${before.docs}
          and exists (select 1 from ticket_comments c where c.ticket_id = d.ticket_id and c.rowid > ${before.comments})`;
      await sql`create temp table seed_documents_again as ${again}`.execute(trx);
      await sql`delete from ticket_search where rowid in (select doc_id from seed_documents_again)`.execute(trx);
      await indexDocs(trx, sql`d.doc_id > ${docsIndexed} or d.doc_id in (select doc_id from seed_documents_again)`);
      await sql`drop table seed_documents_again`.execute(trx);
      // The tallies and owner versions, and only then the list of what was dropped: a seed
      // killed before this commit is still one to finish.
      await recountDerived(trx);
      await sql`drop table ${sql.table(BULK_LOAD_SCHEMA)}`.execute(trx);
    }),
  );
}

/** The highest rowid of a SQLite table (for ticket_search_docs, its doc_id), 0 when empty. */
async function highest(db: Db, table: string): Promise<number> {
  return Number((await sql<{ n: number | null }>`select max(rowid) as n from ${sql.table(table)}`.execute(db)).rows[0]?.n ?? 0);
}

/** Told of each step of a seed, as it ends (the CLI prints them). */
export type SeedStep = (what: string) => void | Promise<void>;

async function timedStep<T>(step: SeedStep, what: string, work: () => Promise<T>): Promise<T> {
  const began = performance.now();
  const result = await work();
  await step(`${what} in ${((performance.now() - began) / 1000).toFixed(1)} s`);
  return result;
}

interface SchemaObject {
  type: 'index' | 'trigger';
  name: string;
  sql: string;
}

/** The triggers a PostgreSQL seed turns off while it loads, by table. */
const POSTGRES_DEFERRED_TRIGGERS = {
  tickets: ['tickets_tally', 'tickets_owner_version', 'ticket_search_on_ticket', 'ticket_search_on_facets'],
  ticket_comments: ['ticket_search_on_comment'],
};

/** Whether a seed is loading the database or one was killed while it did (see bulk-load.ts). */
export const seedInterrupted = bulkLoadInterrupted;

async function load(db: Db, options: SeedOptions, progress: (done: number) => void | Promise<void>): Promise<{ users: number; tickets: number; comments: number; history: number }> {
  const random = prng(options.seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  // Texts come from a pool: building every one word by word was a large part of the seed's time.
  const word = () => WORDS[Math.floor(WORDS.length ** random()) - 1] as string; // P(rank r) ~ 1/r
  const pool = (n: number) => Array.from({ length: 4096 }, () => Array.from({ length: n }, word).join(' '));
  const [titles, descriptions, remarks] = [pool(3), pool(25), pool(12)];
  const iso = isoClock();
  const insertAll = bulkInserter();
  const now = Date.now();
  // The seeded tickets' numbers, taken from the desk's counter like a server's blocks are.
  const firstNumber = await reserveTicketNumbers(db, options.tickets);

  const staff: UserRow[] = Array.from({ length: 8 }, (_, i) => ({
    id: `seed_staff_${i}`,
    email: `agent${i}@helpdesk.example`,
    is_staff: 1,
    first_seen_at: iso(now - 400 * DAY),
    last_seen_at: iso(now - i * 3_600_000),
  }));
  const tenants = Array.from({ length: options.tenants }, (_, i) => `seed_org_${String(i).padStart(5, '0')}`);
  const usersPerTenant = (share: number) => Math.max(1, Math.round((options.tickets * share) / 40));
  const customers = new Map<string, UserRow[]>();
  for (const [i, tenant] of tenants.entries()) {
    const share = i === 0 ? 0.2 : 0.8 / Math.max(1, options.tenants - 1);
    customers.set(
      tenant,
      Array.from({ length: Math.min(usersPerTenant(share), 5000) }, (_, u) => ({
        id: `seed_user_${i}_${u}`,
        email: `user${u}@org${i}.example`,
        is_staff: 0,
        first_seen_at: iso(now - 400 * DAY),
        last_seen_at: iso(now - u * 60_000),
      })),
    );
  }
  const allUsers = [...staff, ...[...customers.values()].flat()];
  // Kept when there already (a second seed, or one after a killed seed): the same people.
  await insertAll(db, 'users', allUsers, { keepExisting: true });

  let comments = 0;
  let history = 0;
  for (let start = 0; start < options.tickets; start += BATCH) {
    const tickets: TicketRow[] = [];
    const ticketComments: TicketCommentRow[] = [];
    const ticketHistory: TicketHistoryRow[] = [];
    const count = Math.min(BATCH, options.tickets - start);
    for (let n = 0; n < count; n++) {
      const index = start + n;
      const tenant = options.tenants === 1 || random() < 0.2 ? (tenants[0] as string) : (tenants[1 + Math.floor(random() * (tenants.length - 1))] as string);
      const author = pick(customers.get(tenant) as UserRow[]);
      const createdMs = now - 365 * DAY + Math.floor((index / options.tickets) * 365 * DAY) + Math.floor(random() * 60_000);
      const status = weighted<TicketStatus>(random, [['open', 30], ['in_progress', 20], ['resolved', 25], ['closed', 25]]);
      const assignee = status === 'open' && random() < 0.5 ? undefined : pick(staff);
      const ticket: TicketRow = {
        id: uuidv7From(random, createdMs),
        tenant_id: tenant,
        created_by: author.id,
        created_by_email: author.email,
        title: `${pick(titles)} ${index}`,
        description: pick(descriptions),
        type: weighted<TicketType>(random, [['support', 35], ['bug', 25], ['feature_request', 10], ['billing', 15], ['account', 10], ['other', 5]]),
        status,
        priority: weighted<TicketPriority>(random, [['low', 20], ['normal', 50], ['high', 20], ['urgent', 10]]),
        assigned_to: assignee?.id ?? null,
        assigned_to_email: assignee?.email ?? null,
        comment_count: 0,
        internal_comment_count: 0,
        comment_chars: 0,
        created_at: iso(createdMs),
        updated_at: iso(createdMs),
        resolved_at: null,
        first_response_at: null,
        version: 1,
        number: firstNumber + index,
        // What needs attention, as the writes would leave it (ticket.changes.ts): a new
        // ticket waits on support; each public message below moves it, then the status.
        waiting_on: 'support',
        waiting_since: iso(createdMs),
        last_message_from: 'customer',
        last_customer_message_at: iso(createdMs),
        last_staff_reply_at: null,
        last_message_preview: '',
      };
      const description = ticket.description;
      ticket.last_message_preview = firstChars(description, PREVIEW_CHARS);
      // Comments are written while the ticket is open; its status comes at the end.
      const attention = { ...ticket, status: 'open' as TicketStatus };
      let at = createdMs;
      const k = options.commentsPerTicket === 0 ? 0 : Math.floor(random() * (2 * options.commentsPerTicket + 1));
      for (let c = 0; c < k; c++) {
        at = Math.min(now, at + Math.floor(random() * 6 * 3_600_000) + 60_000);
        const byStaff = random() < 0.5;
        const isInternal = byStaff && random() < 0.3;
        const writer = byStaff ? (assignee ?? pick(staff)) : author;
        const content = pick(remarks);
        const length = charCount(content);
        ticketComments.push({
          id: uuidv7From(random, at),
          ticket_id: ticket.id,
          author_id: writer.id,
          author_email: writer.email,
          author_type: byStaff ? 'staff' : 'user',
          content,
          is_internal: isInternal ? 1 : 0,
          created_at: iso(at),
          indexed_chars: indexedChars(ticket.comment_chars, length),
          channel: 'web',
        });
        ticket.comment_chars += length;
        if (isInternal) ticket.internal_comment_count++;
        else {
          ticket.comment_count++;
          ticket.updated_at = iso(at);
          if (byStaff && ticket.first_response_at === null) ticket.first_response_at = iso(at);
          Object.assign(attention, afterMessage(attention, byStaff ? 'staff' : 'customer', content, iso(at)));
        }
      }
      const change = (field: string, oldValue: string | null, newValue: string | null, by: UserRow) => {
        at = Math.min(now, at + 60_000);
        ticketHistory.push({ id: uuidv7From(random, at), ticket_id: ticket.id, field_changed: field, old_value: oldValue, new_value: newValue, changed_by: by.id, changed_by_email: by.email, created_at: iso(at) });
        ticket.updated_at = iso(at);
      };
      if (assignee) change('assigned_to', null, assignee.id, assignee);
      if (status !== 'open') {
        change('status', 'open', status, status === 'closed' && random() < 0.5 ? author : (assignee ?? pick(staff)));
        if (status === 'resolved' || status === 'closed') ticket.resolved_at = ticket.updated_at;
        Object.assign(attention, afterStatus(attention, status, ticket.updated_at));
      }
      const { waiting_on, waiting_since, last_message_from, last_customer_message_at, last_staff_reply_at, last_message_preview } = attention;
      tickets.push({ ...ticket, waiting_on, waiting_since, last_message_from, last_customer_message_at, last_staff_reply_at, last_message_preview });
    }
    await db.transaction().execute(async (trx) => {
      await insertAll(trx, 'tickets', tickets);
      await insertAll(trx, 'ticket_comments', ticketComments);
      await insertAll(trx, 'ticket_history', ticketHistory);
    });
    comments += ticketComments.length;
    history += ticketHistory.length;
    await progress(start + count);
  }
  return { users: allUsers.length, tickets: options.tickets, comments, history };
}

/**
 * Returns `insertAll`, which inserts rows in multi-row statements, each under SQLite's 32,766
 * bound parameters; with `keepExisting`, a row whose key is taken is left out. Each statement's
 * text is compiled by Kysely once per table and row count, and kept for every later call on the
 * same database (in any of its transactions): building the query from the rows' objects every
 * time took as long as SQLite took to insert them.
 */
function bulkInserter() {
  const texts = new Map<string, string>();
  // An insert of `count` rows of `columns`, with one parameter per value.
  const insertText = (db: Db, table: LoadedTable, columns: string[], count: number, keepExisting: boolean): string => {
    const key = `${table} ${count} ${keepExisting} ${columns.join()}`;
    let text = texts.get(key);
    if (text === undefined) {
      // Every value a parameter: placeholder rows of one non-null value per column.
      const row = Object.fromEntries(columns.map((column) => [column, 0]));
      const insert = db.insertInto(table).values(Array.from({ length: count }, () => row) as never);
      text = (keepExisting ? insert.onConflict((oc) => oc.column('id').doNothing()) : insert).compile().sql;
      texts.set(key, text);
    }
    return text;
  };
  return async function insertAll<T extends LoadedTable>(db: Db, table: T, rows: Array<Insertable<Database[T]>>, { keepExisting = false } = {}): Promise<void> {
    if (rows.length === 0) return;
    const columns = Object.keys(rows[0] as object);
    const size = Math.floor(30_000 / columns.length);
    for (let i = 0; i < rows.length; ) {
      // Full statements, then the rest in halves, quarters and so on: a few statement texts
      // serve every batch, compiled and prepared once.
      let count = size;
      while (count > rows.length - i) count = Math.ceil(count / 2);
      const chunk = rows.slice(i, i + count) as Array<Record<string, unknown>>;
      const parameters: unknown[] = [];
      for (const row of chunk) for (const column of columns) parameters.push(row[column]);
      await db.executeQuery(CompiledQuery.raw(insertText(db, table, columns, chunk.length, keepExisting), parameters));
      i += count;
    }
  };
}
