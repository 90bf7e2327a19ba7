import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApp } from '../app.js';
import { createDb } from '../db/database.js';
import { feedSettled } from '../../test/events.js';
import { dialects, type Dialect } from '../../test/dialects.js';
import { alice, bob, buildTestApp, carol, createTicketAs, problem, sam, TICKETS, type TestApp, type TestUser } from '../../test/helpers.js';
import { SseStream, type SseMessage } from '../../test/sse.js';
import { asCustomer, planCustomerComment } from '../tickets/ticket.changes.js';
import { ALL_TENANTS, findTicket, writeChange } from '../tickets/ticket.repository.js';
import type { TicketRow } from '../tickets/ticket.table.js';

const ADMIN = '/api/v1/admin/support/tickets';
const STREAM = '/api/v1/support/events/stream';
const STAFF_STREAM = '/api/v1/admin/support/events/stream';
const kai: TestUser = { id: 'user_kai', email: 'kai@helpdesk.test', org: 'org_helpdesk', role: 'support' };

interface FeedEvent {
  event_id: string;
  cursor: string;
  type: string;
  ticket_id: string;
  tenant_id: string;
  audience: string;
}

describe.each(dialects())('%s: live streams', (dialect: Dialect) => {
  let t: TestApp;
  let base: string;
  const streams: SseStream[] = [];

  async function start(env: Record<string, string> = {}) {
    t = await buildTestApp(dialect, env);
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
  }
  afterEach(async () => {
    for (const stream of streams.splice(0)) stream.close();
    await t.close();
  });

  /**
   * Opens a stream once everything written so far can be read from the feed. A stream opened
   * "now" starts where the feed can be read to, so that it misses nothing committed after it
   * opened; on PostgreSQL that can be a little before now (see test/events.ts), and a test that
   * counts what a stream carries waits for the feed first.
   */
  async function open(user: TestUser | null, path = STREAM, headers: Record<string, string> = {}, token?: string) {
    await feedSettled(t.db);
    const stream = await SseStream.open(`${base}${path}`, token ?? (user ? await t.tokenFor(user) : null), headers);
    streams.push(stream);
    return stream;
  }

  const post = (user: TestUser, url: string, payload?: unknown) => t.as(user, { method: 'POST', url, ...(payload === undefined ? {} : { payload }) });
  const reply = (id: string, content: string, internal = false) => post(sam, `${ADMIN}/${id}/comments`, { content, is_internal: internal });

  /** The whole events feed, as staff read it. */
  async function feed(): Promise<FeedEvent[]> {
    await feedSettled(t.db);
    const events: FeedEvent[] = [];
    let after = '0.0';
    for (;;) {
      const page = (await t.as(sam, { url: `/api/v1/admin/support/events?limit=500&after=${after}` })).json<{ events: FeedEvent[]; next_cursor: string; has_more: boolean }>();
      events.push(...page.events);
      after = page.next_cursor;
      if (!page.has_more) return events;
    }
  }

  const hasEvent = (id: string) => (messages: SseMessage[]) => messages.some((m) => m.data.event_id === id);
  const lastEventId = async () => (await feed()).at(-1)?.event_id as string;

  describe('the customer stream', () => {
    it('carries a staff reply to my ticket, and never an internal note or someone else’s ticket', async () => {
      await start();
      const mine = (await createTicketAs(t, alice)).ticket_id;
      const bobs = (await createTicketAs(t, bob)).ticket_id;
      const stream = await open(alice);
      expect(stream.status).toBe(200);
      expect(stream.headers['content-type']).toBe('text/event-stream; charset=utf-8');

      await reply(mine, 'Secret refund note', true);
      await reply(bobs, 'Hello Bob');
      const answer = (await reply(mine, 'We are on it')).json<{ comment_id: string }>();
      const last = await lastEventId();
      const messages = await stream.until(hasEvent(last));

      expect(messages.map((m) => [m.event, m.data.ticket_id])).toEqual([['comment.created', mine]]);
      const [message] = messages as [SseMessage];
      expect(message.data).toMatchObject({ type: 'comment.created', audience: 'customer', data: { comment_id: answer.comment_id, author_type: 'staff' } });
      expect(message.id).toBe(message.data.cursor);
      expect(JSON.stringify(messages)).not.toContain('note.created');
    });

    it('never carries staff events or other users’ tickets: a few hundred mixed changes over three tenants', async () => {
      await start({ HELPDESK_RATE_LIMIT: '0' });
      const customers = [alice, bob, carol];
      const tickets = await Promise.all(customers.map((user) => createTicketAs(t, user).then((ticket) => ({ user, id: ticket.ticket_id }))));
      const watching = await Promise.all(customers.map((user) => open(user)));
      const staff = await open(sam, STAFF_STREAM);
      const startEvents = (await feed()).length;

      const change = fc.record({ ticket: fc.nat(tickets.length - 1), kind: fc.constantFrom('reply', 'note', 'note', 'customer', 'status', 'priority'), flag: fc.boolean() });
      const changes = fc.sample(change, { numRuns: 240, seed: 25 });
      for (const { ticket, kind, flag } of changes) {
        const { user, id } = tickets[ticket] as { user: TestUser; id: string };
        if (kind === 'reply') await reply(id, 'public answer');
        else if (kind === 'note') await reply(id, 'internal only', true);
        else if (kind === 'customer') await post(user, `${TICKETS}/${id}/comments`, { content: 'any news?' });
        else if (kind === 'status') await t.as(sam, { method: 'PATCH', url: `${ADMIN}/${id}`, payload: { status: flag ? 'in_progress' : 'open' } });
        else await t.as(sam, { method: 'PATCH', url: `${ADMIN}/${id}`, payload: { priority: flag ? 'high' : 'low' } });
      }
      // A last public reply on every ticket: once a stream has it, it has everything before it.
      for (const { id } of tickets) await reply(id, 'the end');
      const all = (await feed()).slice(startEvents);
      expect(all.filter((e) => e.audience === 'staff').length).toBeGreaterThan(40);

      for (const [i, stream] of watching.entries()) {
        const { user, id } = tickets[i] as { user: TestUser; id: string };
        const expected = all.filter((e) => e.ticket_id === id && e.audience === 'customer');
        const messages = await stream.until(hasEvent(expected.at(-1)?.event_id as string));
        expect(messages.map((m) => m.data.event_id), `${user.id}'s stream`).toEqual(expected.map((e) => e.event_id));
        expect(messages.every((m) => m.data.audience === 'customer' && m.event !== 'note.created')).toBe(true);
      }
      const everything = await staff.until(hasEvent(all.at(-1)?.event_id as string));
      expect(everything.filter((m) => m.id !== undefined).map((m) => m.data.event_id)).toEqual(all.map((e) => e.event_id));
    });

    it('resumes after Last-Event-ID with nothing missed and nothing repeated, across 100 events', async () => {
      await start({ HELPDESK_RATE_LIMIT: '0' });
      const id = (await createTicketAs(t, alice)).ticket_id;
      const first = await open(alice);
      for (let i = 0; i < 50; i++) await reply(id, `reply ${i}`);
      const before = [...(await first.until((m) => m.filter((x) => x.event === 'comment.created').length >= 50))];
      first.close();
      const resumeFrom = before.at(-1)?.id as string;
      // Written while the customer was away, internal notes among them.
      for (let i = 50; i < 100; i++) await reply(id, `reply ${i}`, i % 10 === 0);
      const all = (await feed()).filter((e) => e.ticket_id === id && e.audience === 'customer' && e.type !== 'ticket.created');
      expect(all).toHaveLength(95);

      const resumed = await open(alice, STREAM, { 'last-event-id': resumeFrom });
      const after = await resumed.until(hasEvent(all.at(-1)?.event_id as string));
      expect([...before, ...after].map((m) => m.data.event_id)).toEqual(all.map((e) => e.event_id));

      // The query parameter does the same for clients that cannot set the header.
      const byQuery = await open(alice, `${STREAM}?last_event_id=${encodeURIComponent(resumeFrom)}`);
      const again = await byQuery.until(hasEvent(all.at(-1)?.event_id as string));
      expect(again.map((m) => m.data.event_id)).toEqual(after.map((m) => m.data.event_id));
    });

    // PostgreSQL only: SQLite has one writer, so no transaction can commit behind a later one there.
    if (dialect === 'postgres') {
    it('delivers an event whose transaction commits late, once, after one that committed earlier', async () => {
      await start();
      const mine = await createTicketAs(t, alice);
      const bobs = await createTicketAs(t, bob);
      const staff = await open(sam, STAFF_STREAM);
      const customer = await open(alice);
      let commit!: () => void;
      const held = new Promise<void>((resolve) => (commit = resolve));
      let written!: () => void;
      const wrote = new Promise<void>((resolve) => (written = resolve));
      // A change whose transaction stays open: its event's number is taken, its commit comes later.
      const late = t.db.transaction().execute(async (trx) => {
        const ticket = await findTicket(trx, mine.ticket_id, ALL_TENANTS);
        await writeChange(trx, planCustomerComment(ticket as TicketRow, asCustomer({ userId: alice.id, tenantId: 'org_acme', email: alice.email, isStaff: false }), 'late', new Date().toISOString()));
        written();
        await held;
      });
      await wrote;
      expect((await post(bob, `${TICKETS}/${bobs.ticket_id}/comments`, { content: 'early' })).statusCode).toBe(201);
      commit();
      await late;
      const all = (await feed()).filter((e) => e.type === 'comment.created');
      expect(all).toHaveLength(2);
      const seen = await staff.until((m) => all.every((e) => m.some((x) => x.data.event_id === e.event_id)));
      expect(seen.map((m) => m.data.event_id)).toEqual(all.map((e) => e.event_id));
      const hers = await customer.until((m) => m.length > 0);
      expect(hers.map((m) => m.data.ticket_id)).toEqual([mine.ticket_id]);
    });
    }

    it('ends with event: expired when the token expires', async () => {
      await start();
      const token = await t.tokenFor(alice, { exp: Math.floor(Date.now() / 1000) + 2 });
      const stream = await open(alice, STREAM, {}, token);
      expect(stream.status).toBe(200);
      const messages = await stream.until((m) => m.some((x) => x.event === 'expired'));
      expect(messages.at(-1)?.event).toBe('expired');
      await stream.until(() => stream.ended);
    });
  });

  describe('caps and refusals', () => {
    it('refuses a stream beyond the per-user cap with 429, and opens one again when another closes', async () => {
      await start({ HELPDESK_LIVE_STREAMS_PER_USER: '2' });
      const [a, b] = [await open(alice), await open(alice)];
      expect([a.status, b.status]).toEqual([200, 200]);
      const third = await open(alice);
      expect(third.status).toBe(429);
      expect(third.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(third.problem).toMatchObject({ status: 429, detail: expect.stringContaining('2 live streams') });
      expect((await open(bob)).status).toBe(200);

      a.close();
      // The server hears of the closed connection a moment later.
      let again = await open(alice);
      while (again.status === 429) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        again = await open(alice);
      }
      expect(again.status).toBe(200);
    });

    it('refuses a stream beyond the per-instance cap with 429', async () => {
      await start({ HELPDESK_LIVE_STREAMS_PER_INSTANCE: '1' });
      expect((await open(alice)).status).toBe(200);
      const refused = await open(carol);
      expect(refused.status).toBe(429);
      expect(refused.problem).toMatchObject({ status: 429 });
    });

    it('counts a stream once against the rate limit', async () => {
      await start({ HELPDESK_RATE_LIMIT: '3' });
      const stream = await open(alice);
      const id = (await createTicketAs(t, alice)).ticket_id;
      await stream.until((m) => m.some((x) => x.data.ticket_id === id));
      expect((await t.as(alice, { url: TICKETS })).statusCode).toBe(200);
      expect((await t.as(alice, { url: TICKETS })).statusCode).toBe(429);
    });

    it('answers 401 without a token, 403 to a customer on the staff stream, 422 for a bad Last-Event-ID, each as documented', async () => {
      await start();
      const refusals = [
        [STREAM, await open(null)],
        [STAFF_STREAM, await open(alice, STAFF_STREAM)],
        [STREAM, await open(alice, STREAM, { 'last-event-id': 'not-a-cursor' })],
        [STAFF_STREAM, await open(sam, `${STAFF_STREAM}?last_event_id=1.2.3`)],
        [STAFF_STREAM, await open(sam, `${STAFF_STREAM}?ticket_id=nope`)],
        // Tokens are never taken from the query string.
        [STREAM, await open(null, `${STREAM}?access_token=${await t.tokenFor(alice)}`)],
      ] as const;
      expect(refusals.map(([, stream]) => stream.status)).toEqual([401, 403, 422, 422, 422, 401]);
      expect(refusals[2][1].problem).toMatchObject({ errors: [{ location: 'header.last-event-id', value: 'not-a-cursor' }] });
      // The fuzzer leaves streams out (they never end): the document is checked here instead.
      const doc = (await t.app.inject({ url: '/api/v1/openapi.json' })).json<{ paths: Record<string, { get: { responses: Record<string, unknown> } }> }>();
      for (const [path, stream] of refusals) {
        expect(stream.headers['content-type']).toMatch(/^application\/problem\+json/);
        expect(doc.paths[path]?.get.responses[String(stream.status)], `${path} ${stream.status}`).toBeDefined();
        expect(stream.problem).toMatchObject({ status: stream.status, $schema: expect.any(String) });
      }
      expect(doc.paths[STREAM]?.get.responses['429']).toBeDefined();
      expect(doc.paths[STAFF_STREAM]?.get.responses['429']).toBeDefined();
    });
  });

  describe('the staff stream', () => {
    it('carries every event, or one ticket’s', async () => {
      await start();
      const one = (await createTicketAs(t, alice)).ticket_id;
      const other = (await createTicketAs(t, carol)).ticket_id;
      const everything = await open(sam, STAFF_STREAM);
      const onlyOne = await open(kai, `${STAFF_STREAM}?ticket_id=${one}`);
      await reply(other, 'hello Carol');
      const note = (await reply(one, 'internal', true)).json<{ comment_id: string }>();
      const last = await lastEventId();
      const all = await everything.until(hasEvent(last));
      expect(all.map((m) => [m.event, m.data.ticket_id])).toEqual([
        ['comment.created', other],
        ['note.created', one],
      ]);
      const mine = await onlyOne.until(hasEvent(last));
      expect(mine.filter((m) => m.id).map((m) => [m.event, (m.data.data as { comment_id: string }).comment_id])).toEqual([['note.created', note.comment_id]]);
    });

    // Instances share a database on PostgreSQL only (SQLite is one process with one writer).
    if (dialect === 'postgres') {
    it('an event or an agent’s presence through another instance on the same database reaches this one’s streams', async () => {
      await start();
      const id = (await createTicketAs(t, alice)).ticket_id;
      const stream = await open(alice);
      const staff = await open(kai, `${STAFF_STREAM}?ticket_id=${id}`);
      // A second instance: its own connections, its own hub tailing the same feed.
      const db = createDb(t.config.database);
      const other = await buildApp(t.config, db, { logStream: false });
      try {
        const token = await t.tokenFor(sam);
        const res = await other.inject({ method: 'POST', url: `${ADMIN}/${id}/comments`, headers: { authorization: `Bearer ${token}` }, payload: { content: 'from B' } });
        expect(res.statusCode).toBe(201);
        const messages = await stream.until((m) => m.length > 0);
        expect(messages[0]?.data).toMatchObject({ type: 'comment.created', ticket_id: id, data: { comment_id: res.json<{ comment_id: string }>().comment_id } });
        // Presence announced through the other instance shows on this one's staff streams.
        const announced = await other.inject({ method: 'POST', url: `${ADMIN}/${id}/presence`, headers: { authorization: `Bearer ${token}` }, payload: { state: 'replying' } });
        expect(announced.statusCode).toBe(200);
        await staff.until((m) => m.some((x) => x.event === 'presence' && JSON.stringify(x.data.agents).includes('"state":"replying"')));
      } finally {
        await other.close();
        await db.destroy();
      }
    });
    }
  });

  describe('presence', () => {
    it('shows each agent the other on a ticket, as viewing then replying, and gone when they leave', async () => {
      await start();
      const id = (await createTicketAs(t, alice)).ticket_id;
      const kaiWatches = await open(kai, `${STAFF_STREAM}?ticket_id=${id}`);
      const customer = await open(alice);

      const viewing = await post(sam, `${ADMIN}/${id}/presence`, { state: 'viewing' });
      expect(viewing.statusCode, viewing.body).toBe(200);
      expect(viewing.json()).toMatchObject({ ticket_id: id, agents: [{ user_id: sam.id, email: sam.email, state: 'viewing' }] });
      const presenceOf = (messages: SseMessage[]) => messages.filter((m) => m.event === 'presence').map((m) => (m.data.agents as Array<{ email: string; state: string }>).map((a) => `${a.email} ${a.state}`));
      await kaiWatches.until((m) => presenceOf(m).some((agents) => agents.includes('sam@helpdesk.test viewing')));

      // Kai opens it too; Sam's stream, opened now, hears of both at once.
      await post(kai, `${ADMIN}/${id}/presence`, { state: 'viewing' });
      const samWatches = await open(sam, `${STAFF_STREAM}?ticket_id=${id}`);
      await samWatches.until((m) => presenceOf(m).some((agents) => agents.length === 2));

      await post(sam, `${ADMIN}/${id}/presence`, { state: 'replying' });
      await kaiWatches.until((m) => presenceOf(m).some((agents) => agents.includes('sam@helpdesk.test replying')));

      expect((await t.as(sam, { method: 'DELETE', url: `${ADMIN}/${id}/presence` })).statusCode).toBe(204);
      await kaiWatches.until((m) => presenceOf(m).at(-1)?.join() === 'kai@helpdesk.test viewing');

      // Never an event of the log, never on a customer's stream.
      await reply(id, 'done');
      const last = await lastEventId();
      const seen = await customer.until(hasEvent(last));
      expect(seen.some((m) => m.event === 'presence')).toBe(false);
      expect(JSON.stringify(seen)).not.toContain('kai@helpdesk.test');
      expect((await feed()).map((e) => e.type)).toEqual(['ticket.created', 'comment.created']);
    });

    it('is for staff, about a ticket that exists, in a known state', async () => {
      await start();
      const id = (await createTicketAs(t, alice)).ticket_id;
      problem(await post(alice, `${ADMIN}/${id}/presence`, { state: 'viewing' }), 403);
      problem(await t.as(null, { method: 'POST', url: `${ADMIN}/${id}/presence`, payload: { state: 'viewing' } }), 401);
      problem(await post(sam, `${ADMIN}/0190a0b0-0000-7000-8000-000000000000/presence`, { state: 'viewing' }), 404);
      problem(await t.as(sam, { method: 'DELETE', url: `${ADMIN}/0190a0b0-0000-7000-8000-000000000000/presence` }), 404);
      const bad = problem(await post(sam, `${ADMIN}/${id}/presence`, { state: 'typing' }), 422);
      expect(bad.errors?.[0]?.location).toBe('body.state');
      expect((await post(sam, `${ADMIN}/${id}/presence`, { state: 'viewing' })).json<{ agents: unknown[] }>().agents).toHaveLength(1);
    });
  });
});
