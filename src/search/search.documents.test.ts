import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { alice, bob, buildTestApp, carol, createTicketAs, sam, TICKETS, type TestApp } from '../../test/helpers.js';
import { dialects } from '../../test/dialects.js';
import { durable, type Db } from '../db/database.js';
import { PRIORITY_RANK } from '../admin/admin.repository.js';
import { indexQueuedSearches } from './search.queue.js';
import { postgresSearchDocumentSql, searchColumnsSql } from './search.documents.js';

const ADMIN = '/api/v1/admin/support/tickets';

/**
 * The triggers that keep search documents were created by migrations, each with a frozen copy
 * of the document's SQL as it was then; the seed, the search queue and the staff search use
 * search.documents.ts. These tests pin the copies together: after every kind of write through
 * the API, the documents the triggers wrote equal the ones search.documents.ts builds. (The
 * tallies' frozen keys are pinned the same way when every test app closes: expectTalliesExact.)
 */
describe.each(dialects())('%s: the search documents the migrations keep are the ones the code builds', (dialect) => {
  let t: TestApp;
  beforeEach(async () => {
    t = await buildTestApp(dialect);
    await t.as(sam, { url: '/api/v1/admin/support/agents' });
  });
  afterEach(async () => {
    await t.close();
  });

  /** Tickets whose stored document differs from the one built now by search.documents.ts. */
  async function differing(db: Db): Promise<string[]> {
    if (dialect === 'postgres') {
      const { rows } = await sql<{ id: string }>`select t.id from tickets t left join ticket_search_docs d on d.ticket_id = t.id
        where d.search is distinct from (${sql.raw(postgresSearchDocumentSql('t'))})`.execute(db);
      return rows.map((r) => r.id);
    }
    // FTS5 keeps no text, only its index: compare every term the two indexes hold per document and column.
    return db.transaction().execute(async (trx) => {
      await indexQueuedSearches(trx, 'sqlite');
      await sql`create virtual table temp.pin using fts5(body, facets, tokenize = 'unicode61 remove_diacritics 0')`.execute(trx);
      await sql.raw(`insert into temp.pin (rowid, body, facets) select d.doc_id, ${searchColumnsSql('d.ticket_id')} from ticket_search_docs d`).execute(trx);
      await sql`create virtual table temp.pin_terms using fts5vocab(temp, pin, instance)`.execute(trx);
      await sql`create virtual table temp.stored_terms using fts5vocab(main, ticket_search, instance)`.execute(trx);
      const terms = (table: string) => sql`select doc, col, term, count(*) as n from ${sql.raw(table)} group by doc, col, term`;
      const { rows } = await sql<{ ticket_id: string }>`select distinct d.ticket_id from (
          select * from (${terms('temp.pin_terms')} except ${terms('temp.stored_terms')})
          union all select * from (${terms('temp.stored_terms')} except ${terms('temp.pin_terms')})) x
        join ticket_search_docs d on d.doc_id = x.doc`.execute(trx);
      for (const table of ['stored_terms', 'pin_terms', 'pin']) await sql`drop table temp.${sql.raw(table)}`.execute(trx);
      return rows.map((r) => r.ticket_id);
    });
  }

  it('after creates, comments, notes, every triage field, a close, a reopen, and comments past the indexed bound', async () => {
    const a = (await createTicketAs(t, alice, { title: 'Invoice export broken', description: 'CSV is empty' })).ticket_id;
    const b = (await createTicketAs(t, bob, { title: 'Login loop' })).ticket_id;
    const c = (await createTicketAs(t, carol, { title: 'Päivitys ei toimi', description: 'Ünïcödé 🔥 text' })).ticket_id;
    await t.as(alice, { method: 'POST', url: `${TICKETS}/${a}/comments`, payload: { content: 'still broken after the update' } });
    await t.as(sam, { method: 'POST', url: `${ADMIN}/${a}/comments`, payload: { content: 'internal: refund approved', is_internal: true } });
    await t.as(sam, { method: 'POST', url: `${ADMIN}/${b}/comments`, payload: { content: 'please clear cookies' } });
    await t.as(sam, { method: 'PATCH', url: `${ADMIN}/${a}`, payload: { status: 'in_progress', priority: 'urgent', type: 'billing', assigned_to: sam.id } });
    await t.as(sam, { method: 'PATCH', url: `${ADMIN}/${b}`, payload: { status: 'resolved' } });
    await t.as(bob, { method: 'POST', url: `${TICKETS}/${b}/comments`, payload: { content: 'not fixed, reopening' } });
    await t.as(carol, { method: 'POST', url: `${TICKETS}/${c}/close` });
    // Past the first 100,000 characters of comments, a comment is indexed in part, then not at all.
    const words = (n: number, word: string) => Array.from({ length: n }, (_, i) => `${word}${i % 50}`).join(' ');
    for (const word of ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot']) {
      const res = await t.as(alice, { method: 'POST', url: `${TICKETS}/${a}/comments`, payload: { content: words(3_000, word).slice(0, 20_000) } });
      expect(res.statusCode).toBe(201);
    }
    await durable(t.db);
    expect(await differing(t.db)).toEqual([]);

    const staffSearch = async (q: string) => (await t.as(sam, { url: `${ADMIN}?q=${q}` })).json().total;
    expect(await staffSearch('echo49')).toBe(1); // comment 5 begins inside the bound
    expect(await staffSearch('foxtrot1')).toBe(0); // comment 6 lies past it
    expect(await staffSearch('refund')).toBe(1);
  });

  it('keeps the priority sort on the index migration 005 built for it', async () => {
    // The index expression, as the database prints it, against the same print of the code's.
    if (dialect === 'postgres') {
      await sql`create temp table pin_tickets (like tickets)`.execute(t.db);
      await sql`create index pin_rank on pin_tickets ((${PRIORITY_RANK}), updated_at, id)`.execute(t.db);
      const { rows } = await sql<{ stored: string; built: string }>`select pg_get_indexdef('tickets_by_priority_updated'::regclass) as stored,
        pg_get_indexdef('pin_rank'::regclass) as built`.execute(t.db);
      const expression = (def: string | undefined) => def?.replace(/^.*? USING btree /, '');
      expect(expression(rows[0]?.stored)).toBe(expression(rows[0]?.built));
      await sql`drop table pin_tickets`.execute(t.db);
    } else {
      const { rows } = await sql<{ detail: string }>`explain query plan select id from tickets order by ${PRIORITY_RANK} desc, updated_at desc, id desc limit 20`.execute(t.db);
      expect(rows.map((r) => r.detail).join('\n')).toContain('tickets_by_priority_updated');
    }
  });
});
