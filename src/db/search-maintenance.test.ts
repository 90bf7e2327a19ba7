import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { alice, buildTestApp, createTicketAs, sam, type TestApp } from '../../test/helpers.js';
import { durable, type Db } from './database.js';
import { mergeSearchIndexStep, mergeSearchIndexWhenIdle } from './search-maintenance.js';

const ADMIN = '/api/v1/admin/support/tickets';
const WORDS = Array.from({ length: 24 }, (_, i) => `mineral${String.fromCharCode(97 + i)}`);

const segments = async (db: Db) => Number((await sql<{ n: number }>`select count(distinct segid) as n from ticket_search_idx`.execute(db)).rows[0]?.n);

/** One ticket per request, so that each is indexed by a batch of its own: one segment each. */
async function fragmentedDesk(): Promise<TestApp> {
  const t = await buildTestApp('sqlite');
  for (const word of WORDS) {
    await createTicketAs(t, alice, { title: `Export of ${word} fails` });
    await durable(t.db);
  }
  return t;
}

async function everyWordFoundOnce(t: TestApp) {
  for (const word of WORDS) expect([word, (await t.as(sam, { url: `${ADMIN}?q=${word}` })).json().total]).toEqual([word, 1]);
}

describe('sqlite: the search index is merged while the server is idle', () => {
  let t: TestApp;
  afterEach(async () => t.close());

  it('merges the segments many small batches left, and every ticket is still found', async () => {
    t = await fragmentedDesk();
    const before = await segments(t.db);
    expect(before).toBeGreaterThan(3);
    let steps = 0;
    while (await mergeSearchIndexStep(t.db)) steps++;
    expect(steps).toBeGreaterThan(0);
    expect(await segments(t.db)).toBeLessThanOrEqual(3);
    expect(await segments(t.db)).toBeLessThan(before);
    await everyWordFoundOnce(t);
  });

  it('merges only while idle', async () => {
    t = await fragmentedDesk();
    const before = await segments(t.db);
    let idle = false;
    const stop = mergeSearchIndexWhenIdle(t.db, 'sqlite', () => idle, { everyMs: 5, gapMs: 5, restMs: 5 });
    try {
      await new Promise((r) => setTimeout(r, 200));
      expect(await segments(t.db)).toBe(before);
      idle = true;
      for (let i = 0; i < 200 && (await segments(t.db)) > 3; i++) await new Promise((r) => setTimeout(r, 10));
      expect(await segments(t.db)).toBeLessThanOrEqual(3);
    } finally {
      stop();
    }
    await everyWordFoundOnce(t);
  });
});
