import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { alice, buildTestApp, createTicketAs, sam, setTicket, TICKETS, type TestApp } from '../../test/helpers.js';
import { createDb, durable, type Db } from '../db/database.js';
import { createTicket } from '../tickets/ticket.service.js';

const ADMIN = '/api/v1/admin/support/tickets';

/** How many documents the full-text index itself holds for a word (no queue involved). */
async function indexed(db: Db, word: string): Promise<number> {
  const { rows } = await sql<{ n: number }>`select count(*) as n from ticket_search where ticket_search match ${`"${word}"`}`.execute(db);
  return Number(rows[0]?.n);
}
const queued = async (db: Db) => Number((await sql<{ n: number }>`select count(*) as n from ticket_search_pending`.execute(db)).rows[0]?.n);

describe('sqlite: the search index is written in bulk', () => {
  let t: TestApp;
  afterEach(async () => t.close());

  it('indexes what a request wrote by the time it is answered, each ticket once however often it changed', async () => {
    t = await buildTestApp('sqlite');
    const { ticket_id: id } = await createTicketAs(t, alice, { title: 'Quartzite export fails' });
    for (const content of ['still broken on zirconia', 'and on basalt']) {
      expect((await t.as(alice, { method: 'POST', url: `${TICKETS}/${id}/comments`, payload: { content } })).statusCode).toBe(201);
    }
    await setTicket(t.db, id, { title: 'Quartzite export fails on Mondays' });
    await durable(t.db);

    expect(await queued(t.db)).toBe(0);
    for (const word of ['quartzite', 'zirconia', 'basalt', 'mondays']) expect(await indexed(t.db, word)).toBe(1);
  });

  it('finds a ticket that another connection queued but nobody indexed yet', async () => {
    t = await buildTestApp('sqlite');
    await createTicketAs(t, alice, { title: 'Obsidian one' });
    // The command line writes without the server's batches, so its tickets stay queued.
    const other = createDb(t.config.database);
    try {
      const actor = { userId: alice.id, tenantId: 'org_acme', email: alice.email, isStaff: false };
      await createTicket(other, actor, { title: 'Obsidian two', description: 'written behind the server', type: 'bug' });
    } finally {
      await other.destroy();
    }
    expect(await queued(t.db)).toBe(1);
    expect(await indexed(t.db, 'obsidian')).toBe(1);

    const res = await t.as(sam, { url: `${ADMIN}?q=obsidian` });
    expect(res.json().total).toBe(2);
    expect(res.json().tickets.map((ticket: { title: string }) => ticket.title).sort()).toEqual(['Obsidian one', 'Obsidian two']);
    expect(await queued(t.db)).toBe(0);
  });
});
