import { sql, type Kysely, type Migration } from 'kysely';
import type { Dialect } from '../database.js';

/* eslint-disable @typescript-eslint/no-explicit-any */

/**
 * Bounds what one ticket can cost. Every comment re-indexed its ticket's whole search document
 * (SQLite) or grew its tsvector (PostgreSQL, which fails past 1 MB): a customer piling large
 * comments on one ticket stalled SQLite's process and broke the ticket on PostgreSQL.
 *
 * - `tickets.comment_chars`: the characters of all its comments (notes included), kept by the
 *   writes, so that the comment limits are checked without reading every comment.
 * - `ticket_comments.indexed_chars`: how much of a comment its ticket's search document holds;
 *   null for all of it. The writes fill it so that a ticket's documents cover its title, its
 *   description and its comments' first 100,000 characters; a comment past them is not
 *   indexed, and costs no re-indexing. (A frozen copy of the rule in tickets/ticket.changes.ts.)
 * - The search triggers index only that much (frozen copies of search/search.documents.ts).
 */
export function ticketLimitsMigration(dialect: Dialect): Migration {
  return dialect === 'postgres' ? postgres : sqlite;
}

const SEARCHED_COMMENT_CHARS = 100_000;

/** Characters before each comment on its ticket, and from that how many of its own are indexed. */
const backfillIndexed = (greatest: 'max' | 'greatest') => sql`
  select id, case when before + length(content) <= ${sql.lit(SEARCHED_COMMENT_CHARS)} then null
    else ${sql.raw(greatest)}(0, ${sql.lit(SEARCHED_COMMENT_CHARS)} - before) end as indexed
  from (select id, content, coalesce(sum(length(content)) over (partition by ticket_id order by created_at, id
      rows between unbounded preceding and 1 preceding), 0) as before
    from ticket_comments where ticket_id in (select id from tickets where comment_chars > ${sql.lit(SEARCHED_COMMENT_CHARS)})) as placed`;

const sqlite: Migration = {
  async up(db: Kysely<any>) {
    await sql`alter table tickets add column comment_chars integer not null default 0`.execute(db);
    await sql`alter table ticket_comments add column indexed_chars integer`.execute(db);
    await sql`update tickets set comment_chars = c.n
      from (select ticket_id, sum(length(content)) as n from ticket_comments group by ticket_id) c where c.ticket_id = tickets.id`.execute(db);
    await sql`update ticket_comments set indexed_chars = b.indexed from (${backfillIndexed('max')}) b where b.id = ticket_comments.id`.execute(db);
    // A comment queues its ticket's document only if the document holds some of it.
    await sql`drop trigger if exists ticket_search_on_comment`.execute(db);
    await sql`create trigger ticket_search_on_comment after insert on ticket_comments
      when new.indexed_chars is null or new.indexed_chars > 0 begin
      insert or ignore into ticket_search_pending (doc_id) values ((select doc_id from ticket_search_docs where ticket_id = new.ticket_id));
    end`.execute(db);
    // The documents of tickets past the bound, built again as the bound says.
    await sql`insert or ignore into ticket_search_pending (doc_id)
      select d.doc_id from ticket_search_docs d join tickets t on t.id = d.ticket_id where t.comment_chars > ${sql.lit(SEARCHED_COMMENT_CHARS)}`.execute(db);
  },
};

/** A comment's indexed text (a frozen copy of indexedTextSql). */
const indexedText = (c: string) => `case when ${c}.indexed_chars is null then ${c}.content else substr(${c}.content, 1, ${c}.indexed_chars) end`;
const facets = (t: string) => `array_to_tsvector(array[
  '=s=' || replace(${t}.status, '_', ''), '=p=' || replace(${t}.priority, '_', ''), '=y=' || replace(${t}.type, '_', ''),
  '=a=' || coalesce(md5(${t}.assigned_to), ''), '=t=' || md5(${t}.tenant_id), '=c=' || md5(${t}.created_by)])`;
const documentOf = (t: string) => `to_tsvector('simple', ${t}.title || ' ' || ${t}.description || coalesce(' ' || (
          select string_agg(${indexedText('c')}, ' ' order by c.created_at, c.id) from ticket_comments c
          where c.ticket_id = ${t}.id and (c.indexed_chars is null or c.indexed_chars > 0)), '')) || ${facets(t)}`;

const postgres: Migration = {
  async up(db: Kysely<any>) {
    await sql`set local statement_timeout = 0`.execute(db);
    await sql`alter table tickets add column comment_chars integer not null default 0`.execute(db);
    await sql`alter table ticket_comments add column indexed_chars integer`.execute(db);
    await sql`update tickets t set comment_chars = c.n
      from (select ticket_id, sum(length(content)) as n from ticket_comments group by ticket_id) c where c.ticket_id = t.id`.execute(db);
    await sql`update ticket_comments set indexed_chars = b.indexed from (${backfillIndexed('greatest')}) b where b.id = ticket_comments.id`.execute(db);
    await sql.raw(`create or replace function ticket_search_on_ticket() returns trigger language plpgsql as $$
      begin
        insert into ticket_search_docs (ticket_id, search)
        values (new.id, ${documentOf('new')})
        on conflict (ticket_id) do update set search = excluded.search;
        return null;
      end $$`).execute(db);
    await sql.raw(`create or replace function ticket_search_on_comment() returns trigger language plpgsql as $$
      begin
        if new.indexed_chars is null or new.indexed_chars > 0 then
          update ticket_search_docs set search = search || to_tsvector('simple', ${indexedText('new')}) where ticket_id = new.ticket_id;
        end if;
        return null;
      end $$`).execute(db);
    await sql.raw(`update ticket_search_docs d set search = ${documentOf('t')} from tickets t
      where t.id = d.ticket_id and t.comment_chars > ${SEARCHED_COMMENT_CHARS}`).execute(db);
  },
};
