import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { createDb, type Db } from '../src/db/database.js';
import { migrateToLatest } from '../src/db/migrator.js';
import { createPostgresDatabase, dialects } from './dialects.js';
import { alice, buildTestApp, carol, sam, TICKETS, type TestApp } from './helpers.js';

const ADMIN = '/api/v1/admin/support/tickets';
const at = (minute: number) => `2026-06-01T10:${String(minute).padStart(2, '0')}:00.000Z`;

/** A desk written as the schema of migration 003 held it: before tallies and search documents. */
async function oldDesk(db: Db): Promise<void> {
  const ticket = (id: string, who: typeof alice, title: string, status: 'open' | 'closed', minute: number) => ({
    id,
    tenant_id: who.org as string,
    created_by: who.id,
    created_by_email: who.email,
    title,
    description: 'Reported before the upgrade',
    type: 'billing' as const,
    status,
    priority: 'normal' as const,
    assigned_to: null,
    assigned_to_email: null,
    comment_count: 1,
    internal_comment_count: 0,
    created_at: at(minute),
    updated_at: at(minute),
    resolved_at: status === 'closed' ? at(minute) : null,
    first_response_at: null,
    version: 1,
  });
  await db
    .insertInto('tickets')
    .values([
      ticket('0190a000-0000-7000-8000-000000000001', alice, 'Invoice missing', 'open', 1),
      ticket('0190a000-0000-7000-8000-000000000002', alice, 'Refund request', 'closed', 2),
      ticket('0190a000-0000-7000-8000-000000000003', carol, 'Invoice wrong', 'open', 3),
      // Rows in the shape of migration 003's schema, not today's.
    ] as never)
    .execute();
  await db
    .insertInto('ticket_comments')
    .values(['1', '2', '3'].map((n) => ({
      id: `0190a000-0000-7000-8000-00000000010${n}`,
      ticket_id: `0190a000-0000-7000-8000-00000000000${n}`,
      author_id: sam.id,
      author_email: sam.email,
      author_type: 'staff' as const,
      content: n === '1' ? 'Looked at the webhook logs' : 'Noted',
      is_internal: 0,
      created_at: at(10),
    })) as never)
    .execute();
}

describe.each(dialects())('%s: upgrading a desk made before tallies and search documents', (dialect) => {
  let t: TestApp;
  afterEach(async () => {
    await t.close(); // checks the tallies the upgrade built against the rows
  });

  it('counts, lists and finds the old tickets, and keeps them current afterwards', async () => {
    t = await buildTestApp(dialect, { HELPDESK_RATE_LIMIT: '0' }, { migration: '003_idempotency', fill: oldDesk });
    const total = async (user: typeof alice, url: string) => (await t.as(user, { url })).json().total;
    expect(await total(alice, TICKETS)).toBe(2);
    expect(await total(alice, `${TICKETS}?status=open`)).toBe(1);
    expect(await total(sam, `${ADMIN}?status=open`)).toBe(2);
    expect(await total(sam, `${ADMIN}?tenant_id=org_acme`)).toBe(2);
    expect(await total(sam, `${ADMIN}?q=invoice`)).toBe(2);
    expect(await total(sam, `${ADMIN}?q=invoice%20webhook`)).toBe(1); // title and comment of one ticket
    expect(await total(sam, `${ADMIN}?q=refund&status=closed`)).toBe(1);
    expect(await total(sam, `${ADMIN}?q=invoice&status=open&tenant_id=org_acme`)).toBe(1);

    // Writes after the upgrade keep the new structures right (and the cache honest).
    await t.as(alice, { url: TICKETS });
    const res = await t.as(sam, { method: 'POST', url: `${ADMIN}/0190a000-0000-7000-8000-000000000003/comments`, payload: { content: 'Escalated to payments' } });
    expect(res.statusCode).toBe(201);
    expect(await total(sam, `${ADMIN}?q=payments%20invoice`)).toBe(1);
    await t.as(alice, { method: 'POST', url: `${TICKETS}/0190a000-0000-7000-8000-000000000001/close` });
    expect(await total(alice, `${TICKETS}?status=open`)).toBe(0);
    expect(await total(sam, `${ADMIN}?q=invoice&status=open`)).toBe(1);
    expect(await total(sam, `${ADMIN}?q=invoice&status=closed`)).toBe(1);
  });

  it('gives the old tickets numbers in the order they were made, and says whose move it is', async () => {
    t = await buildTestApp(dialect, { HELPDESK_RATE_LIMIT: '0' }, { migration: '003_idempotency', fill: oldDesk });
    const queue = (await t.as(sam, { url: `${ADMIN}?sort=created_at&limit=10` })).json().tickets as Record<string, unknown>[];
    const byId = new Map(queue.map((ticket) => [ticket.ticket_id, ticket]));
    const first = byId.get('0190a000-0000-7000-8000-000000000001');
    const closed = byId.get('0190a000-0000-7000-8000-000000000002');
    const third = byId.get('0190a000-0000-7000-8000-000000000003');
    expect([first?.number, closed?.number, third?.number]).toEqual([1, 2, 3]);
    // Staff answered the open ones last: the customer's move, since that answer.
    expect(first).toMatchObject({ waiting_on: 'customer', waiting_since: at(10), last_message_from: 'staff', last_message_preview: 'Looked at the webhook logs' });
    expect(closed).toMatchObject({ waiting_on: null, waiting_since: null });
    // The next ticket carries on from the old ones.
    const created = await t.as(alice, { method: 'POST', url: TICKETS, payload: { title: 'After the upgrade', description: 'New', type: 'bug' } });
    expect(created.json().number).toBe(4);
  });
});

describe.each(dialects())('%s: a batch of migrations that fails', (dialect) => {
  it('leaves the database as it was before the batch', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'helpdesk-upgrade-'));
    const postgres = dialect === 'postgres' ? await createPostgresDatabase() : undefined;
    const db = createDb(postgres ? { kind: 'postgres', url: postgres.url, poolSize: 2 } : { kind: 'sqlite', path: path.join(dir, 'helpdesk.db') });
    try {
      await migrateToLatest(db, dialect, '016_search_facets_postgres');
      // Something in the way of a later migration of the batch (027 creates this table).
      await sql`create table event_consumers (name text)`.execute(db);
      await expect(migrateToLatest(db, dialect)).rejects.toThrow(/027_event_consumers/);
      const { rows } = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(db);
      expect(rows.at(-1)?.name).toBe('016_search_facets_postgres');
      // Migration 017's table, made earlier in the same batch, is not there either.
      await expect(sql`select count(*) from ticket_events`.execute(db)).rejects.toThrow(/ticket_events/);
    } finally {
      await db.destroy();
      await postgres?.drop();
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
