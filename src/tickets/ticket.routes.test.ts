import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { alice, bob, buildTestApp, carol, createTicketAs, problem, sam, setTicket, TICKETS, type TestApp, type TestUser } from '../../test/helpers.js';
import { addStaffComment } from '../admin/admin.service.js';
import { dialects } from '../../test/dialects.js';
import { createDb } from '../db/database.js';

describe.each(dialects())('%s', (dialect) => {
  let t: TestApp;
  beforeEach(async () => {
    t = await buildTestApp(dialect);
  });
  afterEach(async () => {
    await t.close();
  });

  const staffActor = { userId: sam.id, tenantId: 'org_helpdesk', email: sam.email, isStaff: true };
  const SUMMARY_FIELDS = [
    'assigned_to_email',
    'comment_count',
    'created_at',
    'created_by_email',
    'number',
    'priority',
    'status',
    'ticket_id',
    'title',
    'type',
    'updated_at',
    'waiting_on',
  ];
  const TICKET_FIELDS = [
    '$schema',
    'assigned_to',
    'assigned_to_email',
    'attachments',
    'comment_count',
    'comments',
    'created_at',
    'created_by',
    'created_by_email',
    'description',
    'number',
    'priority',
    'resolved_at',
    'status',
    'tenant_id',
    'ticket_id',
    'title',
    'type',
    'updated_at',
    'waiting_on',
  ];
  const COMMENT_FIELDS = ['$schema', 'attachments', 'author_email', 'author_id', 'author_type', 'comment_id', 'content', 'created_at', 'is_internal', 'ticket_id'];
  const RFC3339_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
  const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

  async function detail(user: TestUser, id: string) {
    const res = await t.as(user, { url: `${TICKETS}/${id}` });
    expect(res.statusCode).toBe(200);
    return res.json();
  }

  async function list(user: TestUser, query = '') {
    const res = await t.as(user, { url: `${TICKETS}${query}` });
    expect(res.statusCode).toBe(200);
    return res.json();
  }

  /** What every id-taking operation must do for callers who may not see the ticket. */
  const idOperations: Array<{ name: string; method: string; suffix: string; payload?: unknown }> = [
    { name: 'get', method: 'GET', suffix: '' },
    { name: 'close', method: 'POST', suffix: '/close' },
    { name: 'comment', method: 'POST', suffix: '/comments', payload: { content: 'hello?' } },
  ];

  describe.each(idOperations)('$name: object-level security', ({ method, suffix, payload }) => {
    it('is 404 for another user in the same tenant, another tenant, and an unknown id — with the same body', async () => {
      const ticket = await createTicketAs(t, alice);
      const unknown = '01934e7a-0000-7000-8000-000000000000';
      const bodies = [];
      for (const [user, id] of [
        [bob, ticket.ticket_id],
        [carol, ticket.ticket_id],
        [alice, unknown],
      ] as const) {
        const res = await t.as(user, { method, url: `${TICKETS}/${id}${suffix}`, payload });
        const body = problem(res, 404);
        bodies.push({ title: body.title, detail: body.detail });
      }
      expect(bodies[0]).toEqual(bodies[1]);
      expect(bodies[1]).toEqual(bodies[2]);
      // And nothing changed for the owner.
      const after = await detail(alice, ticket.ticket_id);
      expect(after.ticket.status).toBe('open');
      expect(after.ticket.comments).toEqual([]);
      expect(after.history).toEqual([]);
    });

    it('is 401 without a token and 422 at path.ticketId for a malformed id', async () => {
      const ticket = await createTicketAs(t, alice);
      const anon = problem(await t.as(null, { method, url: `${TICKETS}/${ticket.ticket_id}${suffix}`, payload }), 401);
      expect(anon.detail).toBe('missing bearer token');
      const bad = problem(await t.as(alice, { method, url: `${TICKETS}/not-a-uuid${suffix}`, payload }), 422);
      expect(bad.detail).toBe('validation failed');
      expect(bad.errors).toEqual([
        { location: 'path.ticketId', message: 'expected string to be RFC 4122 uuid: invalid UUID length: 10', value: 'not-a-uuid' },
      ]);
    });
  });

  describe('POST /support/tickets', () => {
    it('creates an open, normal-priority, unassigned ticket owned by the caller', async () => {
      const res = await t.as(alice, {
        method: 'POST',
        url: TICKETS,
        payload: { title: 'Login loop', description: 'After SSO I land on the login page again.', type: 'account' },
      });
      expect(res.statusCode).toBe(201);
      const body = res.json();
      expect(Object.keys(body).sort()).toEqual([...TICKET_FIELDS].sort());
      expect(body).toMatchObject({
        $schema: '/api/v1/schemas/SupportTicket.json',
        title: 'Login loop',
        description: 'After SSO I land on the login page again.',
        type: 'account',
        status: 'open',
        priority: 'normal',
        assigned_to: null,
        assigned_to_email: null,
        resolved_at: null,
        tenant_id: 'org_acme',
        created_by: alice.id,
        created_by_email: alice.email,
        comments: [],
        comment_count: 0,
      });
      expect(body.ticket_id).toMatch(UUID_V7);
      expect(body.created_at).toMatch(RFC3339_UTC);
      expect(body.updated_at).toBe(body.created_at);
      expect(res.headers.location).toBe(`/api/v1/support/tickets/${body.ticket_id}`);
      expect(res.headers.link).toBe('</api/v1/schemas/SupportTicket.json>; rel="describedBy"');

      const read = await detail(alice, body.ticket_id);
      expect(read.ticket).toEqual(body);
    });

    it('puts a personal-workspace ticket in the user’s own tenant', async () => {
      const solo = { id: 'user_solo', email: 'solo@example.test' };
      const body = await createTicketAs(t, solo);
      expect(body.tenant_id).toBe('user_solo');
    });

    it('accepts the $schema link a client echoes back, and a body of exactly the maximum lengths', async () => {
      const res = await t.as(alice, {
        method: 'POST',
        url: TICKETS,
        payload: { $schema: '/api/v1/schemas/CreateTicketBody.json', title: 'x'.repeat(200), description: 'y'.repeat(20000), type: 'other' },
      });
      expect(res.statusCode).toBe(201);
      expect(res.json().title).toHaveLength(200);
    });

    it('round-trips unicode and markup byte for byte, counting length in characters', async () => {
      const title = '🔥'.repeat(200);
      const description = 'Ünïcödé – עברית – 日本語 – e\u0301 – 👩‍👩‍👧 <script>alert("x")</script> & &amp; \\ "quotes" \u2028 \t\n end';
      const created = await createTicketAs(t, alice, { title, description });
      const read = await detail(alice, created.ticket_id);
      expect(read.ticket.title).toBe(title);
      expect(read.ticket.description).toBe(description);
      const tooLong = problem(await t.as(alice, { method: 'POST', url: TICKETS, payload: { title: '🔥'.repeat(201), description: 'd', type: 'bug' } }), 422);
      expect(tooLong.errors?.[0]).toMatchObject({ location: 'body.title', message: 'expected length <= 200' });
    });

    it('rejects invalid bodies with Huma-style locations and messages, creating nothing', async () => {
      const cases: Array<[unknown, Array<{ location: string; message: string }>]> = [
        [{ description: 'd', type: 'bug' }, [{ location: 'body', message: 'expected required property title to be present' }]],
        [{ title: 'x'.repeat(201), description: 'd', type: 'bug' }, [{ location: 'body.title', message: 'expected length <= 200' }]],
        [{ title: 't', description: 'd'.repeat(20001), type: 'bug' }, [{ location: 'body.description', message: 'expected length <= 20000' }]],
        [{ title: '', description: 'd', type: 'bug' }, [{ location: 'body.title', message: 'expected length >= 1' }]],
        [{ title: '   ', description: 'd', type: 'bug' }, [{ location: 'body.title', message: 'expected string to contain a non-space character' }]],
        [
          { title: 't', description: 'd', type: 'complaint' },
          [{ location: 'body.type', message: 'expected value to be one of "support, bug, feature_request, billing, account, other"' }],
        ],
        [{ title: 42, description: 'd', type: 'bug' }, [{ location: 'body.title', message: 'expected string' }]],
        [['not', 'an', 'object'], [{ location: 'body', message: 'expected object' }]],
      ];
      for (const [payload, expected] of cases) {
        const body = problem(await t.as(alice, { method: 'POST', url: TICKETS, payload }), 422);
        expect(body).toMatchObject({ $schema: '/api/v1/schemas/ErrorModel.json', title: 'Unprocessable Entity', status: 422, detail: 'validation failed' });
        expect(body.errors?.map(({ location, message }) => ({ location, message }))).toEqual(expected);
      }
      // Several problems are reported together.
      const many = problem(await t.as(alice, { method: 'POST', url: TICKETS, payload: { title: '', type: 'nope' } }), 422);
      expect(many.errors?.map((e) => e.location).sort()).toEqual(['body', 'body.title', 'body.type']);
      expect((await list(alice)).total).toBe(0);
    });

    it('refuses NUL characters with 422 on every database, in bodies and query strings', async () => {
      const body = problem(await t.as(alice, { method: 'POST', url: TICKETS, payload: { title: 'a\u0000b', description: 'd', type: 'bug' } }), 422);
      expect(body.errors).toEqual([{ location: 'body.title', message: 'expected string without NUL (U+0000) characters', value: 'a\u0000b' }]);
      expect((await list(alice)).total).toBe(0);
      const staff = await t.as(sam, { url: '/api/v1/admin/support/tickets?q=a%00b' });
      expect(problem(staff, 422).errors?.[0]?.location).toBe('query.q');
    });

    it('refuses half of a UTF-16 surrogate pair with 422 on every database, and keeps a whole pair', async () => {
      const { ticket_id: id } = await createTicketAs(t, alice);
      // JSON escapes: JSON.parse makes them the lone halves the request body carries.
      for (const content of ['hi \\ud800', '\\udc00 lone low', 'swapped \\udc00\\ud800']) {
        const payload = `{"content":"${content}"}`;
        const res = await t.app.inject({ method: 'POST', url: `${TICKETS}/${id}/comments`, headers: { authorization: `Bearer ${await t.tokenFor(alice)}`, 'content-type': 'application/json' }, payload });
        expect(problem(res, 422).errors).toEqual([{ location: 'body.content', message: 'expected well-formed Unicode text (no unpaired UTF-16 surrogate)' }]);
      }
      const pair = await t.as(alice, { method: 'POST', url: `${TICKETS}/${id}/comments`, payload: { content: 'a pair: \ud83d\ude00' } });
      expect(pair.statusCode).toBe(201);
      expect((await detail(alice, id)).ticket.comments.map((c: { content: string }) => c.content)).toEqual(['a pair: 😀']);
    });

    it('refuses deeply nested JSON with 422, not a stack overflow', async () => {
      for (const depth of [40, 5_000, 50_000]) {
        const payload = `{"title":${'['.repeat(depth)}${']'.repeat(depth)},"description":"d","type":"bug"}`;
        const res = await t.app.inject({
          method: 'POST',
          url: TICKETS,
          headers: { authorization: `Bearer ${await t.tokenFor(alice)}`, 'content-type': 'application/json' },
          payload,
        });
        expect(problem(res, 422).errors?.[0]?.message).toBe('expected JSON nested at most 32 levels deep');
      }
      expect((await list(alice)).total).toBe(0);
    });

    it('rejects mass assignment of every server-owned field', async () => {
      const base = { title: 't', description: 'd', type: 'bug' };
      const forbidden = {
        status: 'closed',
        priority: 'urgent',
        tenant_id: 'org_globex',
        created_by: 'user_carol',
        created_by_email: 'x@y.z',
        assigned_to: 'user_sam',
        comment_count: 5,
        ticket_id: '01934e7a-0000-7000-8000-000000000000',
        is_internal: true,
        __proto__: { status: 'closed' },
      };
      for (const [key, value] of Object.entries(forbidden)) {
        const res = await t.as(alice, { method: 'POST', url: TICKETS, payload: { ...base, [key]: value } });
        const body = problem(res, 422);
        expect(body.errors).toEqual([{ location: `body.${key}`, message: 'unexpected property', value }]);
      }
      const proto = await t.app.inject({
        method: 'POST',
        url: TICKETS,
        headers: { authorization: `Bearer ${await t.tokenFor(alice)}`, 'content-type': 'application/json' },
        payload: '{"title":"t","description":"d","type":"bug","__proto__":{"status":"closed"}}',
      });
      expect(proto.statusCode).toBe(400);
      expect((await list(alice)).total).toBe(0);
    });

    it('answers malformed JSON 400, other media types 415, bodies over the limit 413 and no body 422', async () => {
      const headers = { authorization: `Bearer ${await t.tokenFor(alice)}` };
      const malformed = await t.app.inject({ method: 'POST', url: TICKETS, headers: { ...headers, 'content-type': 'application/json' }, payload: '{"title": ' });
      expect(problem(malformed, 400).title).toBe('Bad Request');
      const text = await t.app.inject({ method: 'POST', url: TICKETS, headers: { ...headers, 'content-type': 'text/plain' }, payload: 'hello' });
      expect(problem(text, 415).title).toBe('Unsupported Media Type');
      const form = await t.app.inject({
        method: 'POST',
        url: TICKETS,
        headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
        payload: 'title=a',
      });
      problem(form, 415);
      const huge = await t.app.inject({
        method: 'POST',
        url: TICKETS,
        headers: { ...headers, 'content-type': 'application/json' },
        payload: JSON.stringify({ title: 't', description: 'd'.repeat(1024 * 1024), type: 'bug' }),
      });
      expect(problem(huge, 413).title).toBe('Request Entity Too Large');
      const empty = await t.app.inject({ method: 'POST', url: TICKETS, headers });
      expect(problem(empty, 422).errors).toEqual([{ location: 'body', message: 'request body is required' }]);
      expect((await list(alice)).total).toBe(0);
    });
  });

  describe('GET /support/tickets', () => {
    it('lists only the caller’s tickets in their tenant, newest first, in the seed’s summary shape', async () => {
      const first = await createTicketAs(t, alice, { title: 'first' });
      const second = await createTicketAs(t, alice, { title: 'second', type: 'billing' });
      await createTicketAs(t, bob, { title: 'bob’s' });
      await createTicketAs(t, carol, { title: 'carol’s' });

      const res = await t.as(alice, { url: TICKETS });
      expect(res.headers.link).toBe('</api/v1/schemas/TicketListResponse.json>; rel="describedBy"');
      const body = res.json();
      expect(Object.keys(body).sort()).toEqual(['$schema', 'has_more', 'tickets', 'total']);
      expect(body.$schema).toBe('/api/v1/schemas/TicketListResponse.json');
      expect(body.total).toBe(2);
      expect(body.has_more).toBe(false);
      expect(body.tickets.map((x: { ticket_id: string }) => x.ticket_id)).toEqual([second.ticket_id, first.ticket_id]);
      expect(Object.keys(body.tickets[0]).sort()).toEqual(SUMMARY_FIELDS);
      expect(body.tickets[0]).toMatchObject({
        title: 'second',
        type: 'billing',
        status: 'open',
        priority: 'normal',
        created_by_email: alice.email,
        assigned_to_email: null,
        comment_count: 0,
      });

      expect((await list(bob)).tickets.map((x: { title: string }) => x.title)).toEqual(['bob’s']);
      expect((await list(carol)).tickets.map((x: { title: string }) => x.title)).toEqual(['carol’s']);
    });

    it('keeps one user’s tickets apart across tenants (same user id, another organization)', async () => {
      await createTicketAs(t, alice, { title: 'in acme' });
      const aliceElsewhere = { ...alice, org: 'org_globex' };
      expect((await list(aliceElsewhere)).total).toBe(0);
    });

    it('answers many users at once, each with their own tickets, and each with what changed', async () => {
      const users = [alice, bob, carol, { ...alice, org: 'org_globex' }];
      const mine = await Promise.all(users.map((user, i) => createTicketAs(t, user, { title: `ticket of user ${i}` })));
      const unknown = '01934e7a-0000-7000-8000-000000000000';
      const everyone = () =>
        Promise.all([
          ...users.map((user) => t.as(user, { url: TICKETS })),
          ...users.map((user, i) => t.as(user, { url: `${TICKETS}/${mine[i]?.ticket_id}` })),
          ...users.map((user, i) => t.as(user, { url: `${TICKETS}/${mine[(i + 1) % users.length]?.ticket_id}` })),
          t.as(alice, { url: `${TICKETS}/${unknown}` }),
        ]);
      for (let round = 0; round < 2; round++) {
        const answers = await everyone();
        users.forEach((_, i) => {
          expect(answers[i]?.json().tickets.map((x: { title: string }) => x.title)).toEqual([`ticket of user ${i}`]);
          expect(answers[users.length + i]?.json().ticket.title).toBe(`ticket of user ${i}`);
          expect(answers[2 * users.length + i]?.statusCode).toBe(404);
        });
        expect(answers[3 * users.length]?.statusCode).toBe(404);
      }
      // Bob's close shows in bob's list and ticket at once, and in no one else's.
      await t.as(bob, { method: 'POST', url: `${TICKETS}/${mine[1]?.ticket_id}/close` });
      const after = await everyone();
      expect(after[1]?.json().tickets[0].status).toBe('closed');
      expect(after[users.length + 1]?.json().ticket.status).toBe('closed');
      for (const i of [0, 2, 3]) expect(after[i]?.json().tickets[0].status).toBe('open');
    });

    it('filters by status and type, with totals that match the filter', async () => {
      const a = await createTicketAs(t, alice, { type: 'bug' });
      await createTicketAs(t, alice, { type: 'billing' });
      await createTicketAs(t, alice, { type: 'bug' });
      await t.as(alice, { method: 'POST', url: `${TICKETS}/${a.ticket_id}/close` });

      const bugs = await list(alice, '?type=bug');
      expect(bugs.total).toBe(2);
      expect(bugs.tickets.every((x: { type: string }) => x.type === 'bug')).toBe(true);
      const closed = await list(alice, '?status=closed');
      expect(closed.total).toBe(1);
      expect(closed.tickets[0].ticket_id).toBe(a.ticket_id);
      expect((await list(alice, '?status=open&type=bug')).total).toBe(1);
      expect((await list(alice, '?status=resolved')).tickets).toEqual([]);
    });

    it('pages with limit and offset: has_more, the last page and an empty page past the end', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push((await createTicketAs(t, alice, { title: `t${i}` })).ticket_id);
      const newestFirst = [...ids].reverse();

      const p1 = await list(alice, '?limit=2');
      expect(p1.tickets.map((x: { ticket_id: string }) => x.ticket_id)).toEqual(newestFirst.slice(0, 2));
      expect([p1.total, p1.has_more]).toEqual([5, true]);
      const p2 = await list(alice, '?limit=2&offset=2');
      expect(p2.tickets.map((x: { ticket_id: string }) => x.ticket_id)).toEqual(newestFirst.slice(2, 4));
      expect(p2.has_more).toBe(true);
      const last = await list(alice, '?limit=2&offset=4');
      expect(last.tickets.map((x: { ticket_id: string }) => x.ticket_id)).toEqual(newestFirst.slice(4));
      expect([last.total, last.has_more]).toEqual([5, false]);
      const exact = await list(alice, '?limit=5');
      expect([exact.tickets.length, exact.has_more]).toEqual([5, false]);
      const past = await list(alice, '?limit=2&offset=10');
      expect(past).toMatchObject({ tickets: [], total: 5, has_more: false });
    });

    it('defaults to 20 per page and allows up to 100', async () => {
      for (let i = 0; i < 21; i++) await createTicketAs(t, alice, { title: `t${i}` });
      const page = await list(alice);
      expect([page.tickets.length, page.total, page.has_more]).toEqual([20, 21, true]);
      expect((await list(alice, '?limit=100')).tickets).toHaveLength(21);
    });

    it('rejects bad query parameters with their locations', async () => {
      const cases: Array<[string, { location: string; message: string; value?: unknown }]> = [
        ['?limit=0', { location: 'query.limit', message: 'expected number >= 1', value: 0 }],
        ['?limit=101', { location: 'query.limit', message: 'expected number <= 100', value: 101 }],
        ['?limit=abc', { location: 'query.limit', message: 'invalid integer', value: 'abc' }],
        ['?offset=-1', { location: 'query.offset', message: 'expected number >= 0', value: -1 }],
        ['?status=done', { location: 'query.status', message: 'expected value to be one of "open, in_progress, resolved, closed"', value: 'done' }],
        ['?type=question', { location: 'query.type', message: 'expected value to be one of "support, bug, feature_request, billing, account, other"', value: 'question' }],
      ];
      for (const [query, expected] of cases) {
        const body = problem(await t.as(alice, { url: `${TICKETS}${query}` }), 422);
        expect(body.errors).toEqual([expected]);
      }
    });
  });

  describe('GET /support/tickets/{ticketId}', () => {
    it('returns the ticket with comments and history, oldest first, in the seed’s shape', async () => {
      const ticket = await createTicketAs(t, alice);
      await t.as(alice, { method: 'POST', url: `${TICKETS}/${ticket.ticket_id}/comments`, payload: { content: 'one' } });
      await addStaffComment(t.db, staffActor, ticket.ticket_id, { content: 'two', isInternal: false });
      await t.as(alice, { method: 'POST', url: `${TICKETS}/${ticket.ticket_id}/close` });

      const res = await t.as(alice, { url: `${TICKETS}/${ticket.ticket_id}` });
      expect(res.headers.link).toBe('</api/v1/schemas/TicketDetailResponse.json>; rel="describedBy"');
      const body = res.json();
      expect(Object.keys(body).sort()).toEqual(['$schema', 'history', 'ticket']);
      expect(body.$schema).toBe('/api/v1/schemas/TicketDetailResponse.json');
      expect(body.ticket.$schema).toBe('/api/v1/schemas/SupportTicket.json');
      expect(body.ticket.comments.map((c: { content: string }) => c.content)).toEqual(['one', 'two']);
      expect(Object.keys(body.ticket.comments[0]).sort()).toEqual(COMMENT_FIELDS);
      expect(body.ticket.comments[1]).toMatchObject({
        $schema: '/api/v1/schemas/SupportTicketComment.json',
        author_type: 'staff',
        author_id: sam.id,
        author_email: sam.email,
        is_internal: false,
        ticket_id: ticket.ticket_id,
      });
      expect(body.ticket.comment_count).toBe(2);
      expect(body.history).toHaveLength(1);
      expect(Object.keys(body.history[0]).sort()).toEqual(
        ['changed_by', 'changed_by_email', 'created_at', 'field_changed', 'history_id', 'new_value', 'old_value', 'ticket_id'],
      );
      expect(body.history[0]).toMatchObject({
        ticket_id: ticket.ticket_id,
        field_changed: 'status',
        old_value: 'open',
        new_value: 'closed',
        changed_by: alice.id,
        changed_by_email: alice.email,
      });
    });
    it('finds a ticket by its id in upper case or as a urn:uuid', async () => {
      const ticket = await createTicketAs(t, alice);
      for (const spelling of [ticket.ticket_id.toUpperCase(), `urn:uuid:${ticket.ticket_id}`]) {
        expect((await detail(alice, spelling)).ticket.ticket_id).toBe(ticket.ticket_id);
      }
    });
  });

  describe('POST /support/tickets/{ticketId}/close', () => {
    it('closes an open ticket, stamps resolved_at and records who did it', async () => {
      const ticket = await createTicketAs(t, alice);
      const res = await t.as(alice, { method: 'POST', url: `${TICKETS}/${ticket.ticket_id}/close` });
      expect(res.statusCode).toBe(200);
      const body = res.json();
      expect(Object.keys(body).sort()).toEqual([...TICKET_FIELDS].sort());
      expect(body.status).toBe('closed');
      expect(body.resolved_at).toMatch(RFC3339_UTC);
      expect(body.updated_at).toBe(body.resolved_at);
      const read = await detail(alice, ticket.ticket_id);
      expect(read.ticket).toEqual(body);
      expect(read.history).toMatchObject([{ field_changed: 'status', old_value: 'open', new_value: 'closed', changed_by: alice.id }]);
    });

    it('is 409 on an already closed ticket and changes nothing', async () => {
      const ticket = await createTicketAs(t, alice);
      await t.as(alice, { method: 'POST', url: `${TICKETS}/${ticket.ticket_id}/close` });
      const before = await detail(alice, ticket.ticket_id);
      const again = problem(await t.as(alice, { method: 'POST', url: `${TICKETS}/${ticket.ticket_id}/close` }), 409);
      expect(again.title).toBe('Conflict');
      expect(await detail(alice, ticket.ticket_id)).toEqual(before);
    });

    it('keeps the resolved_at of a resolved ticket and closes in_progress ones too', async () => {
      const resolved = await createTicketAs(t, alice);
      await setTicket(t.db, resolved.ticket_id, { status: 'resolved', resolved_at: '2026-01-02T03:04:05.000Z' });
      const closed = (await t.as(alice, { method: 'POST', url: `${TICKETS}/${resolved.ticket_id}/close` })).json();
      expect([closed.status, closed.resolved_at]).toEqual(['closed', '2026-01-02T03:04:05.000Z']);

      const working = await createTicketAs(t, alice);
      await setTicket(t.db, working.ticket_id, { status: 'in_progress' });
      const res = await t.as(alice, { method: 'POST', url: `${TICKETS}/${working.ticket_id}/close` });
      expect(res.json().status).toBe('closed');
      expect((await detail(alice, working.ticket_id)).history[0]).toMatchObject({ old_value: 'in_progress', new_value: 'closed' });
    });

    it('lets exactly one of many concurrent closes win', async () => {
      const ticket = await createTicketAs(t, alice);
      const results = await Promise.all(
        Array.from({ length: 10 }, () => t.as(alice, { method: 'POST', url: `${TICKETS}/${ticket.ticket_id}/close` })),
      );
      expect(results.map((r) => r.statusCode).sort()).toEqual([200, ...Array(9).fill(409)]);
      expect((await detail(alice, ticket.ticket_id)).history).toHaveLength(1);
    });

    it('accepts an empty JSON body', async () => {
      const ticket = await createTicketAs(t, alice);
      const res = await t.as(alice, {
        method: 'POST',
        url: `${TICKETS}/${ticket.ticket_id}/close`,
        headers: { 'content-type': 'application/json' },
      });
      expect(res.statusCode).toBe(200);
    });
  });

  describe('POST /support/tickets/{ticketId}/comments', () => {
    it('adds a user comment, counts it and moves updated_at', async () => {
      const ticket = await createTicketAs(t, alice);
      const content = 'It happens in **Firefox** too.\n\n<img src=x onerror=alert(1)> 😀';
      const res = await t.as(alice, { method: 'POST', url: `${TICKETS}/${ticket.ticket_id}/comments`, payload: { content } });
      expect(res.statusCode).toBe(201);
      expect(res.headers.link).toBe('</api/v1/schemas/SupportTicketComment.json>; rel="describedBy"');
      const comment = res.json();
      expect(Object.keys(comment).sort()).toEqual(COMMENT_FIELDS);
      expect(comment).toMatchObject({
        $schema: '/api/v1/schemas/SupportTicketComment.json',
        author_id: alice.id,
        author_email: alice.email,
        author_type: 'user',
        is_internal: false,
        content,
        ticket_id: ticket.ticket_id,
      });
      expect(comment.comment_id).toMatch(UUID_V7);
      const read = await detail(alice, ticket.ticket_id);
      expect(read.ticket.comments).toEqual([comment]);
      expect(read.ticket.comment_count).toBe(1);
      expect(read.ticket.updated_at).toBe(comment.created_at);
      expect((await list(alice)).tickets[0].comment_count).toBe(1);
    });

    it('is 409 on a closed ticket and changes nothing', async () => {
      const ticket = await createTicketAs(t, alice);
      await t.as(alice, { method: 'POST', url: `${TICKETS}/${ticket.ticket_id}/close` });
      const before = await detail(alice, ticket.ticket_id);
      problem(await t.as(alice, { method: 'POST', url: `${TICKETS}/${ticket.ticket_id}/comments`, payload: { content: 'wait' } }), 409);
      expect(await detail(alice, ticket.ticket_id)).toEqual(before);
    });

    it('reopens a resolved ticket, clearing resolved_at, with a history row', async () => {
      const ticket = await createTicketAs(t, alice);
      await setTicket(t.db, ticket.ticket_id, { status: 'resolved', resolved_at: '2026-01-02T03:04:05.000Z' });
      await t.as(alice, { method: 'POST', url: `${TICKETS}/${ticket.ticket_id}/comments`, payload: { content: 'still broken' } });
      const read = await detail(alice, ticket.ticket_id);
      expect([read.ticket.status, read.ticket.resolved_at]).toEqual(['open', null]);
      expect(read.history).toMatchObject([{ field_changed: 'status', old_value: 'resolved', new_value: 'open', changed_by: alice.id }]);
    });

    it('stamps a comment that queued for the database no earlier than the change that went before it', async () => {
      const ticket = await createTicketAs(t, alice);
      // Every connection of the server busy, so the comment waits for one.
      let release = () => {};
      const busy = new Promise<void>((resolve) => (release = resolve));
      const connections = t.config.database.kind === 'postgres' ? t.config.database.poolSize : 1;
      const held = Promise.all(Array.from({ length: connections }, () => t.db.connection().execute(() => busy)));
      const commenting = t.as(alice, { method: 'POST', url: `${TICKETS}/${ticket.ticket_id}/comments`, payload: { content: 'still broken' } });
      await new Promise((resolve) => setTimeout(resolve, 50));
      // Meanwhile another process resolves the ticket.
      const resolvedAt = new Date().toISOString();
      const other = createDb(t.config.database);
      try {
        await setTicket(other, ticket.ticket_id, { status: 'resolved', resolved_at: resolvedAt, updated_at: resolvedAt });
      } finally {
        await other.destroy();
      }
      release();
      await held;
      const comment = await commenting;
      expect(comment.statusCode).toBe(201);
      const after = (await t.as(alice, { url: `${TICKETS}/${ticket.ticket_id}` })).json();
      expect(after.ticket.status).toBe('open'); // the comment reopened it, so it came after
      expect(comment.json().created_at >= resolvedAt).toBe(true);
      expect(after.ticket.updated_at >= resolvedAt).toBe(true);
      expect(after.history.map((h: { created_at: string }) => h.created_at >= resolvedAt)).toEqual([true]);
    });

    it('rejects invalid comment bodies', async () => {
      const ticket = await createTicketAs(t, alice);
      const url = `${TICKETS}/${ticket.ticket_id}/comments`;
      const cases: Array<[unknown, { location: string; message: string }]> = [
        [{}, { location: 'body', message: 'expected required property content to be present' }],
        [{ content: '' }, { location: 'body.content', message: 'expected length >= 1' }],
        [{ content: 'c'.repeat(20001) }, { location: 'body.content', message: 'expected length <= 20000' }],
        [{ content: 'hi', is_internal: true }, { location: 'body.is_internal', message: 'unexpected property' }],
        [{ content: 'hi', author_type: 'staff' }, { location: 'body.author_type', message: 'unexpected property' }],
      ];
      for (const [payload, expected] of cases) {
        const body = problem(await t.as(alice, { method: 'POST', url, payload }), 422);
        expect(body.errors?.map(({ location, message }) => ({ location, message }))).toEqual([expected]);
      }
      expect((await detail(alice, ticket.ticket_id)).ticket.comment_count).toBe(0);
    });

    it('counts 50 concurrent comments exactly', async () => {
      const ticket = await createTicketAs(t, alice);
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          t.as(alice, { method: 'POST', url: `${TICKETS}/${ticket.ticket_id}/comments`, payload: { content: `comment ${i}` } }),
        ),
      );
      expect(results.every((r) => r.statusCode === 201)).toBe(true);
      const read = await detail(alice, ticket.ticket_id);
      expect(read.ticket.comment_count).toBe(50);
      expect(read.ticket.comments).toHaveLength(50);
      expect(new Set(read.ticket.comments.map((c: { content: string }) => c.content)).size).toBe(50);
      expect((await list(alice)).tickets[0].comment_count).toBe(50);
    });
  });

  describe('internal notes', () => {
    it('never reach the customer: not in comments, counts, history, updated_at or the list', async () => {
      const ticket = await createTicketAs(t, alice);
      await addStaffComment(t.db, staffActor, ticket.ticket_id, { content: 'public reply', isInternal: false });
      const before = await detail(alice, ticket.ticket_id);
      const listBefore = await list(alice);

      await addStaffComment(t.db, staffActor, ticket.ticket_id, { content: 'SECRET: customer is on the legacy plan', isInternal: true });

      const after = await detail(alice, ticket.ticket_id);
      expect(after).toEqual(before);
      expect(JSON.stringify(after)).not.toContain('SECRET');
      expect(after.ticket.comment_count).toBe(1);
      expect(await list(alice)).toEqual(listBefore);

      // Writes by the customer still see only public comments.
      const comment = await t.as(alice, { method: 'POST', url: `${TICKETS}/${ticket.ticket_id}/comments`, payload: { content: 'thanks' } });
      expect(comment.statusCode).toBe(201);
      const open = await detail(alice, ticket.ticket_id);
      const closed = (await t.as(alice, { method: 'POST', url: `${TICKETS}/${ticket.ticket_id}/close` })).json();
      // The close reads the thread with the ticket, in one statement: the same thread as the detail's.
      expect(closed.comments).toEqual(open.ticket.comments);
      expect(closed.comment_count).toBe(2);
      expect(closed.comments.map((c: { content: string }) => c.content)).toEqual(['public reply', 'thanks']);
      expect(JSON.stringify(closed)).not.toContain('SECRET');
    });
  });
});
