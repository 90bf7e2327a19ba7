import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { alice, bob, buildTestApp, carol, createTicketAs, problem, sam, setTicket, TICKETS, type TestApp, type TestUser } from '../../test/helpers.js';
import { dialects } from '../../test/dialects.js';
import { createDb, databaseVersion } from '../db/database.js';
import { rebuildTallies } from '../tickets/ticket.tallies.js';

describe.each(dialects())('%s', (dialect) => {
  const ADMIN = '/api/v1/admin/support/tickets';
  const kim: TestUser = { id: 'user_kim', email: 'kim@helpdesk.test', org: 'org_helpdesk', role: 'support' };

  let t: TestApp;
  beforeEach(async () => {
    t = await buildTestApp(dialect);
    // Staff become known (and assignable) by calling the API once with a verified token.
    await t.as(sam, { url: '/api/v1/admin/support/agents' });
    await t.as(kim, { url: '/api/v1/admin/support/agents' });
  });
  afterEach(async () => {
    await t.close();
  });

  async function ok(res: { statusCode: number; body: string; json: () => unknown }, status = 200) {
    if (res.statusCode !== status) throw new Error(`expected ${status}, got ${res.statusCode}: ${res.body}`);
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    return res.json() as any;
  }
  const queue = async (query = '', user: TestUser = sam) => ok(await t.as(user, { url: `${ADMIN}${query}` }));
  const staffDetail = async (id: string) => ok(await t.as(sam, { url: `${ADMIN}/${id}` }));
  const patch = (id: string, payload: unknown, headers: Record<string, string> = {}, user: TestUser = sam) =>
    t.as(user, { method: 'PATCH', url: `${ADMIN}/${id}`, payload, headers });
  const staffComment = (id: string, payload: unknown, user: TestUser = sam) =>
    t.as(user, { method: 'POST', url: `${ADMIN}/${id}/comments`, payload });

  /** Everything the customer can see of their tickets, as one JSON string. */
  async function customerView(user: TestUser, id: string): Promise<string> {
    const detail = await t.as(user, { url: `${TICKETS}/${id}` });
    const list = await t.as(user, { url: TICKETS });
    return JSON.stringify([detail.json(), list.json()]);
  }

  describe('staff operations: function-level security', () => {
    const paths = [
      ['GET', ADMIN],
      ['GET', `${ADMIN}/01934e7a-0000-7000-8000-000000000000`],
      ['PATCH', `${ADMIN}/01934e7a-0000-7000-8000-000000000000`],
      ['POST', `${ADMIN}/01934e7a-0000-7000-8000-000000000000/comments`],
      ['GET', '/api/v1/admin/support/stats'],
      ['GET', '/api/v1/admin/support/agents'],
    ] as const;

    it.each(paths)('%s %s is 403 for a customer, even an org admin, and 401 without a token', async (method, url) => {
      const payload = method === 'GET' ? undefined : { content: 'x', priority: 'high' };
      for (const user of [alice, { ...alice, org: 'org_acme' }, { id: 'user_x', email: 'x@x.test', role: 'customer' }]) {
        const body = problem(await t.as(user, { method, url, payload }), 403);
        expect(body).toMatchObject({ title: 'Forbidden', detail: 'this operation is for support staff only' });
      }
      const orgAdmin = await t.tokenFor(alice, { o: { id: 'org_acme', rol: 'admin' } });
      problem(await t.app.inject({ method, url, headers: { authorization: `Bearer ${orgAdmin}` }, ...(payload ? { payload } : {}) }), 403);
      problem(await t.as(null, { method, url, payload }), 401);
    });
  });

  describe('GET /admin/support/tickets', () => {
    it('lists every tenant’s tickets with tenant_id and created_by, most recently updated first', async () => {
      const a = await createTicketAs(t, alice, { title: 'acme one' });
      const c = await createTicketAs(t, carol, { title: 'globex one' });
      const body = await queue();
      expect(body.$schema).toBe('/api/v1/schemas/AdminTicketListResponse.json');
      expect(body.total).toBe(2);
      expect(body.tickets.map((x: { ticket_id: string }) => x.ticket_id)).toEqual([c.ticket_id, a.ticket_id]);
      expect(Object.keys(body.tickets[0]).sort()).toEqual(
        [
          'assigned_to_email', 'comment_count', 'created_at', 'created_by', 'created_by_email', 'last_customer_message_at', 'last_message_from',
          'last_message_preview', 'last_staff_reply_at', 'number', 'priority', 'status', 'tenant_id', 'ticket_id', 'title', 'type', 'unread',
          'updated_at', 'waiting_on', 'waiting_since',
        ],
      );
      expect(body.tickets[0]).toMatchObject({ tenant_id: 'org_globex', created_by: carol.id });
    });

    it('filters by status, type, priority, assignee (id, me, none), tenant and creator', async () => {
      const a1 = await createTicketAs(t, alice, { type: 'bug' });
      const a2 = await createTicketAs(t, alice, { type: 'billing' });
      const b1 = await createTicketAs(t, bob, { type: 'bug' });
      const c1 = await createTicketAs(t, carol, { type: 'account' });
      await ok(await patch(a1.ticket_id, { priority: 'urgent', assigned_to: sam.id }));
      await ok(await patch(b1.ticket_id, { status: 'in_progress', assigned_to: kim.id }));
      await ok(await patch(c1.ticket_id, { status: 'resolved' }));
      const ids = async (query: string) => (await queue(query)).tickets.map((x: { ticket_id: string }) => x.ticket_id).sort();

      expect(await ids('?status=in_progress')).toEqual([b1.ticket_id]);
      expect(await ids('?type=bug')).toEqual([a1.ticket_id, b1.ticket_id].sort());
      expect(await ids('?priority=urgent')).toEqual([a1.ticket_id]);
      expect(await ids(`?assigned_to=${kim.id}`)).toEqual([b1.ticket_id]);
      expect(await ids('?assigned_to=me')).toEqual([a1.ticket_id]);
      expect(await ids('?assigned_to=none')).toEqual([a2.ticket_id, c1.ticket_id].sort());
      expect(await ids('?tenant_id=org_acme')).toEqual([a1.ticket_id, a2.ticket_id, b1.ticket_id].sort());
      expect(await ids(`?created_by=${alice.id}&type=billing`)).toEqual([a2.ticket_id]);
      expect((await queue('?tenant_id=org_acme&limit=2')).has_more).toBe(true);
    });

    it('sorts by created_at, updated_at and priority in either direction', async () => {
      const low = await createTicketAs(t, alice, { title: 'low' });
      const urgent = await createTicketAs(t, alice, { title: 'urgent' });
      const high = await createTicketAs(t, alice, { title: 'high' });
      await ok(await patch(low.ticket_id, { priority: 'low' }));
      await ok(await patch(urgent.ticket_id, { priority: 'urgent' }));
      await ok(await patch(high.ticket_id, { priority: 'high' }));
      const titles = async (sort: string) => (await queue(`?sort=${sort}`)).tickets.map((x: { title: string }) => x.title);
      expect(await titles('-priority')).toEqual(['urgent', 'high', 'low']);
      expect(await titles('priority')).toEqual(['low', 'high', 'urgent']);
      expect(await titles('created_at')).toEqual(['low', 'urgent', 'high']);
      expect(await titles('-created_at')).toEqual(['high', 'urgent', 'low']);
      expect(await titles('-updated_at')).toEqual(['high', 'urgent', 'low']);
      await ok(await patch(low.ticket_id, { type: 'other' }));
      expect(await titles('-updated_at')).toEqual(['low', 'high', 'urgent']);
      expect(await titles('updated_at')).toEqual(['urgent', 'high', 'low']);
    });

    it('finds words in titles, descriptions and comments, internal notes included, within the other filters', async () => {
      const a = await createTicketAs(t, alice, { title: 'Invoice totals wrong', description: 'VAT is doubled' });
      const b = await createTicketAs(t, bob, { title: 'Login', description: 'cannot sign in' });
      const c = await createTicketAs(t, carol, { title: 'Export', description: 'csv' });
      await t.as(bob, { method: 'POST', url: `${TICKETS}/${b.ticket_id}/comments`, payload: { content: 'Started after the SAML migration' } });
      await ok(await staffComment(c.ticket_id, { content: 'Related to the saml outage, see incident 42', is_internal: true }), 201);
      const ids = async (query: string) => (await queue(query)).tickets.map((x: { ticket_id: string }) => x.ticket_id).sort();

      expect(await ids('?q=invoice')).toEqual([a.ticket_id]);
      expect(await ids('?q=vat%20DOUBLED')).toEqual([a.ticket_id]);
      expect(await ids('?q=saml')).toEqual([b.ticket_id, c.ticket_id].sort());
      expect(await ids('?q=saml&tenant_id=org_globex')).toEqual([c.ticket_id]);
      expect(await ids('?q=saml&status=closed')).toEqual([]);
      expect(await ids('?q=saml%20incident')).toEqual([c.ticket_id]);
      expect((await queue('?q=saml')).total).toBe(2);
      expect(await ids('?q=%25')).toEqual([]); // no word in it: nothing, not everything
      expect(await ids('?q=inv')).toEqual([a.ticket_id]); // words match by prefix
      expect(await ids('?q=login%20saml')).toEqual([b.ticket_id]); // one word in the title, one in a comment
      expect(await ids('?q=invoice%20saml')).toEqual([]);
      expect(await ids('?q=voice')).toEqual([]); // but not inside a word
    });

    it('matches nothing for a word no index holds (²), with or without filters or other words, on every database', async () => {
      const a = await createTicketAs(t, alice, { title: 'Invoice totals wrong', description: 'VAT is doubled' });
      await createTicketAs(t, carol, { title: 'Export', description: 'csv' });
      const found = async (query: string) => {
        const page = await queue(query);
        return { total: page.total, ids: page.tickets.map((x: { ticket_id: string }) => x.ticket_id) };
      };
      for (const query of ['?q=%C2%B2', '?q=%C2%B2&status=open', '?q=%C2%B2&tenant_id=org_acme', '?q=%C2%B2&assigned_to=none&sort=-priority', '?q=invoice%20%C2%B2', '?q=invoice%20%C2%B2&status=open']) {
        expect(await found(query), query).toEqual({ total: 0, ids: [] });
      }
      expect(await found('?q=invoice&status=open')).toEqual({ total: 1, ids: [a.ticket_id] });
    });

    it('narrows a search by every filter, page by page, and never matches a typed word against a filter', async () => {
      const jams = (await createTicketAs(t, alice, { title: 'Printer jams', type: 'bug' })).ticket_id;
      const offline = (await createTicketAs(t, alice, { title: 'Printer offline', type: 'feature_request' })).ticket_id;
      const toner = (await createTicketAs(t, bob, { title: 'Printer toner', type: 'billing' })).ticket_id;
      const driver = (await createTicketAs(t, carol, { title: 'Printer driver', type: 'bug' })).ticket_id;
      const paper = (await createTicketAs(t, carol, { title: 'Printer paper', type: 'other' })).ticket_id;
      await ok(await patch(jams, { status: 'in_progress', priority: 'urgent', assigned_to: sam.id }));
      await ok(await patch(offline, { priority: 'low', assigned_to: kim.id }));
      await ok(await patch(driver, { status: 'resolved', assigned_to: sam.id }));
      await ok(await t.as(carol, { method: 'POST', url: `${TICKETS}/${paper}/close` }));
      await ok(await patch(toner, { assigned_to: kim.id }));
      await ok(await patch(toner, { assigned_to: null }));

      const filters = ['status=open', 'status=in_progress', 'status=closed', 'type=feature_request', 'type=bug', 'priority=normal', 'priority=urgent',
        'assigned_to=none', `assigned_to=${sam.id}`, 'assigned_to=me', 'tenant_id=org_globex', `created_by=${bob.id}`, 'status=open&assigned_to=none&tenant_id=org_acme'];
      for (const filter of filters) {
        // Every ticket says "printer": the search must select what the filter alone does.
        const expected = await queue(`?${filter}`);
        expect(expected.total, filter).toBeGreaterThan(0);
        const found = await queue(`?q=printer&${filter}`);
        expect({ filter, total: found.total, ids: found.tickets.map((x: { ticket_id: string }) => x.ticket_id) }).toEqual({
          filter,
          total: expected.total,
          ids: expected.tickets.map((x: { ticket_id: string }) => x.ticket_id),
        });
        // One ticket per page reads the pages the other way round (walking the sort's index).
        const pages = [];
        for (let offset = 0; offset < expected.total; offset++) pages.push(...(await queue(`?q=printer&${filter}&limit=1&offset=${offset}`)).tickets);
        expect(pages.map((x: { ticket_id: string }) => x.ticket_id), filter).toEqual(found.tickets.map((x: { ticket_id: string }) => x.ticket_id));
      }
      // Ids are whatever the sign-in service issues: quotes, query operators, accents, length.
      const odd: TestUser = { id: `user_"x' OR *:ü${'z'.repeat(150)}`, email: 'odd@odd.test', org: `org_'&:* "ñ"${'q'.repeat(150)}` };
      const oddTicket = (await createTicketAs(t, odd, { title: 'Printer smokes' })).ticket_id;
      for (const filter of [`tenant_id=${encodeURIComponent(odd.org as string)}`, `created_by=${encodeURIComponent(odd.id)}`]) {
        const found = await queue(`?q=printer&${filter}`);
        expect({ filter, total: found.total, ids: found.tickets.map((x: { ticket_id: string }) => x.ticket_id) }).toEqual({ filter, total: 1, ids: [oddTicket] });
      }
      // The filters' own tokens, typed as words, match nothing: no ticket says them.
      for (const word of ['sopen', 'pnormal', 'ybug', 'sinprogress', 'a']) expect((await queue(`?q=${word}`)).total, word).toBe(0);
    });

    it('moves no version by reading, so that views no one changed are served from memory', async () => {
      await createTicketAs(t, alice, { title: 'Printer jams' });
      await queue(); // the first request of a day records the agent, a write
      // On PostgreSQL the version is the server's snapshot, which a test writing to another
      // database moves too: a read that wrote would move it every time, so one still try is proof.
      const stillAcross = async () => {
        const before = await databaseVersion(t.db, dialect);
        for (const query of ['?q=printer', '?q=printer&status=open&limit=1', '?q=zzz', '?status=open', '?sort=-priority']) await queue(query);
        return (await databaseVersion(t.db, dialect)) === before;
      };
      let still = false;
      for (let i = 0; i < 10 && !still; i++) still = await stillAcross();
      expect(still).toBe(true);
    });

    it('answers the same query anew after any change, whoever made it', async () => {
      const a = await createTicketAs(t, alice, { title: 'Printer jams' });
      const search = async () => {
        const body = await queue('?q=jams&status=open');
        return { total: body.total, tickets: body.tickets.map((x: { ticket_id: string; priority: string }) => `${x.ticket_id} ${x.priority}`) };
      };
      expect(await search()).toEqual({ total: 1, tickets: [`${a.ticket_id} normal`] });
      expect(await search()).toEqual({ total: 1, tickets: [`${a.ticket_id} normal`] });

      // A customer's comment, a triage, a new ticket, a close: each shows in the very next answer.
      const b = await createTicketAs(t, bob, { title: 'Scanner' });
      await t.as(bob, { method: 'POST', url: `${TICKETS}/${b.ticket_id}/comments`, payload: { content: 'it jams too' } });
      expect((await search()).total).toBe(2);
      await ok(await patch(a.ticket_id, { priority: 'urgent' }));
      expect((await search()).tickets).toContain(`${a.ticket_id} urgent`);
      await ok(await t.as(alice, { method: 'POST', url: `${TICKETS}/${a.ticket_id}/close` }));
      expect(await search()).toEqual({ total: 1, tickets: [`${b.ticket_id} normal`] });
      // And a write the server did not make (the command line, another process).
      const other = createDb(t.config.database);
      try {
        await other.updateTable('tickets').set({ priority: 'low' }).where('id', '=', b.ticket_id).execute();
        await rebuildTallies(other);
      } finally {
        await other.destroy();
      }
      expect(await search()).toEqual({ total: 1, tickets: [`${b.ticket_id} low`] });

      // `me` is whoever asks.
      await ok(await patch(b.ticket_id, { assigned_to: sam.id }));
      expect((await queue('?assigned_to=me', sam)).total).toBe(1);
      expect((await queue('?assigned_to=me', kim)).total).toBe(0);
    });

    it('rejects bad parameters', async () => {
      expect(problem(await t.as(sam, { url: `${ADMIN}?sort=title` }), 422).errors?.[0]).toMatchObject({ location: 'query.sort' });
      expect(problem(await t.as(sam, { url: `${ADMIN}?priority=p1` }), 422).errors?.[0]).toMatchObject({ location: 'query.priority' });
      expect(problem(await t.as(sam, { url: `${ADMIN}?limit=500` }), 422).errors?.[0]).toMatchObject({ location: 'query.limit' });
    });
  });

  describe('GET /admin/support/tickets/{ticketId}', () => {
    it('shows internal notes, counts them, and sends an ETag', async () => {
      const ticket = await createTicketAs(t, alice);
      await ok(await staffComment(ticket.ticket_id, { content: 'public' }), 201);
      await ok(await staffComment(ticket.ticket_id, { content: 'internal', is_internal: true }), 201);
      const res = await t.as(sam, { url: `${ADMIN}/${ticket.ticket_id}` });
      expect(res.headers.etag).toMatch(/^"\d+"$/);
      const body = await ok(res);
      expect(body.ticket.comments.map((c: { content: string; is_internal: boolean }) => [c.content, c.is_internal])).toEqual([
        ['public', false],
        ['internal', true],
      ]);
      expect(body.ticket.comment_count).toBe(2);
      // A PATCH reads the thread with the ticket, in one statement: the same thread as the detail's.
      const patched = await ok(await patch(ticket.ticket_id, { priority: 'high' }));
      expect(patched.comments).toEqual(body.ticket.comments);
      expect((await queue()).tickets[0].comment_count).toBe(2); // one meaning for staff: every comment they see
      problem(await t.as(sam, { url: `${ADMIN}/01934e7a-0000-7000-8000-000000000000` }), 404);
      problem(await t.as(sam, { url: `${ADMIN}/nope` }), 422);
    });
  });

  describe('PATCH /admin/support/tickets/{ticketId}', () => {
    it('writes exactly one history row per changed field, visible to the customer', async () => {
      const ticket = await createTicketAs(t, alice);
      const res = await patch(ticket.ticket_id, { status: 'in_progress', priority: 'high', type: 'billing', assigned_to: sam.id });
      const body = await ok(res);
      expect(body).toMatchObject({ status: 'in_progress', priority: 'high', type: 'billing', assigned_to: sam.id, assigned_to_email: sam.email });
      expect(res.headers.etag).toMatch(/^"\d+"$/);
      const history = (await staffDetail(ticket.ticket_id)).history.map((h: Record<string, unknown>) => [h.field_changed, h.old_value, h.new_value, h.changed_by, h.changed_by_email]);
      expect(history).toEqual([
        ['status', 'open', 'in_progress', sam.id, sam.email],
        ['priority', 'normal', 'high', sam.id, sam.email],
        ['type', 'bug', 'billing', sam.id, sam.email],
        ['assigned_to', null, sam.id, sam.id, sam.email],
      ]);
      const customer = await t.as(alice, { url: `${TICKETS}/${ticket.ticket_id}` });
      expect(customer.json().history).toHaveLength(4);
      expect((await t.as(alice, { url: TICKETS })).json().tickets[0]).toMatchObject({ priority: 'high', assigned_to_email: sam.email });
    });

    it('writes nothing for a no-op change and keeps the ETag', async () => {
      const ticket = await createTicketAs(t, alice);
      const before = await t.as(sam, { url: `${ADMIN}/${ticket.ticket_id}` });
      const res = await patch(ticket.ticket_id, { status: 'open', priority: 'normal', type: 'bug', assigned_to: null });
      await ok(res);
      expect(res.headers.etag).toBe(before.headers.etag);
      const after = await t.as(sam, { url: `${ADMIN}/${ticket.ticket_id}` });
      expect(after.json()).toEqual(before.json());
      expect(after.headers.etag).toBe(before.headers.etag);
      await ok(await patch(ticket.ticket_id, {}));
      expect((await staffDetail(ticket.ticket_id)).history).toEqual([]);
    });

    it('follows the status rules: resolved stamps resolved_at, reopening clears it, staff may reopen closed', async () => {
      const ticket = await createTicketAs(t, alice);
      const resolved = await ok(await patch(ticket.ticket_id, { status: 'resolved' }));
      expect(resolved.resolved_at).toMatch(/Z$/);
      const reopened = await ok(await patch(ticket.ticket_id, { status: 'in_progress' }));
      expect(reopened.resolved_at).toBeNull();
      await t.as(alice, { method: 'POST', url: `${TICKETS}/${ticket.ticket_id}/close` });
      const closedAt = (await staffDetail(ticket.ticket_id)).ticket.resolved_at;
      expect(closedAt).toMatch(/Z$/);
      const again = await ok(await patch(ticket.ticket_id, { status: 'open' }));
      expect([again.status, again.resolved_at]).toEqual(['open', null]);
      // The customer can comment again once staff reopened it.
      expect((await t.as(alice, { method: 'POST', url: `${TICKETS}/${ticket.ticket_id}/comments`, payload: { content: 'thanks' } })).statusCode).toBe(201);
    });

    it('assigns only known staff, resolving their email, and unassigns with null', async () => {
      const ticket = await createTicketAs(t, alice);
      for (const assignee of ['user_nobody', alice.id]) {
        const body = problem(await patch(ticket.ticket_id, { assigned_to: assignee, priority: 'high' }), 422);
        expect(body.errors).toEqual([{ location: 'body.assigned_to', message: 'expected the user ID of a known staff member', value: assignee }]);
      }
      expect((await staffDetail(ticket.ticket_id)).ticket.priority).toBe('normal'); // nothing changed
      expect(await ok(await patch(ticket.ticket_id, { assigned_to: kim.id }))).toMatchObject({ assigned_to: kim.id, assigned_to_email: kim.email });
      expect(await ok(await patch(ticket.ticket_id, { assigned_to: null }))).toMatchObject({ assigned_to: null, assigned_to_email: null });
      expect((await staffDetail(ticket.ticket_id)).history.map((h: { new_value: string | null }) => h.new_value)).toEqual([kim.id, null]);
    });

    it('refuses a stale If-Match with 412 and changes nothing; accepts the current one', async () => {
      const ticket = await createTicketAs(t, alice);
      const etag = (await t.as(sam, { url: `${ADMIN}/${ticket.ticket_id}` })).headers.etag as string;
      const first = await patch(ticket.ticket_id, { priority: 'high' }, { 'if-match': etag });
      await ok(first);
      const stale = await patch(ticket.ticket_id, { priority: 'low' }, { 'if-match': etag }, kim);
      expect(problem(stale, 412).title).toBe('Precondition Failed');
      const after = await staffDetail(ticket.ticket_id);
      expect(after.ticket.priority).toBe('high');
      expect(after.history).toHaveLength(1);
      // Strong comparison: a weak version of the current tag does not match either.
      problem(await patch(ticket.ticket_id, { priority: 'low' }, { 'if-match': `W/${first.headers.etag as string}` }, kim), 412);
      await ok(await patch(ticket.ticket_id, { priority: 'low' }, { 'if-match': first.headers.etag as string }, kim));
    });

    it('lets one of two concurrent edits based on the same ETag win; without If-Match both land in history', async () => {
      const ticket = await createTicketAs(t, alice);
      const etag = (await t.as(sam, { url: `${ADMIN}/${ticket.ticket_id}` })).headers.etag as string;
      const raced = await Promise.all([
        patch(ticket.ticket_id, { priority: 'high' }, { 'if-match': etag }, sam),
        patch(ticket.ticket_id, { priority: 'urgent' }, { 'if-match': etag }, kim),
      ]);
      expect(raced.map((r) => r.statusCode).sort()).toEqual([200, 412]);
      const both = await Promise.all([patch(ticket.ticket_id, { type: 'account' }, {}, sam), patch(ticket.ticket_id, { status: 'in_progress' }, {}, kim)]);
      expect(both.map((r) => r.statusCode)).toEqual([200, 200]);
      const history = (await staffDetail(ticket.ticket_id)).history.map((h: { field_changed: string }) => h.field_changed);
      expect(history.sort()).toEqual(['priority', 'status', 'type']);
    });

    it('keeps the history a chain under many concurrent edits: each old value the one before it set', async () => {
      const ticket = await createTicketAs(t, alice);
      const priorities = ['low', 'high', 'urgent', 'normal'];
      const results = await Promise.all(
        Array.from({ length: 24 }, (_, i) => patch(ticket.ticket_id, { priority: priorities[i % priorities.length] }, {}, i % 2 ? sam : kim)),
      );
      expect(results.map((r) => r.statusCode)).toEqual(results.map(() => 200));
      const detail = await staffDetail(ticket.ticket_id);
      let priority = 'normal';
      for (const row of detail.history as Array<{ field_changed: string; old_value: string; new_value: string }>) {
        expect([row.field_changed, row.old_value]).toEqual(['priority', priority]);
        expect(row.new_value).not.toBe(priority);
        priority = row.new_value;
      }
      expect(detail.history.length).toBeGreaterThan(0);
      expect(detail.ticket.priority).toBe(priority);
    });

    it('answers each edit with the comments of the ticket it wrote, while notes are being added', async () => {
      const ticket = await createTicketAs(t, alice);
      const priorities = ['low', 'high', 'urgent', 'normal'];
      const edits: Array<ReturnType<typeof patch>> = [];
      const notes: Array<ReturnType<typeof staffComment>> = [];
      for (let i = 0; i < 20; i++) {
        edits.push(patch(ticket.ticket_id, { priority: priorities[i % priorities.length] }));
        notes.push(staffComment(ticket.ticket_id, { content: `note ${i}`, is_internal: true }));
      }
      const answered = await Promise.all(edits);
      expect((await Promise.all(notes)).map((r) => r.statusCode)).toEqual(notes.map(() => 201));
      for (const res of answered) {
        const body = await ok(res);
        // The staff count is every comment, notes included: it and the list come from one state.
        expect(body.comment_count).toBe(body.comments.length);
      }
    });

    it('rejects fields staff may not set, and bad values', async () => {
      const ticket = await createTicketAs(t, alice);
      for (const [field, value] of [
        ['title', 'x'],
        ['tenant_id', 'org_globex'],
        ['comment_count', 0],
        ['resolved_at', null],
      ] as const) {
        expect(problem(await patch(ticket.ticket_id, { [field]: value }), 422).errors).toEqual([
          { location: `body.${field}`, message: 'unexpected property', value },
        ]);
      }
      expect(problem(await patch(ticket.ticket_id, { status: 'done' }), 422).errors?.[0]?.location).toBe('body.status');
      const mergePatch = await t.app.inject({
        method: 'PATCH',
        url: `${ADMIN}/${ticket.ticket_id}`,
        headers: { authorization: `Bearer ${await t.tokenFor(sam)}`, 'content-type': 'application/merge-patch+json' },
        payload: JSON.stringify({ priority: 'low' }),
      });
      expect(mergePatch.json().priority).toBe('low');
      problem(await patch('01934e7a-0000-7000-8000-000000000000', { priority: 'low' }), 404);
    });
  });

  describe('POST /admin/support/tickets/{ticketId}/comments', () => {
    it('posts a public reply the customer sees, as staff', async () => {
      const ticket = await createTicketAs(t, alice);
      const comment = await ok(await staffComment(ticket.ticket_id, { content: 'We are on it.' }), 201);
      expect(comment).toMatchObject({ author_type: 'staff', author_id: sam.id, is_internal: false, content: 'We are on it.', channel: 'web' });
      const customer = (await t.as(alice, { url: `${TICKETS}/${ticket.ticket_id}` })).json();
      // The customer's shape: the same comment, without the staff-side channel.
      const { channel: _channel, ...shared } = comment;
      expect(customer.ticket.comments).toEqual([{ ...shared, $schema: '/api/v1/schemas/SupportTicketComment.json' }]);
      expect(customer.ticket.comment_count).toBe(1);
    });

    it('keeps internal notes from the customer after every staff action', async () => {
      const ticket = await createTicketAs(t, alice);
      const secret = 'INTERNAL-ONLY refund approved by finance';
      const baseline = await customerView(alice, ticket.ticket_id);
      const note = await ok(await staffComment(ticket.ticket_id, { content: secret, is_internal: true }), 201);
      expect(note).toMatchObject({ is_internal: true, author_type: 'staff' });
      // An internal note changes nothing the customer can see, not even updated_at or a count.
      expect(await customerView(alice, ticket.ticket_id)).toBe(baseline);

      // [who acts, the action]: staff responses may show notes; a customer's never may.
      const actions: Array<['staff' | 'customer', () => ReturnType<typeof patch>]> = [
        ['staff', () => patch(ticket.ticket_id, { priority: 'high' })],
        ['staff', () => patch(ticket.ticket_id, { assigned_to: sam.id })],
        ['staff', () => staffComment(ticket.ticket_id, { content: 'public reply' })],
        ['staff', () => staffComment(ticket.ticket_id, { content: `${secret} again`, is_internal: true })],
        ['customer', () => t.as(alice, { method: 'POST', url: `${TICKETS}/${ticket.ticket_id}/comments`, payload: { content: 'ok' } })],
        ['staff', () => patch(ticket.ticket_id, { status: 'resolved' })],
        ['customer', () => t.as(alice, { method: 'POST', url: `${TICKETS}/${ticket.ticket_id}/close` })],
      ];
      for (const [who, action] of actions) {
        const res = await action();
        expect(res.statusCode).toBeLessThan(300);
        if (who === 'customer') expect(res.body).not.toContain('INTERNAL-ONLY');
        const view = await customerView(alice, ticket.ticket_id);
        expect(view).not.toContain('INTERNAL-ONLY');
        const detail = (await t.as(alice, { url: `${TICKETS}/${ticket.ticket_id}` })).json();
        expect(detail.ticket.comments.every((c: { is_internal: boolean }) => !c.is_internal)).toBe(true);
        expect(detail.ticket.comment_count).toBe(detail.ticket.comments.length);
        expect((await t.as(alice, { url: TICKETS })).json().tickets[0].comment_count).toBe(detail.ticket.comments.length);
      }
      const staff = await staffDetail(ticket.ticket_id);
      expect(staff.ticket.comment_count).toBe(4);
      expect(staff.ticket.comments.filter((c: { is_internal: boolean }) => c.is_internal)).toHaveLength(2);
    });

    it('stamps the first response with the first public reply: not an internal note, not a later reply', async () => {
      const ticket = await createTicketAs(t, alice);
      const firstResponses = async () => (await ok(await t.as(sam, { url: '/api/v1/admin/support/stats' }))).first_response_sample;
      await ok(await staffComment(ticket.ticket_id, { content: 'checking with finance', is_internal: true }), 201);
      expect(await firstResponses()).toBe(0);
      await ok(await staffComment(ticket.ticket_id, { content: 'We are on it.' }), 201);
      expect(await firstResponses()).toBe(1);
      const stamped = (await staffDetail(ticket.ticket_id)).ticket.updated_at;
      await new Promise((resolve) => setTimeout(resolve, 5));
      await ok(await staffComment(ticket.ticket_id, { content: 'Fixed in the next release.' }), 201);
      expect(await firstResponses()).toBe(1);
      // A later public reply still moves updated_at; the first response stays the first.
      expect((await staffDetail(ticket.ticket_id)).ticket.updated_at > stamped).toBe(true);
    });

    it('rejects bad bodies and unknown tickets', async () => {
      const ticket = await createTicketAs(t, alice);
      expect(problem(await staffComment(ticket.ticket_id, { content: 'x', is_internal: 'yes' }), 422).errors?.[0]).toMatchObject({
        location: 'body.is_internal',
        message: 'expected boolean',
      });
      problem(await staffComment(ticket.ticket_id, { content: 'x', author_type: 'user' }), 422);
      problem(await staffComment(ticket.ticket_id, {}), 422);
      problem(await staffComment('01934e7a-0000-7000-8000-000000000000', { content: 'x' }), 404);
    });

    it('counts concurrent staff and customer comments exactly', async () => {
      const ticket = await createTicketAs(t, alice);
      const results = await Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          i % 3 === 0
            ? t.as(alice, { method: 'POST', url: `${TICKETS}/${ticket.ticket_id}/comments`, payload: { content: `c${i}` } })
            : staffComment(ticket.ticket_id, { content: `s${i}`, is_internal: i % 3 === 1 }),
        ),
      );
      expect(results.every((r) => r.statusCode === 201)).toBe(true);
      expect((await staffDetail(ticket.ticket_id)).ticket.comment_count).toBe(30);
      expect((await t.as(alice, { url: `${TICKETS}/${ticket.ticket_id}` })).json().ticket.comment_count).toBe(20);
    });
  });

  describe('GET /admin/support/stats', () => {
    it('matches a hand-computed fixture', async () => {
      const day = 86_400_000;
      const at = (ms: number) => new Date(ms).toISOString();
      const now = Date.now();
      // [creator, type, priority, status, created (ms ago), first response after (s), resolved after (s), assigned]
      const fixture: Array<[TestUser, string, string, string, number, number | null, number | null, boolean]> = [
        [alice, 'bug', 'high', 'open', 1 * day, 60, null, false],
        [alice, 'bug', 'normal', 'in_progress', 2 * day, 120, null, true],
        [bob, 'billing', 'urgent', 'resolved', 3 * day, 600, 3600, true],
        [carol, 'account', 'low', 'closed', 4 * day, null, 7200, false],
        [carol, 'other', 'normal', 'open', 40 * day, 10, 20, false],
      ];
      for (const [user, type, priority, status, ago, response, resolution, assigned] of fixture) {
        const ticket = await createTicketAs(t, user, { type });
        const created = now - ago;
        await setTicket(t.db, ticket.ticket_id, {
          priority: priority as 'high',
          status: status as 'open',
          created_at: at(created),
          first_response_at: response === null ? null : at(created + response * 1000),
          resolved_at: resolution === null ? null : at(created + resolution * 1000),
          assigned_to: assigned ? sam.id : null,
        });
      }
      const stats = await ok(await t.as(sam, { url: '/api/v1/admin/support/stats' }));
      expect(stats).toEqual({
        $schema: '/api/v1/schemas/SupportStats.json',
        total: 5,
        by_status: { open: 2, in_progress: 1, resolved: 1, closed: 1 },
        by_priority: { low: 1, normal: 2, high: 1, urgent: 1 },
        by_type: { support: 0, bug: 2, feature_request: 0, billing: 1, account: 1, other: 1 },
        open_unassigned: 2, // the 1-day and 40-day open tickets
        window_days: 30,
        median_first_response_seconds: 120, // 60, 120, 600
        first_response_sample: 3,
        median_resolution_seconds: 5400, // 3600, 7200
        resolution_sample: 2,
      });
      const wide = await ok(await t.as(sam, { url: '/api/v1/admin/support/stats?days=60' }));
      expect([wide.median_first_response_seconds, wide.median_resolution_seconds]).toEqual([90, 3600]); // 10,60,120,600 and 20,3600,7200
      problem(await t.as(sam, { url: '/api/v1/admin/support/stats?days=0' }), 422);
    });
  });

  describe('GET /admin/support/agents', () => {
    it('lists staff seen with a valid token, and no customers', async () => {
      await t.as(alice, { url: TICKETS });
      const body = await ok(await t.as(sam, { url: '/api/v1/admin/support/agents' }));
      expect(body.$schema).toBe('/api/v1/schemas/AgentListResponse.json');
      expect(body.agents.map((a: { user_id: string; email: string }) => [a.user_id, a.email])).toEqual([
        [kim.id, kim.email],
        [sam.id, sam.email],
      ]);
      expect(body.agents[0].last_seen_at).toMatch(/Z$/);
    });
  });
});
