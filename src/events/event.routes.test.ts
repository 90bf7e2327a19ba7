import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { alice, bob, buildTestApp, carol, createTicketAs, problem, sam, TICKETS, type TestApp, type TestUser } from '../../test/helpers.js';
import { dialects } from '../../test/dialects.js';
import { pruneOnce } from '../desk/housekeeping.js';
import { asCustomer, planCustomerComment } from '../tickets/ticket.changes.js';
import { ALL_TENANTS, findTicket, writeChange } from '../tickets/ticket.repository.js';
import type { TicketRow } from '../tickets/ticket.table.js';
import { feedSettled } from '../../test/events.js';

const ADMIN = '/api/v1/admin/support/tickets';
const EVENTS = '/api/v1/admin/support/events';

interface Event {
  event_id: string;
  cursor: string;
  type: string;
  ticket_id: string;
  tenant_id: string;
  actor: { id: string; email: string; type: string };
  audience: string;
  occurred_at: string;
  data: Record<string, unknown>;
}

describe.each(dialects())('%s: the events of ticket changes', (dialect) => {
  let t: TestApp;
  beforeEach(async () => {
    t = await buildTestApp(dialect);
    await t.as(sam, { url: '/api/v1/admin/support/agents' }); // sam becomes an assignable agent
  });
  afterEach(async () => {
    await t.close();
  });

  /**
   * Every event in the feed, following next_cursor page by page, once every event written so
   * far can be read: on PostgreSQL the feed holds back events of transactions above the oldest
   * one still running anywhere on the server (another test's, say) until it ends.
   */
  async function allEvents(query = '', limit = 500): Promise<Event[]> {
    await feedSettled(t.db);
    const events: Event[] = [];
    let after = '';
    for (;;) {
      const res = await t.as(sam, { url: `${EVENTS}?limit=${limit}${after ? `&after=${after}` : ''}${query}` });
      expect(res.statusCode, res.body).toBe(200);
      const page = res.json<{ events: Event[]; next_cursor: string; has_more: boolean }>();
      events.push(...page.events);
      after = page.next_cursor;
      if (!page.has_more) return events;
    }
  }

  /** The events written since `before` events had been, as [type, audience, data]. */
  async function newEvents(before: number) {
    return (await allEvents()).slice(before).map((e) => [e.type, e.audience, e.data]);
  }

  const post = (user: TestUser, url: string, payload?: unknown, headers?: Record<string, string>) =>
    t.as(user, { method: 'POST', url, ...(payload === undefined ? {} : { payload }), ...(headers ? { headers } : {}) });
  const patch = (id: string, payload: unknown, headers?: Record<string, string>) => t.as(sam, { method: 'PATCH', url: `${ADMIN}/${id}`, payload, ...(headers ? { headers } : {}) });

  it('records each change once, with who did it, the audience and thin data', async () => {
    const ticket = await createTicketAs(t, alice, { type: 'bug' });
    const id = ticket.ticket_id;
    let [created] = await allEvents();
    expect(created).toMatchObject({
      type: 'ticket.created',
      ticket_id: id,
      tenant_id: 'org_acme',
      actor: { id: alice.id, email: alice.email, type: 'user' },
      audience: 'customer',
      data: { status: 'open', priority: 'normal', type: 'bug' },
    });
    created = created as Event;
    expect(created.event_id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7/);
    expect(created.occurred_at).toBe(ticket.created_at);

    let seen = 1;
    const expectNew = async (expected: unknown[]) => {
      const events = await newEvents(seen);
      expect(events).toEqual(expected);
      seen += events.length;
    };

    const comment = (await post(alice, `${TICKETS}/${id}/comments`, { content: 'Still broken 😀' })).json();
    await expectNew([['comment.created', 'customer', { comment_id: comment.comment_id, author_type: 'user', length: 14 }]]);

    const reply = (await post(sam, `${ADMIN}/${id}/comments`, { content: 'Looking into it' })).json();
    await expectNew([['comment.created', 'customer', { comment_id: reply.comment_id, author_type: 'staff', length: 15 }]]);

    const note = (await post(sam, `${ADMIN}/${id}/comments`, { content: 'Refund approved', is_internal: true })).json();
    await expectNew([['note.created', 'staff', { comment_id: note.comment_id, author_type: 'staff', length: 15 }]]);

    expect((await patch(id, { priority: 'high', type: 'billing', assigned_to: sam.id })).statusCode).toBe(200);
    await expectNew([
      ['ticket.updated', 'customer', { changes: { priority: { from: 'normal', to: 'high' }, type: { from: 'bug', to: 'billing' }, assigned_to: { from: null, to: sam.id } } }],
    ]);

    expect((await patch(id, { status: 'resolved', assigned_to: null })).statusCode).toBe(200);
    await expectNew([
      ['ticket.status_changed', 'customer', { from: 'open', to: 'resolved' }],
      ['ticket.updated', 'customer', { changes: { assigned_to: { from: sam.id, to: null } } }],
    ]);

    // A customer's comment on a resolved ticket reopens it: the comment, then the status.
    const reopening = (await post(alice, `${TICKETS}/${id}/comments`, { content: 'Not fixed' })).json();
    await expectNew([
      ['comment.created', 'customer', { comment_id: reopening.comment_id, author_type: 'user', length: 9 }],
      ['ticket.status_changed', 'customer', { from: 'resolved', to: 'open' }],
    ]);

    expect((await post(alice, `${TICKETS}/${id}/close`)).statusCode).toBe(200);
    await expectNew([['ticket.status_changed', 'customer', { from: 'open', to: 'closed' }]]);

    // Each event names its actor in the role they acted in.
    const actors = (await allEvents()).map((e) => `${e.actor.type}:${e.actor.id}`);
    expect(actors).toEqual([
      `user:${alice.id}`, `user:${alice.id}`, `staff:${sam.id}`, `staff:${sam.id}`, `staff:${sam.id}`,
      `staff:${sam.id}`, `staff:${sam.id}`, `user:${alice.id}`, `user:${alice.id}`, `user:${alice.id}`,
    ]);
  });

  it('writes no event for a refused change, a change that changes nothing, or a replayed request', async () => {
    const { ticket_id: id } = await createTicketAs(t, alice);
    const etag = (await t.as(sam, { url: `${ADMIN}/${id}` })).headers.etag as string;
    const key = { 'idempotency-key': 'comment-1' };
    expect((await post(alice, `${TICKETS}/${id}/comments`, { content: 'once' }, key)).statusCode).toBe(201);
    const before = (await allEvents()).length;
    expect(before).toBe(2);

    const replay = await post(alice, `${TICKETS}/${id}/comments`, { content: 'once' }, key);
    expect(replay.statusCode).toBe(201);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    problem(await patch(id, { priority: 'high' }, { 'if-match': etag }), 412); // stale: the comment moved the version
    problem(await patch(id, { assigned_to: 'user_nobody' }), 422);
    problem(await patch(id, { priority: 'extreme' }), 422);
    problem(await post(alice, `${TICKETS}/${id}/comments`, { content: '' }), 422);
    problem(await post(bob, `${TICKETS}/${id}/comments`, { content: 'not mine' }), 404);
    expect((await patch(id, { priority: 'normal', status: 'open' })).statusCode).toBe(200); // as it is already
    expect((await post(alice, `${TICKETS}/${id}/close`)).statusCode).toBe(200);
    problem(await post(alice, `${TICKETS}/${id}/close`), 409);
    problem(await post(alice, `${TICKETS}/${id}/comments`, { content: 'closed now' }), 409);

    expect((await newEvents(before)).map(([type]) => type)).toEqual(['ticket.status_changed']);
  });

  it('pages the feed in commit order, filters by type and ticket, and gives a cursor to poll from at the end', async () => {
    const a = await createTicketAs(t, alice);
    const c = await createTicketAs(t, carol);
    for (let i = 0; i < 3; i++) await post(alice, `${TICKETS}/${a.ticket_id}/comments`, { content: `a${i}` });
    await post(sam, `${ADMIN}/${c.ticket_id}/comments`, { content: 'note', is_internal: true });
    const everything = await allEvents();
    expect(everything.map((e) => e.type)).toEqual(['ticket.created', 'ticket.created', 'comment.created', 'comment.created', 'comment.created', 'note.created']);
    expect(await allEvents('', 2)).toEqual(everything);

    const first = (await t.as(sam, { url: `${EVENTS}?limit=2` })).json();
    expect(first.events).toHaveLength(2);
    expect(first.has_more).toBe(true);
    expect(first.next_cursor).toBe(first.events[1].cursor);

    expect((await allEvents('&type=note.created&type=ticket.created')).map((e) => e.type)).toEqual(['ticket.created', 'ticket.created', 'note.created']);
    expect((await allEvents(`&ticket_id=${c.ticket_id}`)).map((e) => e.type)).toEqual(['ticket.created', 'note.created']);

    // At the end, with a filter that matched nothing lately, the cursor still moves to the end.
    await feedSettled(t.db);
    const end = (await t.as(sam, { url: `${EVENTS}?type=ticket.status_changed` })).json();
    expect(end).toMatchObject({ events: [], has_more: false, next_cursor: everything[5]?.cursor });
    const idle = (await t.as(sam, { url: `${EVENTS}?after=${end.next_cursor}` })).json();
    expect(idle).toMatchObject({ events: [], has_more: false, next_cursor: end.next_cursor });
    await post(alice, `${TICKETS}/${a.ticket_id}/close`);
    await feedSettled(t.db);
    const polled = (await t.as(sam, { url: `${EVENTS}?after=${end.next_cursor}` })).json();
    expect(polled.events.map((e: Event) => e.type)).toEqual(['ticket.status_changed']);
    expect(polled.$schema).toBe('/api/v1/schemas/EventFeedResponse.json');
  });

  it('is for staff only: a customer gets 403 and has no events route of their own', async () => {
    await createTicketAs(t, alice);
    problem(await t.as(alice, { url: EVENTS }), 403);
    problem(await t.as(null, { url: EVENTS }), 401);
    problem(await t.as(alice, { url: '/api/v1/support/events' }), 404);
    problem(await t.as(sam, { url: `${EVENTS}?after=abc` }), 422);
    problem(await t.as(sam, { url: `${EVENTS}?after=0.9999999999999999999` }), 422); // past a bigint
    problem(await t.as(sam, { url: `${EVENTS}?after=0.99999999999999999999` }), 422);
    problem(await t.as(sam, { url: `${EVENTS}?limit=501` }), 422);
    problem(await t.as(sam, { url: `${EVENTS}?type=ticket.deleted` }), 422);
  });

  it('keeps one event per acknowledged change under 200 concurrent mixed writes on one ticket, agreeing with the history', async () => {
    const { ticket_id: id } = await createTicketAs(t, alice);
    const statuses = ['open', 'in_progress', 'resolved'] as const;
    const requests = Array.from({ length: 200 }, (_, i) => {
      switch (i % 5) {
        case 0:
          return post(alice, `${TICKETS}/${id}/comments`, { content: `customer ${i}` });
        case 1:
          return post(sam, `${ADMIN}/${id}/comments`, { content: `reply ${i}` });
        case 2:
          return post(sam, `${ADMIN}/${id}/comments`, { content: `note ${i}`, is_internal: true });
        case 3:
          return patch(id, { status: statuses[i % 3], priority: i % 2 ? 'high' : 'low' });
        default:
          return patch(id, { assigned_to: i % 2 ? sam.id : null });
      }
    });
    const responses = await Promise.all(requests);
    expect(responses.every((r) => r.statusCode === 200 || r.statusCode === 201)).toBe(true);

    const events = (await allEvents()).slice(1);
    const detail = (await t.as(sam, { url: `${ADMIN}/${id}` })).json();
    const comments = detail.ticket.comments as Array<{ comment_id: string; is_internal: boolean }>;
    // One comment.created or note.created per comment, naming it.
    expect(events.filter((e) => e.type === 'comment.created').map((e) => e.data.comment_id).sort()).toEqual(
      comments.filter((c) => !c.is_internal).map((c) => c.comment_id).sort(),
    );
    expect(events.filter((e) => e.type === 'note.created').map((e) => e.data.comment_id).sort()).toEqual(
      comments.filter((c) => c.is_internal).map((c) => c.comment_id).sort(),
    );
    expect(comments).toHaveLength(120);
    // Every history row has its event, in the same order, with the same values.
    const history = detail.history as Array<{ field_changed: string; old_value: string | null; new_value: string | null }>;
    const fromEvents = events.flatMap((e) =>
      e.type === 'ticket.status_changed'
        ? [{ field_changed: 'status', old_value: e.data.from, new_value: e.data.to }]
        : e.type === 'ticket.updated'
          ? Object.entries(e.data.changes as Record<string, { from: string | null; to: string | null }>).map(([field, c]) => ({ field_changed: field, old_value: c.from, new_value: c.to }))
          : [],
    );
    expect(fromEvents).toEqual(history.map(({ field_changed, old_value, new_value }) => ({ field_changed, old_value, new_value })));
    // Each change's values follow from the one before: nothing was lost or doubled.
    for (const field of ['status', 'priority', 'assigned_to']) {
      const chain = history.filter((h) => h.field_changed === field);
      for (let i = 1; i < chain.length; i++) expect(chain[i]?.old_value, field).toBe(chain[i - 1]?.new_value);
    }
  });

  it('gives a reader polling the feed while 8 writers commit every event exactly once', async () => {
    const tickets = await Promise.all(Array.from({ length: 8 }, () => createTicketAs(t, alice)));
    let writing = true;
    const writers = tickets.map(async ({ ticket_id: id }, w) => {
      for (let i = 0; i < 15; i++) {
        const res = i % 3 === 2 ? await patch(id, { priority: i % 2 ? 'high' : 'low' }) : await post(w % 2 ? sam : alice, `${w % 2 ? ADMIN : TICKETS}/${id}/comments`, { content: `w${w} ${i}` });
        expect(res.statusCode).toBeLessThan(300);
      }
    });
    const seen: string[] = [];
    const reader = (async () => {
      let after = '';
      // Reads small pages as fast as it can while the writers write, then once more at the end.
      for (let last = false; ; ) {
        const res = await t.as(sam, { url: `${EVENTS}?limit=7${after ? `&after=${after}` : ''}` });
        const page = res.json<{ events: Event[]; next_cursor: string; has_more: boolean }>();
        seen.push(...page.events.map((e) => e.event_id));
        after = page.next_cursor;
        if (!page.has_more && last) return;
        if (!page.has_more && !writing) {
          await feedSettled(t.db);
          last = true;
        }
      }
    })();
    await Promise.all(writers);
    writing = false;
    await reader;
    const all = (await allEvents()).map((e) => e.event_id);
    expect(all).toHaveLength(8 + 8 * 15);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual(all);
  });

  // PostgreSQL only: SQLite has one writer, so no transaction can commit behind a later one there.
  if (dialect === 'postgres') {
  it('never moves a cursor past an event whose transaction commits late', async () => {
    const first = await createTicketAs(t, alice);
    const second = await createTicketAs(t, bob);
    await feedSettled(t.db);
    const start = (await t.as(sam, { url: EVENTS })).json().next_cursor as string;
    // A change whose transaction stays open: its event's number is taken, its commit comes later.
    let commit!: () => void;
    const held = new Promise<void>((resolve) => (commit = resolve));
    let written!: () => void;
    const wrote = new Promise<void>((resolve) => (written = resolve));
    const late = t.db.transaction().execute(async (trx) => {
      const ticket = await findTicket(trx, first.ticket_id, ALL_TENANTS);
      await writeChange(trx, planCustomerComment(ticket as TicketRow, asCustomer({ userId: alice.id, tenantId: 'org_acme', email: alice.email, isStaff: false }), 'late', new Date().toISOString()));
      written();
      await held;
    });
    await wrote;
    // Meanwhile another change commits, with a later number.
    expect((await post(bob, `${TICKETS}/${second.ticket_id}/comments`, { content: 'early' })).statusCode).toBe(201);
    const during = (await t.as(sam, { url: `${EVENTS}?after=${start}` })).json();
    expect(during.events).toEqual([]);
    expect(during.next_cursor).toBe(start);
    commit();
    await late;
    await feedSettled(t.db);
    const after = (await t.as(sam, { url: `${EVENTS}?after=${during.next_cursor}` })).json();
    expect(after.events.map((e: Event) => e.ticket_id)).toEqual([first.ticket_id, second.ticket_id]);
  });
  }

  // PostgreSQL only: the feed's order there is (writing transaction, seq); SQLite's txid is always 0.
  if (dialect === 'postgres') {
    it('orders the feed by transaction number, not by its digits: a page crossing a power of ten skips nothing', async () => {
      const first = await createTicketAs(t, alice);
      const second = await createTicketAs(t, bob);
      // As if the two tickets had been written by transactions 9 and 10 (both long committed).
      const txids = new Map([
        [first.ticket_id, '9'],
        [second.ticket_id, '10'],
      ]);
      for (const [ticketId, txid] of txids) await sql`update ticket_events set txid = cast(${txid} as xid8) where ticket_id = ${ticketId}`.execute(t.db);
      const pages = await allEvents('', 1);
      expect(pages.map((e) => e.ticket_id)).toEqual([first.ticket_id, second.ticket_id]);
      expect(pages.map((e) => e.cursor.split('.')[0])).toEqual(['9', '10']);
      // At the end, the cursor to poll from is the last event's, not the one whose digits sort last.
      const end = (await t.as(sam, { url: `${EVENTS}?type=ticket.status_changed` })).json();
      expect(end.next_cursor).toBe(pages[1]?.cursor);
    });
  }

  it('forgets events past their retention, in the background, oldest first', async () => {
    const { ticket_id: id } = await createTicketAs(t, alice);
    await post(alice, `${TICKETS}/${id}/comments`, { content: 'recent' });
    expect(await pruneOnce(t.db, { eventRetentionDays: 30 })).toEqual({ events: 0, idempotencyKeys: 0 });
    // As seen 31 days from now, everything is past 30 days.
    expect(await pruneOnce(t.db, { eventRetentionDays: 30 }, Date.now() + 31 * 86_400_000)).toEqual({ events: 2, idempotencyKeys: 0 });
    expect(await allEvents()).toEqual([]);
  });
});

