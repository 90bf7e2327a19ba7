import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { alice, bob, buildTestApp, createTicketAs, sam, TICKETS, type TestApp } from '../../test/helpers.js';
import { dialects } from '../../test/dialects.js';
import { feedSettled } from '../../test/events.js';
import type { Db } from '../db/database.js';
import { consumeEvents } from './event.consumer.js';
import type { FeedRow } from './event.repository.js';

describe.each(dialects())('%s: a consumer of the events feed', (dialect) => {
  let t: TestApp;
  beforeEach(async () => {
    t = await buildTestApp(dialect);
    await sql`create table consumed (event_id text primary key, type text not null)`.execute(t.db);
  });
  afterEach(async () => {
    await t.close();
  });

  /** A handler that records each event it is given in the same transaction. */
  const record = async (trx: Db, rows: FeedRow[]) => {
    for (const row of rows) await sql`insert into consumed (event_id, type) values (${row.event_id}, ${row.type})`.execute(trx);
  };
  const consumed = async () => (await sql<{ event_id: string; type: string }>`select event_id, type from consumed`.execute(t.db)).rows;
  const consume = async (name = 'test', batch = 100) => {
    await feedSettled(t.db);
    return consumeEvents(t.db, name, record, { batch });
  };

  it('starts at the end of the feed, then hands over each later event once, in order', async () => {
    await createTicketAs(t, alice); // before the consumer existed: not handed over
    expect(await consume()).toBe(0);
    const ticket = await createTicketAs(t, bob);
    const comment = await t.as(bob, { method: 'POST', url: `${TICKETS}/${ticket.ticket_id}/comments`, payload: { content: 'More detail' } });
    expect(comment.statusCode).toBe(201);
    expect(await consume()).toBe(2);
    expect(await consume()).toBe(0);
    expect((await consumed()).map((e) => e.type)).toEqual(['ticket.created', 'comment.created']);
  });

  it('hands the same events again when the handler fails, and keeps none of what it wrote', async () => {
    await consume();
    await createTicketAs(t, alice);
    await createTicketAs(t, bob);
    await feedSettled(t.db);
    const failing = async (trx: Db, rows: FeedRow[]) => {
      await record(trx, rows);
      throw new Error('receiver table full');
    };
    await expect(consumeEvents(t.db, 'test', failing)).rejects.toThrow('receiver table full');
    expect(await consumed()).toEqual([]);
    expect(await consume()).toBe(2);
    expect(await consumed()).toHaveLength(2);
  });

  it('pages in batches, and each consumer keeps its own place', async () => {
    await consume('a');
    await consume('b');
    for (let i = 0; i < 5; i++) await createTicketAs(t, alice);
    expect(await consume('a', 2)).toBe(2);
    expect(await consume('a', 2)).toBe(2);
    expect(await consume('a', 2)).toBe(1);
    expect(await consume('a', 2)).toBe(0);
    await sql`delete from consumed`.execute(t.db);
    expect(await consume('b', 10)).toBe(5);
  });

  it('moves past events its filter leaves out', async () => {
    await consumeEvents(t.db, 'comments', record, { filter: { types: ['comment.created'] } });
    const ticket = await createTicketAs(t, alice);
    await feedSettled(t.db);
    expect(await consumeEvents(t.db, 'comments', record, { filter: { types: ['comment.created'] } })).toBe(0);
    const { rows } = await sql<{ position: string }>`select position from event_consumers where name = 'comments'`.execute(t.db);
    const [feedEnd] = (await t.as(sam, { url: '/api/v1/admin/support/events' })).json().events.slice(-1);
    expect(rows[0]?.position).toBe(feedEnd.cursor);
    expect(feedEnd.ticket_id).toBe(ticket.ticket_id);
  });

  if (dialect === 'postgres') {
    it('lets one instance at a time consume: another returns at once while the first is at work', async () => {
      await consume();
      await createTicketAs(t, alice);
      await feedSettled(t.db);
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      let entered!: () => void;
      const inside = new Promise<void>((resolve) => (entered = resolve));
      const first = consumeEvents(t.db, 'test', async (trx, rows) => {
        entered();
        await held;
        await record(trx, rows);
      });
      await inside;
      expect(await consumeEvents(t.db, 'test', record)).toBe(0);
      release();
      expect(await first).toBe(1);
      expect(await consume()).toBe(0);
      expect(await consumed()).toHaveLength(1);
    });
  }
});
