import { afterEach, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { buildApp } from '../app.js';
import { createDb } from '../db/database.js';
import { alice, bob, buildTestApp, carol, createTicketAs, sam, TICKETS, type TestApp, type TestUser } from '../../test/helpers.js';
import { dialects } from '../../test/dialects.js';
import { snippetOf } from './admin.snippets.js';

const ADMIN = '/api/v1/admin/support/tickets';

/* eslint-disable @typescript-eslint/no-explicit-any */
describe.each(dialects())('%s: staff search totals, relevance and snippets', (dialect) => {
  const kim: TestUser = { id: 'user_kim', email: 'kim@helpdesk.test', org: 'org_helpdesk', role: 'support' };
  let t: TestApp;
  afterEach(async () => {
    await t.close();
  });

  async function ok(res: { statusCode: number; body: string; json: () => unknown }, status = 200) {
    if (res.statusCode !== status) throw new Error(`expected ${status}, got ${res.statusCode}: ${res.body}`);
    return res.json() as any;
  }
  const queue = async (query = '') => ok(await t.as(sam, { url: `${ADMIN}${query}` }));
  const ids = (page: any) => page.tickets.map((x: { ticket_id: string }) => x.ticket_id);
  const patch = async (id: string, payload: unknown) => ok(await t.as(sam, { method: 'PATCH', url: `${ADMIN}/${id}`, payload }));

  it('counts a search exactly up to the bound and says "at least" above it; filter-only totals stay exact', async () => {
    t = await buildTestApp(dialect, { HELPDESK_SEARCH_TOTAL_BOUND: '3' });
    const made: string[] = [];
    for (let i = 0; i < 3; i++) made.push((await createTicketAs(t, alice, { title: `Invoice ${i}`, description: 'numbers' })).ticket_id);
    // A page counts as far as the bound, or one past its own end when that is further (limit=2).
    expect(await queue('?q=invoice&limit=2')).toMatchObject({ total: 3, total_is_lower_bound: false, has_more: true });
    made.push((await createTicketAs(t, bob, { title: 'Invoice 3', description: 'numbers' })).ticket_id);
    made.push((await createTicketAs(t, carol, { title: 'Invoice 4', description: 'numbers' })).ticket_id);
    // Five match: the bound (3) and a flag, pages still exact.
    const first = await queue('?q=invoice&limit=2');
    expect(first).toMatchObject({ total: 3, total_is_lower_bound: true, has_more: true });
    expect(ids(first)).toEqual([made[4], made[3]]);
    // A page that reaches past the bound counts far enough to say whether another follows.
    expect(await queue('?q=invoice&limit=2&offset=2')).toMatchObject({ total: 5, total_is_lower_bound: false, has_more: true });
    const last = await queue('?q=invoice&limit=2&offset=4');
    expect(last).toMatchObject({ total: 5, total_is_lower_bound: false, has_more: false });
    expect(ids(last)).toEqual([made[0]]);
    // Within a filter the documents hold: the same rule.
    expect(await queue('?q=invoice&tenant_id=org_acme&limit=2')).toMatchObject({ total: 3, total_is_lower_bound: true });
    expect(await queue('?q=invoice&tenant_id=org_globex&limit=2')).toMatchObject({ total: 1, total_is_lower_bound: false });
    // A filter the documents do not hold (whose move it is) is counted on the tickets, bounded too.
    expect(await queue('?q=invoice&waiting_on=support&limit=2')).toMatchObject({ total: 3, total_is_lower_bound: true });
    expect(await queue('?waiting_on=support&limit=2')).toMatchObject({ total: 3, total_is_lower_bound: true });
    // Totals from the tallies cost nothing to keep exact.
    expect(await queue('?status=open&limit=2')).toMatchObject({ total: 5, total_is_lower_bound: false });
    expect(await queue('?limit=2')).toMatchObject({ total: 5, total_is_lower_bound: false });
    // The customer's total is exact, whatever the bound.
    expect((await ok(await t.as(alice, { url: `${TICKETS}?limit=1` }))).total).toBe(3);
    // One fewer match: exact again.
    await ok(await t.as(carol, { method: 'POST', url: `${TICKETS}/${made[4]}/close` }));
    expect(await queue('?q=invoice&status=open&limit=2')).toMatchObject({ total: 3, total_is_lower_bound: true });
    await patch(made[3] as string, { status: 'resolved' });
    expect(await queue('?q=invoice&status=open&limit=2')).toMatchObject({ total: 3, total_is_lower_bound: false });
  });

  it('keeps saying "at least" only while it holds: each change that takes a ticket out of the matches is seen, from any instance', async () => {
    t = await buildTestApp(dialect, { HELPDESK_SEARCH_TOTAL_BOUND: '3' });
    // Every ticket matches the words, so the search with a status must answer what the status alone does (from the tallies, exact).
    const made: string[] = [];
    for (let i = 0; i < 8; i++) made.push((await createTicketAs(t, i % 2 === 0 ? alice : carol, { title: `Invoice ${i}`, description: 'numbers' })).ticket_id);
    // On PostgreSQL the changes go through a second instance on the same database, whose events this one must see.
    const other = dialect === 'postgres' ? await buildApp(t.config, createDb(t.config.database), { logStream: false }) : undefined;
    try {
      const change = async (who: TestUser, method: 'POST' | 'PATCH', url: string, payload: Record<string, unknown> = {}) => {
        const options = { method, url, payload };
        const res = other === undefined ? await t.as(who, options) : await other.inject({ ...options, headers: { authorization: `Bearer ${await t.tokenFor(who)}` } });
        if (res.statusCode >= 300) throw new Error(`${method} ${url}: ${res.statusCode} ${res.body}`);
      };
      const answers: Array<[number, boolean]> = [];
      const agree = async () => {
        const truth = await queue('?status=open&limit=2');
        const found = await queue('?q=invoice&status=open&limit=2');
        answers.push([found.total, found.total_is_lower_bound]);
        expect({ total: found.total, atLeast: found.total_is_lower_bound, ids: ids(found) }).toEqual({
          total: Math.min(truth.total, 3),
          atLeast: truth.total > 3,
          ids: ids(truth),
        });
      };
      await agree();
      // Changes that take no ticket out (a comment, a priority) and changes that do (close, resolve, in progress), one at a time.
      await change(alice, 'POST', `${TICKETS}/${made[0]}/comments`, { content: 'any news?' });
      await agree();
      for (let i = 0; i < 7; i++) {
        const id = made[i] as string;
        if (i % 3 === 0) await change(i % 2 === 0 ? alice : carol, 'POST', `${TICKETS}/${id}/close`);
        else if (i % 3 === 1) await change(sam, 'PATCH', `${ADMIN}/${id}`, { status: 'resolved' });
        else await change(sam, 'PATCH', `${ADMIN}/${id}`, { status: 'in_progress', priority: 'high' });
        await agree();
      }
      // From 8 open down to 1: "at least 3" for as long as more than 3 were open, exact after.
      expect(answers.map(([total, atLeast]) => `${total}${atLeast ? '+' : ''}`)).toEqual(['3+', '3+', '3+', '3+', '3+', '3+', '3', '2', '1']);
    } finally {
      await other?.close();
    }
  });

  it('ranks by relevance on a hand-made desk: title, then title and description, then comments, recent first within each', async () => {
    t = await buildTestApp(dialect);
    const mk = async (title: string, description: string) => (await createTicketAs(t, alice, { title, description })).ticket_id;
    const titleOld = await mk('Invoice refund pending', 'Nothing else to say.');
    const commentOnly = await mk('Hello there', 'A general question.');
    const described = await mk('Question about money', 'The invoice shows no refund yet.');
    const split = await mk('Invoice looks odd', 'And the refund never came.');
    const titleNew = await mk('Refunds: invoice twice', 'Nothing else to say.');
    const inside = await mk('Prepaid invoicerefund', 'no word begins there: refundable? no, see above'); // "refund" begins "refundable"
    await createTicketAs(t, bob, { title: 'Unrelated', description: 'Shipping delay.' });
    // The newest change of all, but only a comment has both words.
    await ok(await t.as(alice, { method: 'POST', url: `${TICKETS}/${commentOnly}/comments`, payload: { content: 'My invoice needs a refund, please.' } }), 201);

    const ranked = await queue('?q=invoice%20refund&sort=relevance');
    expect(ranked.total).toBe(6);
    expect(ids(ranked)).toEqual([titleNew, titleOld, inside, split, described, commentOnly]);
    // The usual order is untouched.
    expect(ids(await queue('?q=invoice%20refund'))).toEqual([commentOnly, inside, titleNew, split, described, titleOld]);
    // Pages of the ranking join up.
    const pages = [...ids(await queue('?q=invoice%20refund&sort=relevance&limit=4')), ...ids(await queue('?q=invoice%20refund&sort=relevance&limit=4&offset=4'))];
    expect(pages).toEqual(ids(ranked));
    // Filters still apply.
    expect(ids(await queue('?q=invoice%20refund&sort=relevance&tenant_id=org_globex'))).toEqual([]);
    // Without words there is nothing to rank: most recently updated first.
    expect(ids(await queue('?sort=relevance&tenant_id=org_acme'))).toEqual(ids(await queue('?tenant_id=org_acme')));

    const snippets = Object.fromEntries(ranked.tickets.map((x: any) => [x.ticket_id, x.snippet]));
    const marked = (s: { text: string; marks: Array<{ start: number; end: number }> }) => s.marks.map((m) => s.text.slice(m.start, m.end));
    expect(snippets[titleNew]).toMatchObject({ source: 'title', text: 'Refunds: invoice twice' });
    expect(marked(snippets[titleNew])).toEqual(['Refunds', 'invoice']);
    expect(snippets[described]).toMatchObject({ source: 'description', text: 'The invoice shows no refund yet.' });
    expect(marked(snippets[described])).toEqual(['invoice', 'refund']);
    expect(snippets[commentOnly]).toMatchObject({ source: 'comment', text: 'My invoice needs a refund, please.' });
    expect(marked(snippets[commentOnly])).toEqual(['invoice', 'refund']);
    // A word is marked whole where a search word begins it ("invoicerefund" for invoice), never for a word inside it.
    expect(marked(snippets[inside])).toEqual(['invoicerefund']);
    // No snippet without q.
    expect((await queue()).tickets[0]).not.toHaveProperty('snippet');
  });

  it('cuts a long text around the first match and marks words in internal notes too', async () => {
    t = await buildTestApp(dialect);
    const long = `${'lorem ipsum '.repeat(40)}Café INVOICE missing here ${'dolor sit '.repeat(40)}`;
    const id = (await createTicketAs(t, alice, { title: 'Something', description: long })).ticket_id;
    const page = await queue('?q=invoice');
    const snippet = page.tickets[0].snippet;
    expect(page.tickets[0].ticket_id).toBe(id);
    expect(snippet.source).toBe('description');
    expect(snippet.text.startsWith('…')).toBe(true);
    expect(snippet.text.endsWith('…')).toBe(true);
    expect(snippet.text.length).toBeLessThanOrEqual(202);
    expect(snippet.marks.map((m: any) => snippet.text.slice(m.start, m.end))).toEqual(['INVOICE']);
    const noted = (await createTicketAs(t, bob, { title: 'Quiet', description: 'nothing' })).ticket_id;
    await ok(await t.as(sam, { method: 'POST', url: `${ADMIN}/${noted}/comments`, payload: { content: 'Internal: zebra stripes', is_internal: true } }), 201);
    const noteHit = (await queue('?q=zebra')).tickets[0];
    expect(noteHit).toMatchObject({ ticket_id: noted, snippet: { source: 'comment', text: 'Internal: zebra stripes' } });
    // Accents fold as the index folds them (SQLite's unicode61 drops diacritics; PostgreSQL's simple parser keeps them).
    expect(snippetOf({ title: 'Résumé attached', description: '', comments: [] }, ['resume'])).toEqual({ source: 'title', text: 'Résumé attached', marks: [{ start: 0, end: 6 }] });
  });

  it('keeps the filters inside the search documents right after every kind of change, also while searches run', async () => {
    t = await buildTestApp(dialect);
    await t.as(kim, { url: '/api/v1/admin/support/agents' });
    const made: string[] = [];
    for (let i = 0; i < 6; i++) made.push((await createTicketAs(t, i % 2 === 0 ? alice : carol, { title: `Printer ${i}`, description: 'paper' })).ticket_id);
    const filters = ['status=open', 'status=in_progress', 'status=resolved', 'status=closed', 'priority=urgent', 'priority=normal', 'assigned_to=none', `assigned_to=${kim.id}`, 'tenant_id=org_acme', 'tenant_id=org_moved', 'type=bug', 'type=billing'];
    /** The search with a filter must select what the filter alone selects (every ticket says "printer"). */
    const agree = async () => {
      for (const filter of filters) {
        const expected = await queue(`?${filter}&limit=100`);
        const found = await queue(`?q=printer&${filter}&limit=100`);
        expect({ filter, total: found.total, ids: ids(found) }).toEqual({ filter, total: expected.total, ids: ids(expected) });
      }
    };
    // Each kind of change, each followed by the check.
    const changes: Array<() => Promise<unknown>> = [
      () => patch(made[0] as string, { status: 'in_progress' }),
      () => patch(made[1] as string, { priority: 'urgent' }),
      () => patch(made[2] as string, { assigned_to: kim.id }),
      () => patch(made[2] as string, { assigned_to: null }),
      () => patch(made[3] as string, { type: 'billing' }),
      () => patch(made[4] as string, { status: 'resolved' }),
      async () => ok(await t.as(alice, { method: 'POST', url: `${TICKETS}/${made[4]}/comments`, payload: { content: 'still broken' } }), 201), // reopens
      async () => ok(await t.as(carol, { method: 'POST', url: `${TICKETS}/${made[5]}/close` })),
      // An operator moving a ticket to another tenant in SQL: the document follows.
      () => sql`update tickets set tenant_id = 'org_moved' where id = ${made[1]}`.execute(t.db),
    ];
    for (const change of changes) {
      await change();
      await agree();
    }
    // Changes made while searches run: every answer is some consistent state (its total is the
    // number of tickets it lists, each with the filter's value), and the last one is exact.
    const racing = Array.from({ length: 12 }, (_, i) => () =>
      patch(made[i % 6] as string, i % 3 === 0 ? { status: i % 2 === 0 ? 'open' : 'in_progress' } : i % 3 === 1 ? { priority: i % 2 === 0 ? 'urgent' : 'low' } : { assigned_to: i % 2 === 0 ? kim.id : null }),
    );
    const searches = Array.from({ length: 12 }, (_, i) => async () => {
      const page = await queue(`?q=printer&${i % 2 === 0 ? 'status=open' : 'priority=urgent'}&limit=100`);
      expect(page.total).toBe(page.tickets.length);
      for (const ticket of page.tickets) expect(i % 2 === 0 ? ticket.status : ticket.priority).toBe(i % 2 === 0 ? 'open' : 'urgent');
    });
    await Promise.all(racing.flatMap((change, i) => [change(), (searches[i] as () => Promise<void>)()]));
    await agree();
  });
});
