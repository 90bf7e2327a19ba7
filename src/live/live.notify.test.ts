import { sql } from 'kysely';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { dialects } from '../../test/dialects.js';
import { alice, buildTestApp, createTicketAs, sam, type TestApp } from '../../test/helpers.js';
import { createNotifier, listenPostgres, type Listener } from '../db/notifications.js';
import { LIVE_CHANNEL } from './live.service.js';

const ADMIN = '/api/v1/admin/support/tickets';

/** Resolves once `count()` has grown past `from` (a notification arrived); fails after 10 s. */
async function grows(count: () => number, from: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (count() <= from) {
    if (Date.now() > deadline) throw new Error('no notification within 10 s');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe.runIf(dialects().includes('postgres'))('postgres: instances woken by notifications', () => {
  let t: TestApp;
  let listener: Listener | undefined;
  afterEach(async () => {
    await listener?.stop();
    await t.close();
  });

  it('notifies every listener when a change writes events or an agent is on a ticket, and listens again after losing its connection', async () => {
    t = await buildTestApp('postgres');
    const url = (t.config.database as { url: string }).url;
    let heard = 0;
    listener = listenPostgres(url, LIVE_CHANNEL, () => heard++, () => {});
    await grows(() => heard, 0); // called once connected

    let before = heard;
    const { ticket_id: id } = await createTicketAs(t, alice);
    await grows(() => heard, before);

    before = heard;
    const present = await t.as(sam, { method: 'POST', url: `${ADMIN}/${id}/presence`, payload: { state: 'viewing' } });
    expect(present.statusCode).toBe(200);
    await grows(() => heard, before);

    // The server drops the listening connection: the listener connects again and hears on.
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      before = heard;
      await admin.query(`select pg_terminate_backend(pid) from pg_stat_activity
        where datname = current_database() and query like 'listen %'`);
      await grows(() => heard, before); // the new connection's first call
      before = heard;
      const reply = await t.as(sam, { method: 'POST', url: `${ADMIN}/${id}/comments`, payload: { content: 'Still here' } });
      expect(reply.statusCode).toBe(201);
      await grows(() => heard, before);
    } finally {
      await admin.end();
    }
  });

  it('sends a burst of writes as one notification and one more after it, never from inside a writing transaction', async () => {
    t = await buildTestApp('postgres');
    const url = (t.config.database as { url: string }).url;
    let heard = 0;
    listener = listenPostgres(url, LIVE_CHANNEL, () => heard++, () => {});
    await grows(() => heard, 0);
    const before = heard;
    const notifier = createNotifier(t.db, LIVE_CHANNEL, { minGapMs: 200, onError: (error) => { throw error; } });
    for (let i = 0; i < 1_000; i++) notifier.signal();
    // The first at once; the 999 signalled while it was on its way, one more after it...
    await grows(() => heard, before + 1);
    // ...and no third: three gaps' time after the second, nothing else has arrived.
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(heard - before).toBe(2);
    notifier.signal();
    await grows(() => heard, before + 2);
    await notifier.stop();
    // The tickets' own writes notify nobody: no trigger is left on the tables.
    const { rows } = await sql<{ n: number }>`select count(*)::int as n from pg_trigger where tgname like '%notify_live'`.execute(t.db);
    expect(rows[0]?.n).toBe(0);
  });
});
