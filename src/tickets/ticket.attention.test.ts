import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { alice, bob, buildTestApp, carol, createTicketAs, problem, sam, TICKETS, type TestApp, type TestUser } from '../../test/helpers.js';
import { dialects } from '../../test/dialects.js';

const ADMIN = '/api/v1/admin/support/tickets';
const kim: TestUser = { id: 'user_kim', email: 'kim@helpdesk.test', org: 'org_helpdesk', role: 'support' };

interface StaffRow {
  ticket_id: string;
  number: number;
  status: string;
  waiting_on: string | null;
  waiting_since: string | null;
  last_message_from: string;
  last_customer_message_at: string;
  last_staff_reply_at: string | null;
  last_message_preview: string;
  unread: boolean;
  updated_at: string;
}

describe.each(dialects())('%s: what needs attention next', (dialect) => {
  let t: TestApp;
  beforeEach(async () => {
    t = await buildTestApp(dialect);
    await t.as(sam, { url: '/api/v1/admin/support/agents' });
    await t.as(kim, { url: '/api/v1/admin/support/agents' });
  });
  afterEach(async () => {
    await t.close();
  });

  const post = (user: TestUser, url: string, payload?: unknown) => t.as(user, { method: 'POST', url, ...(payload === undefined ? {} : { payload }) });
  const patch = (id: string, payload: unknown) => t.as(sam, { method: 'PATCH', url: `${ADMIN}/${id}`, payload });
  const staffView = async (id: string, as: TestUser = sam) => (await t.as(as, { url: `${ADMIN}/${id}` })).json().ticket as StaffRow;
  const customerView = async (user: TestUser, id: string) => (await t.as(user, { url: `${TICKETS}/${id}` })).json().ticket;
  const commentTime = async (res: Promise<{ json: () => { created_at: string } }>) => (await res).json().created_at;

  it('follows every kind of write: whose move it is, since when, who spoke last, and a preview', async () => {
    const ticket = await createTicketAs(t, alice, { description: 'The export button does nothing at all.' });
    const id = ticket.ticket_id;
    expect(ticket).toMatchObject({ waiting_on: 'support' });
    expect(await staffView(id)).toMatchObject({
      waiting_on: 'support',
      waiting_since: ticket.created_at,
      last_message_from: 'customer',
      last_customer_message_at: ticket.created_at,
      last_staff_reply_at: null,
      last_message_preview: 'The export button does nothing at all.',
    });

    // A second customer message does not restart support's wait.
    const more = await commentTime(post(alice, `${TICKETS}/${id}/comments`, { content: 'Any news?' }));
    expect(await staffView(id)).toMatchObject({ waiting_on: 'support', waiting_since: ticket.created_at, last_customer_message_at: more, last_message_preview: 'Any news?' });

    // An internal note changes nothing anyone waits on, and nothing the customer sees.
    const before = await staffView(id);
    const customerBefore = await customerView(alice, id);
    expect((await post(sam, `${ADMIN}/${id}/comments`, { content: 'Looks like the CSV streamer', is_internal: true })).statusCode).toBe(201);
    const attention = ({ waiting_on, waiting_since, last_message_from, last_customer_message_at, last_staff_reply_at, last_message_preview, updated_at }: StaffRow) =>
      ({ waiting_on, waiting_since, last_message_from, last_customer_message_at, last_staff_reply_at, last_message_preview, updated_at });
    expect(attention(await staffView(id))).toEqual(attention(before));
    expect(await customerView(alice, id)).toEqual(customerBefore);

    // A public reply: now the customer's move, since the reply.
    const reply = await commentTime(post(sam, `${ADMIN}/${id}/comments`, { content: 'We found it: a fix ships today.' }));
    expect(await staffView(id)).toMatchObject({ waiting_on: 'customer', waiting_since: reply, last_message_from: 'staff', last_staff_reply_at: reply, last_message_preview: 'We found it: a fix ships today.' });
    expect((await customerView(alice, id)).waiting_on).toBe('customer');
    expect((await t.as(alice, { url: TICKETS })).json().tickets[0].waiting_on).toBe('customer');

    // Solved: nobody waits. A customer's comment reopens it: support's move again, since it.
    expect((await patch(id, { status: 'resolved' })).statusCode).toBe(200);
    expect(await staffView(id)).toMatchObject({ waiting_on: null, waiting_since: null, last_message_from: 'staff' });
    const reopening = await commentTime(post(alice, `${TICKETS}/${id}/comments`, { content: 'Still broken here' }));
    expect(await staffView(id)).toMatchObject({ status: 'open', waiting_on: 'support', waiting_since: reopening, last_message_from: 'customer' });

    // Staff resolve, then take it back up: whoever did not speak last waits, from then.
    await post(sam, `${ADMIN}/${id}/comments`, { content: 'Try again now?' });
    expect((await patch(id, { status: 'resolved' })).statusCode).toBe(200);
    const backUp = await patch(id, { status: 'in_progress' });
    expect(await staffView(id)).toMatchObject({ waiting_on: 'customer', waiting_since: backUp.json().updated_at });
    // Open and in progress are the same wait.
    expect((await patch(id, { status: 'open', priority: 'high' })).statusCode).toBe(200);
    expect((await staffView(id)).waiting_since).toBe(backUp.json().updated_at);

    expect((await post(alice, `${TICKETS}/${id}/close`)).statusCode).toBe(200);
    expect(await staffView(id)).toMatchObject({ waiting_on: null, waiting_since: null });
  });

  it('numbers tickets for people to quote, and finds one by #number', async () => {
    const first = await createTicketAs(t, alice);
    const second = await createTicketAs(t, carol);
    expect(second.number).toBeGreaterThan(first.number as number);
    expect((await customerView(alice, first.ticket_id)).number).toBe(first.number);
    const found = (await t.as(sam, { url: `${ADMIN}?q=%23${second.number}` })).json();
    expect(found.total).toBe(1);
    expect(found.tickets[0].ticket_id).toBe(second.ticket_id);
    expect((await t.as(sam, { url: `${ADMIN}?q=%23999999` })).json().total).toBe(0);
  });

  it('marks for each agent what the customer wrote since they last opened the ticket', async () => {
    const { ticket_id: id } = await createTicketAs(t, alice);
    expect((await staffView(id, sam)).unread).toBe(true);
    expect((await t.as(sam, { method: 'PUT', url: `${ADMIN}/${id}/read` })).statusCode).toBe(204);
    expect((await staffView(id, sam)).unread).toBe(false);
    expect((await staffView(id, kim)).unread).toBe(true);
    // A staff reply or a note leaves it read; the customer's reply makes it unread again.
    await post(kim, `${ADMIN}/${id}/comments`, { content: 'On it' });
    expect((await staffView(id, sam)).unread).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 5));
    await post(alice, `${TICKETS}/${id}/comments`, { content: 'Thanks, but…' });
    const queue = (await t.as(sam, { url: ADMIN })).json().tickets as StaffRow[];
    expect(queue.find((row) => row.ticket_id === id)?.unread).toBe(true);
    problem(await t.as(sam, { method: 'PUT', url: `${ADMIN}/01934e7a-0000-7000-8000-000000000000/read` }), 404);
    problem(await t.as(alice, { method: 'PUT', url: `${ADMIN}/${id}/read` }), 403);
  });

  it('lists the longest-waiting unsolved tickets first, by whose move it is, in several statuses at once', async () => {
    await createTicketAs(t, alice, { title: 'oldest' });
    const answered = (await createTicketAs(t, bob, { title: 'answered' })).ticket_id;
    const mine = (await createTicketAs(t, carol, { title: 'mine' })).ticket_id;
    const solved = (await createTicketAs(t, carol, { title: 'solved' })).ticket_id;
    await createTicketAs(t, bob, { title: 'newest' });
    await post(sam, `${ADMIN}/${answered}/comments`, { content: 'Please try again' });
    await patch(mine, { assigned_to: sam.id, status: 'in_progress' });
    await patch(solved, { status: 'resolved' });
    // The most recently updated first by default; by wait, the oldest wait first.
    const titles = async (query: string) => ((await t.as(sam, { url: `${ADMIN}?${query}` })).json().tickets as Array<{ title: string }>).map((x) => x.title);
    const unsolved = 'status=open&status=in_progress';
    expect(await titles(`${unsolved}&assigned_to=none&sort=waiting_since`)).toEqual(['oldest', 'newest', 'answered']);
    expect(await titles(`${unsolved}&waiting_on=support&sort=waiting_since`)).toEqual(['oldest', 'mine', 'newest']);
    expect(await titles('waiting_on=customer')).toEqual(['answered']);
    expect(await titles(`${unsolved}&assigned_to=me&sort=waiting_since`)).toEqual(['mine']);
    expect(await titles(`${unsolved}&sort=-waiting_since`)).toEqual(['answered', 'newest', 'mine', 'oldest']);
    // Without a status filter, solved tickets wait on no one and come last either way.
    expect((await titles('sort=waiting_since')).at(-1)).toBe('solved');
    expect((await titles('sort=-waiting_since')).at(-1)).toBe('solved');
    const all = (await t.as(sam, { url: `${ADMIN}?${unsolved}&limit=1` })).json();
    expect(all.total).toBe(4);
    expect((await t.as(sam, { url: `${ADMIN}?waiting_on=support&q=oldest` })).json().total).toBe(1);
    expect((await t.as(sam, { url: `${ADMIN}?status=open&status=in_progress&q=mine` })).json().total).toBe(1);
    problem(await t.as(sam, { url: `${ADMIN}?waiting_on=nobody` }), 422);
  });

  it('orders a customer’s tickets by latest activity when asked, newest first by default', async () => {
    const first = await createTicketAs(t, alice, { title: 'first' });
    await createTicketAs(t, alice, { title: 'second' });
    await post(sam, `${ADMIN}/${first.ticket_id}/comments`, { content: 'An answer' });
    const titles = async (query: string) => ((await t.as(alice, { url: `${TICKETS}${query}` })).json().tickets as Array<{ title: string }>).map((x) => x.title);
    expect(await titles('')).toEqual(['second', 'first']);
    expect(await titles('?sort=-updated_at')).toEqual(['first', 'second']);
    problem(await t.as(alice, { url: `${TICKETS}?sort=title` }), 422);
  });
});
