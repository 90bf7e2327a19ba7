import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../app.js';
import { createDb, type Db } from '../db/database.js';
import { alice, bob, buildTestApp, carol, createTicketAs, sam, TICKETS, type TestApp, type TestUser } from '../../test/helpers.js';
import { dialects } from '../../test/dialects.js';

const ADMIN = '/api/v1/admin/support/tickets';

describe.each(dialects())('%s: cached customer responses never go stale', (dialect) => {
  let t: TestApp;
  let other: { app: FastifyInstance; db: Db };
  beforeEach(async () => {
    t = await buildTestApp(dialect, { HELPDESK_RATE_LIMIT: '0' });
    // A second instance on the same database, with a cache of its own.
    const db = createDb(t.config.database);
    other = { app: await buildApp(t.config, db, { logStream: false }), db };
    await t.as(sam, { url: '/api/v1/admin/support/agents' });
  });
  afterEach(async () => {
    await other.app.close();
    await other.db.destroy();
    await t.close();
  });

  const read = async (user: TestUser, url: string) => {
    const res = await t.as(user, { url });
    return { status: res.statusCode, body: res.body, link: res.headers.link };
  };
  /** Writes through the other instance, so only the database tells this one about it. */
  const elsewhere = async (user: TestUser, method: string, url: string, payload?: unknown) => {
    const res = await other.app.inject({ method: method as 'POST', url, headers: { authorization: `Bearer ${await t.tokenFor(user)}` }, payload: payload as object });
    expect(res.statusCode, res.body).toBeLessThan(300);
  };

  it('shows every change made anywhere at once, and an internal note changes nothing the customer sees', async () => {
    const { ticket_id: id } = await createTicketAs(t, alice);
    const detail = `${TICKETS}/${id}`;
    const views = async () => [await read(alice, TICKETS), await read(alice, detail)];
    const first = await views();
    expect(await views()).toEqual(first); // served again, byte for byte
    expect(first[1]?.link).toBe('</api/v1/schemas/TicketDetailResponse.json>; rel="describedBy"');

    await elsewhere(sam, 'POST', `${ADMIN}/${id}/comments`, { content: 'internal: customer is on the legacy plan', is_internal: true });
    expect(await views()).toEqual(first);

    await elsewhere(sam, 'PATCH', `${ADMIN}/${id}`, { priority: 'urgent', assigned_to: sam.id });
    let [list, page] = await views();
    expect(JSON.parse(list?.body as string).tickets[0]).toMatchObject({ priority: 'urgent', assigned_to_email: sam.email });
    expect(JSON.parse(page?.body as string).history.map((h: { field_changed: string }) => h.field_changed).sort()).toEqual(['assigned_to', 'priority']);

    await elsewhere(sam, 'POST', `${ADMIN}/${id}/comments`, { content: 'We are on it.' });
    [list, page] = await views();
    expect(JSON.parse(list?.body as string).tickets[0].comment_count).toBe(1);
    expect(JSON.parse(page?.body as string).ticket.comments.map((c: { content: string }) => c.content)).toEqual(['We are on it.']);
    expect(page?.body).not.toContain('legacy plan');

    await elsewhere(alice, 'POST', `${detail}/close`);
    [list, page] = await views();
    expect(JSON.parse(list?.body as string).tickets[0].status).toBe('closed');
    expect(JSON.parse(page?.body as string).ticket.status).toBe('closed');
  });

  it('never hands a cached ticket or list to anyone but its owner', async () => {
    const { ticket_id: id } = await createTicketAs(t, alice);
    await read(alice, `${TICKETS}/${id}`);
    await read(alice, TICKETS);
    expect((await read(bob, `${TICKETS}/${id}`)).status).toBe(404);
    expect(JSON.parse((await read(bob, TICKETS)).body).total).toBe(0);
  });

  it('answers a customer with no tickets from memory too, and shows their first ticket, made elsewhere, at once', async () => {
    const empty = await read(carol, TICKETS);
    expect(JSON.parse(empty.body)).toMatchObject({ total: 0, tickets: [] });
    expect(await read(carol, TICKETS)).toEqual(empty);
    expect(await read(carol, `${TICKETS}?status=open`)).toMatchObject({ status: 200 });
    await elsewhere(carol, 'POST', TICKETS, { title: 'My first ticket', description: 'Hello', type: 'account' });
    expect(JSON.parse((await read(carol, TICKETS)).body).total).toBe(1);
    expect(JSON.parse((await read(carol, `${TICKETS}?status=open`)).body).total).toBe(1);
  });

  it('never hands a cached empty list to another user, however their ids are spelt', async () => {
    // Ids that a key joined by spaces could not tell apart.
    const x: TestUser = { id: 'x', email: 'x@acme.test', org: 'acme eve' };
    const eve: TestUser = { id: 'eve x', email: 'eve@acme.test', org: 'acme' };
    expect(JSON.parse((await read(eve, TICKETS)).body).total).toBe(0);
    await createTicketAs(t, x);
    expect(JSON.parse((await read(x, TICKETS)).body).total).toBe(1);
    expect(JSON.parse((await read(eve, TICKETS)).body).total).toBe(0);
    // And the other way round: a list cached with a ticket is not given to the other spelling.
    await createTicketAs(t, eve, { title: 'Eve’s own' });
    expect(JSON.parse((await read(eve, TICKETS)).body).tickets.map((ticket: { title: string }) => ticket.title)).toEqual(['Eve’s own']);
    expect(JSON.parse((await read(bob, TICKETS)).body).total).toBe(0);
  });
});