describe.each(dialects())('%s: idempotency keys', (dialect) => {
  let t: TestApp;
  beforeEach(async () => {
    t = await buildTestApp(dialect);
  });
  afterEach(async () => {
    await t.close();
  });

  it('belong to the user in a tenant: the same user in another organization is not answered with the first one’s ticket', async () => {
    const globexAlice = { ...alice, org: 'org_globex' };
    const key = { 'idempotency-key': 'same-key' };
    const payload = { title: 'Same request', description: 'From two organizations', type: 'bug' };
    const inAcme = await t.as(alice, { method: 'POST', url: TICKETS, payload, headers: key });
    const inGlobex = await t.as(globexAlice, { method: 'POST', url: TICKETS, payload, headers: key });
    expect(inAcme.statusCode).toBe(201);
    expect(inGlobex.statusCode).toBe(201);
    expect(inGlobex.headers['idempotent-replayed']).toBeUndefined();
    expect(inGlobex.json().tenant_id).toBe('org_globex');
    expect(inGlobex.json().ticket_id).not.toBe(inAcme.json().ticket_id);
    // Each is still replayed in its own tenant.
    const again = await t.as(globexAlice, { method: 'POST', url: TICKETS, payload, headers: key });
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json().ticket_id).toBe(inGlobex.json().ticket_id);
    expect((await t.as(carol, { url: TICKETS })).json().total).toBe(0);
  });

  it('expire after 24 hours: pruned in the background, and an expired key can be used again', async () => {
    const key = { 'idempotency-key': 'k' };
    const first = await t.as(alice, { method: 'POST', url: TICKETS, payload: { title: 'One', description: 'x', type: 'bug' }, headers: key });
    expect(first.statusCode).toBe(201);
    expect(await pruneOnce(t.db, { eventRetentionDays: 30 }, Date.now() + 25 * 3_600_000)).toMatchObject({ idempotencyKeys: 1 });
    const second = await t.as(alice, { method: 'POST', url: TICKETS, payload: { title: 'Two', description: 'x', type: 'bug' }, headers: key });
    expect(second.statusCode).toBe(201);
    expect(second.json().title).toBe('Two');
  });
});
