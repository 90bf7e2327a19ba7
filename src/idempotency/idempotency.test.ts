import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { dialects } from '../../test/dialects.js';
import { alice, bob, buildTestApp, createTicketAs, problem, sam, TICKETS, type TestApp } from '../../test/helpers.js';

describe.each(dialects())('%s', (dialect) => {
  let t: TestApp;
  beforeEach(async () => {
    t = await buildTestApp(dialect);
  });
  afterEach(async () => {
    await t.close();
  });

  const create = (key: string | null, body: Record<string, unknown> = {}, user = alice) =>
    t.as(user, {
      method: 'POST',
      url: TICKETS,
      payload: { title: 'Retry me', description: 'd', type: 'bug', ...body },
      headers: key ? { 'idempotency-key': key } : {},
    });
  const total = async (user = alice) => (await t.as(user, { url: TICKETS })).json().total as number;

  describe('Idempotency-Key on POST', () => {
    it('replays a repeated create: same status, body and Location, one ticket', async () => {
      const first = await create('key-1');
      expect(first.statusCode).toBe(201);
      expect(first.headers['idempotent-replayed']).toBeUndefined();
      const again = await create('key-1');
      expect(again.statusCode).toBe(201);
      expect(again.headers['idempotent-replayed']).toBe('true');
      expect(again.json()).toEqual(first.json());
      expect(again.headers.location).toBe(first.headers.location);
      expect(again.headers.link).toBe(first.headers.link);
      expect(await total()).toBe(1);
    });

    it('refuses the same key with a different request (422) and keeps keys per user', async () => {
      await create('key-2');
      const other = problem(await create('key-2', { title: 'Something else' }), 422);
      expect(other.errors).toEqual([{ location: 'header.Idempotency-Key', message: 'this key was already used with a different request', value: 'key-2' }]);
      expect((await create('key-2', {}, bob)).headers['idempotent-replayed']).toBeUndefined();
      expect([await total(), await total(bob)]).toEqual([1, 1]);
    });

    it("keeps keys per organization: the same user retrying a key in another one gets no other organization's answer", async () => {
      const inGlobex = { ...alice, org: 'org_globex' };
      const first = await create('key-org');
      expect(first.statusCode).toBe(201);
      const elsewhere = await create('key-org', {}, inGlobex);
      expect(elsewhere.statusCode).toBe(201);
      expect(elsewhere.headers['idempotent-replayed']).toBeUndefined();
      expect(elsewhere.json().ticket_id).not.toBe(first.json().ticket_id);
      expect([await total(), await total(inGlobex)]).toEqual([1, 1]);
      // And back in the first organization the key still replays its own answer.
      expect((await create('key-org')).json().ticket_id).toBe(first.json().ticket_id);
    });

    it('answers a concurrent duplicate with 409 or a replay, never a second ticket', async () => {
      const results = await Promise.all([create('key-3'), create('key-3'), create('key-3')]);
      for (const res of results) {
        if (res.statusCode === 201) continue;
        expect(problem(res, 409).detail).toContain('still being processed');
      }
      expect(results.filter((r) => r.statusCode === 201 && r.headers['idempotent-replayed'] === undefined)).toHaveLength(1);
      expect(await total()).toBe(1);
    });

    it('makes a retried close and a retried comment safe', async () => {
      const ticket = await createTicketAs(t, alice);
      const close = () => t.as(alice, { method: 'POST', url: `${TICKETS}/${ticket.ticket_id}/close`, headers: { 'idempotency-key': 'close-1' } });
      const closed = await close();
      const retried = await close();
      expect([closed.statusCode, retried.statusCode]).toEqual([200, 200]);
      expect(retried.headers['idempotent-replayed']).toBe('true');
      // Without the key the retry is the usual 409.
      problem(await t.as(alice, { method: 'POST', url: `${TICKETS}/${ticket.ticket_id}/close` }), 409);

      const open = await createTicketAs(t, alice);
      const comment = () =>
        t.as(alice, { method: 'POST', url: `${TICKETS}/${open.ticket_id}/comments`, payload: { content: 'once' }, headers: { 'idempotency-key': 'c-1' } });
      const [a, b] = [await comment(), await comment()];
      expect(b.json()).toEqual(a.json());
      const detail = (await t.as(alice, { url: `${TICKETS}/${open.ticket_id}` })).json();
      expect([detail.ticket.comment_count, detail.ticket.comments.length]).toEqual([1, 1]);
    });

    it('forgets keys after 24 hours, and records nothing for a failed request', async () => {
      await create('old');
      await t.db.updateTable('idempotency_keys').set({ created_at: new Date(Date.now() - 25 * 3600_000).toISOString() }).execute();
      const reused = await create('old', { title: 'A new request' });
      expect([reused.statusCode, reused.headers['idempotent-replayed']]).toEqual([201, undefined]);
      expect(await total()).toBe(2);

      problem(await create('bad', { type: 'nope' }), 422);
      expect((await create('bad')).statusCode).toBe(201); // the failed attempt did not claim the key
    });

    it('covers staff replies too', async () => {
      const ticket = await createTicketAs(t, alice);
      const reply = () =>
        t.as(sam, {
          method: 'POST',
          url: `/api/v1/admin/support/tickets/${ticket.ticket_id}/comments`,
          payload: { content: 'on it', is_internal: true },
          headers: { 'idempotency-key': 'staff-1' },
        });
      const [a, b] = [await reply(), await reply()];
      expect([a.statusCode, b.statusCode, b.headers['idempotent-replayed']]).toEqual([201, 201, 'true']);
      const staff = (await t.as(sam, { url: `/api/v1/admin/support/tickets/${ticket.ticket_id}` })).json();
      expect(staff.ticket.comment_count).toBe(1);
    });

    it('answers a deeply nested body on close (which has no body schema) with 422, not a 500, and closes nothing', async () => {
      const { ticket_id: id } = await createTicketAs(t, alice);
      for (const depth of [33, 10_000, 120_000]) {
        const res = await t.app.inject({
          method: 'POST',
          url: `${TICKETS}/${id}/close`,
          headers: { authorization: `Bearer ${await t.tokenFor(alice)}`, 'content-type': 'application/json', 'idempotency-key': `deep-${depth}` },
          payload: `${'['.repeat(depth)}${']'.repeat(depth)}`,
        });
        expect(problem(res, 422).errors, String(depth)).toEqual([{ location: 'body', message: 'expected JSON nested at most 32 levels deep' }]);
      }
      expect((await t.as(alice, { url: `${TICKETS}/${id}` })).json().ticket.status).toBe('open');
      // A shallow body still closes, and its retry replays.
      const close = () => t.as(alice, { method: 'POST', url: `${TICKETS}/${id}/close`, payload: [[1]], headers: { 'idempotency-key': 'shallow' } });
      expect((await close()).statusCode).toBe(200);
      expect((await close()).headers['idempotent-replayed']).toBe('true');
    });

    it('validates the key', async () => {
      const body = problem(await create('k'.repeat(256)), 422);
      expect(body.errors?.[0]).toMatchObject({ location: 'header.idempotency-key', message: 'expected length <= 255' });
    });
  });
});
