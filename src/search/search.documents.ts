import { createHash } from 'node:crypto';

/**
 * A ticket's search document: the SQL that builds it, on each database, and the facet tokens
 * the staff queue's filters become inside it. This is the one home of these rules at run time
 * (the search queue, the seed's bulk path and the staff search use it). The triggers that keep
 * documents up to date were created by migrations, each with a frozen copy of the SQL as it was
 * then; search.documents.test.ts checks on both databases that what the triggers wrote equals
 * what this SQL builds.
 *
 * SQLite (migrations 006, 010, 015, 018): an FTS5 document per ticket with two columns,
 * `body` and `facets`. PostgreSQL (008, 016, 018): a tsvector per ticket in ticket_search_docs,
 * its text's lexemes and its facets' together. The text is the title, the description and what
 * the comments' `indexed_chars` say of each (the first 100,000 characters of comments in all:
 * tickets/ticket.changes.ts).
 */

/** The part of the comment `c` a document holds. */
export const indexedTextSql = (c: string) => `case when ${c}.indexed_chars is null then ${c}.content else substr(${c}.content, 1, ${c}.indexed_chars) end`;

/** The comments of the ticket `t` that its document holds something of, oldest first. */
const indexedComments = (t: string) => `ticket_comments c where c.ticket_id = ${t}.id and (c.indexed_chars is null or c.indexed_chars > 0)`;

/** The text of the ticket `t` (a table alias) with its comments: SQLite's `body` column. */
export const documentTextSql = (t: string) => `${t}.title || ' ' || ${t}.description || coalesce(' ' || (
    select group_concat(${indexedTextSql('c')}, ' ' order by c.created_at, c.id) from ${indexedComments(t)}), '')`;

/**
 * SQLite's facet tokens of the ticket `t`: one per value the staff queue filters by. Enum
 * values lose their underscores and ids are hex-encoded, so that each value is exactly one
 * token to FTS5's unicode61 tokenizer; an unassigned ticket's assignee token is the bare `a`.
 */
export const facetsSql = (t: string) =>
  `'s' || replace(${t}.status, '_', '') || ' p' || replace(${t}.priority, '_', '') || ' y' || replace(${t}.type, '_', '') ||
  ' a' || coalesce(hex(${t}.assigned_to), '') || ' t' || hex(${t}.tenant_id) || ' c' || hex(${t}.created_by)`;

/** Both columns of the ticket whose id is the SQL expression `ticket`, for `insert into ticket_search (rowid, body, facets)`. */
export const searchColumnsSql = (ticket: string) =>
  `(select ${documentTextSql('t')} from tickets t where t.id = ${ticket}), (select ${facetsSql('t')} from tickets t where t.id = ${ticket})`;

/** The filters a facet stands for: status, priority, type, assignee, tenant, customer. */
export type FacetPrefix = 's' | 'p' | 'y' | 'a' | 't' | 'c';

/** The SQLite facet token for one filter value, as facetsSql writes it (FTS5 folds its case). */
export const facetToken = (prefix: FacetPrefix, value: string | null): string =>
  prefix === 's' || prefix === 'p' || prefix === 'y' ? `${prefix}${(value ?? '').replaceAll('_', '')}` : `${prefix}${Buffer.from(value ?? '', 'utf8').toString('hex')}`;

/**
 * PostgreSQL's facet lexemes of the ticket `t`, as a tsvector. They begin with `=`, which the
 * parser never leaves in a word, so no text can produce one and no typed word can match one.
 * Ids are hashed (md5) to stay under the 2 KB lexeme limit whatever their length.
 */
export const postgresFacetsSql = (t: string) => `array_to_tsvector(array[
  '=s=' || replace(${t}.status, '_', ''), '=p=' || replace(${t}.priority, '_', ''), '=y=' || replace(${t}.type, '_', ''),
  '=a=' || coalesce(md5(${t}.assigned_to), ''), '=t=' || md5(${t}.tenant_id), '=c=' || md5(${t}.created_by)])`;

/** PostgreSQL's whole document of the ticket `t`: its text with its comments, and its facets. */
export const postgresSearchDocumentSql = (t: string) => `to_tsvector('simple', ${t}.title || ' ' || ${t}.description || coalesce(' ' || (
          select string_agg(${indexedTextSql('c')}, ' ' order by c.created_at, c.id) from ${indexedComments(t)}), '')) || ${postgresFacetsSql(t)}`;

/** The PostgreSQL lexeme for one filter value; `null` is the unassigned assignee. */
export function postgresFacetLexeme(prefix: FacetPrefix, value: string | null): string {
  if (prefix === 's' || prefix === 'p' || prefix === 'y') return `=${prefix}=${(value ?? '').replaceAll('_', '')}`;
  return `=${prefix}=${value === null ? '' : createHash('md5').update(value, 'utf8').digest('hex')}`;
}
