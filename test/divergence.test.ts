import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../src/db/database.js';
import { dialects } from './dialects.js';
import { feedSettled } from './events.js';
import { alice, bob, buildTestApp, carol, sam, TICKETS, type TestApp, type TestUser } from './helpers.js';

const ADMIN = '/api/v1/admin/support/tickets';
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;
const TIME = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z/g;

/**
 * One request sequence run on SQLite and on PostgreSQL: every answer, and every row it leaves
 * (tickets, comments, history, events, tallies), must be the same on both, ids and times aside.
 * Each change is described once (tickets/ticket.changes.ts) and written the same way on both;
 * this fails if a dialect-specific path ever creeps back in.
 */
describe.runIf(dialects().includes('postgres') && dialects().includes('sqlite'))('SQLite and PostgreSQL, same requests', () => {
  const apps: Partial<Record<'sqlite' | 'postgres', TestApp>> = {};
  beforeAll(async () => {
    apps.sqlite = await buildTestApp('sqlite');
    apps.postgres = await buildTestApp('postgres');
  });
  afterAll(async () => {
    await apps.sqlite?.close();
    await apps.postgres?.close();
  });

  /** Runs the script on one app: every answer, as status and body. */
  async function script(t: TestApp): Promise<unknown[]> {
    const answers: unknown[] = [];
    const ids: string[] = [];
    const send = async (user: TestUser | null, method: string, url: string, payload?: unknown, headers?: Record<string, string>) => {
      const res = await t.as(user, { method, url, ...(payload === undefined ? {} : { payload }), ...(headers ? { headers } : {}) });
      answers.push([method, url.replace(UUID, 'ID'), res.statusCode, res.headers['idempotent-replayed'] ?? null, res.body]);
      return res;
    };
    const create = async (user: TestUser, title: string, type = 'bug') => {
      const res = await send(user, 'POST', TICKETS, { title, description: `${title}: details`, type });
      ids.push(res.json().ticket_id);
      return res.json().ticket_id as string;
    };
    await send(sam, 'GET', '/api/v1/admin/support/agents');
    const a = await create(alice, 'Invoice export broken', 'billing');
    const b = await create(bob, 'Login loop');
    const c = await create(carol, 'Ünïcödé 🔥 title', 'account');
    const etag = (await t.as(sam, { url: `${ADMIN}/${a}` })).headers.etag as string;
    await send(alice, 'POST', `${TICKETS}/${a}/comments`, { content: 'any news?' }, { 'idempotency-key': 'k1' });
    await send(alice, 'POST', `${TICKETS}/${a}/comments`, { content: 'any news?' }, { 'idempotency-key': 'k1' }); // replayed
    await send(alice, 'POST', `${TICKETS}/${a}/comments`, { content: 'other' }, { 'idempotency-key': 'k1' }); // 422
    await send(sam, 'PATCH', `${ADMIN}/${a}`, { priority: 'urgent' }, { 'if-match': etag }); // 412
    await send(sam, 'POST', `${ADMIN}/${a}/comments`, { content: 'Looking into it' });
    await send(sam, 'POST', `${ADMIN}/${a}/comments`, { content: 'refund approved', is_internal: true });
    await send(sam, 'PATCH', `${ADMIN}/${a}`, { status: 'in_progress', priority: 'high', type: 'bug', assigned_to: sam.id });
    await send(sam, 'PATCH', `${ADMIN}/${a}`, { status: 'in_progress' }); // nothing changes
    await send(sam, 'PATCH', `${ADMIN}/${a}`, { assigned_to: 'nobody' }); // 422
    await send(sam, 'PATCH', `${ADMIN}/${b}`, { status: 'resolved' });
    await send(bob, 'POST', `${TICKETS}/${b}/comments`, { content: 'not fixed' }); // reopens
    await send(sam, 'PATCH', `${ADMIN}/${b}`, { status: 'closed', assigned_to: sam.id });
    await send(bob, 'POST', `${TICKETS}/${b}/comments`, { content: 'hello?' }); // 409
    await send(bob, 'POST', `${TICKETS}/${b}/close`); // 409
    await send(carol, 'POST', `${TICKETS}/${c}/close`, undefined, { 'idempotency-key': 'close-c' });
    await send(carol, 'POST', `${TICKETS}/${c}/close`, undefined, { 'idempotency-key': 'close-c' }); // replayed
    await send(bob, 'GET', `${TICKETS}/${a}`); // 404
    for (const id of ids) {
      await send(sam, 'GET', `${ADMIN}/${id}`);
      await send(ids.indexOf(id) === 0 ? alice : ids.indexOf(id) === 1 ? bob : carol, 'GET', `${TICKETS}/${id}`);
    }
    await send(alice, 'GET', TICKETS);
    await send(sam, 'GET', `${ADMIN}?sort=-priority`);
    return answers;
  }

  /** Every row the script left, in a stable order. */
  async function rows(db: Db): Promise<unknown> {
    await feedSettled(db);
    const all = async (query: ReturnType<typeof sql<Record<string, unknown>>>) => (await query.execute(db)).rows;
    const tallies = async (table: string, keys: string) =>
      all(sql`select ${sql.raw(keys)}, sum(n) as n from ${sql.table(table)} group by ${sql.raw(keys)} having sum(n) <> 0 order by ${sql.raw(keys)}`);
    return {
      tickets: await all(sql`select * from tickets order by created_at, id`),
      comments: await all(sql`select c.* from ticket_comments c join tickets t on t.id = c.ticket_id order by t.created_at, c.created_at, c.id`),
      history: await all(sql`select h.* from ticket_history h join tickets t on t.id = h.ticket_id order by t.created_at, h.created_at, h.id`),
      events: await all(sql`select event_id, type, ticket_id, tenant_id, actor_id, actor_email, actor_type, audience, occurred_at, data
        from ticket_events order by seq`),
      tallies: await tallies('ticket_tallies', 'status, type, priority, assigned_to'),
      tenantTallies: await tallies('tenant_ticket_tallies', 'tenant_id, status, type, priority, assigned_to'),
      userTallies: await tallies('user_ticket_tallies', 'tenant_id, created_by, status, type'),
    };
  }

  /** Ids and times differ between runs: each becomes its place among the ids and times seen. */
  function normalized(value: unknown): unknown {
    const seen = new Map<string, string>();
    const text = JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? Number(v) : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v));
    return JSON.parse(
      text.replace(UUID, (id) => seen.get(id) ?? (seen.set(id, `id${seen.size}`), `id${seen.size - 1}`)).replace(TIME, 'TIME'),
    );
  }

  it('gives the same answers and leaves the same rows, history and events', async () => {
    const sqlite = apps.sqlite as TestApp;
    const postgres = apps.postgres as TestApp;
    const answers = { sqlite: await script(sqlite), postgres: await script(postgres) };
    expect(normalized(answers.postgres)).toEqual(normalized(answers.sqlite));
    const left = { sqlite: await rows(sqlite.db), postgres: await rows(postgres.db) };
    expect(normalized(left.postgres)).toEqual(normalized(left.sqlite));
    expect((left.sqlite as { events: unknown[] }).events.length).toBe(14);
  });
});
