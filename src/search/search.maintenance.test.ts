import type { AddressInfo } from 'node:net';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { alice, buildTestApp, createTicketAs, sam, type TestApp } from '../../test/helpers.js';
import { durable, type Db } from '../db/database.js';
import { mergeSearchIndexStep, mergeSearchIndexWhenIdle } from './search.maintenance.js';

const ADMIN = '/api/v1/admin/support/tickets';
const WORDS = Array.from({ length: 24 }, (_, i) => `mineral${String.fromCharCode(97 + i)}`);

const segments = async (db: Db) => Number((await sql<{ n: number }>`select count(distinct segid) as n from ticket_search_idx`.execute(db)).rows[0]?.n);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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

  it('holds off while requests keep arriving over HTTP, and merges once they stop', async () => {
    t = await fragmentedDesk();
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    const url = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}/readyz`;
    const before = await segments(t.db);
    // Idle means a second without a request. The test and the server share one event loop, so a
    // stall of the loop (a loaded machine: CI runs two suites at once on two cores) delays the
    // next request's arrival while the merger's timer is due; with 300 ms, one stall of that
    // length under Node 22's CI run counted as idleness. A second is a margin of 20 requests.
    const stop = mergeSearchIndexWhenIdle(t.db, 'sqlite', t.app.server, { idleAfterMs: 1_000, everyMs: 20, gapMs: 5, restMs: 5 });
    try {
      // A request every 50 ms for two and a half seconds: never a second without one.
      const started = performance.now();
      while (performance.now() - started < 2_500) {
        expect((await fetch(url)).status).toBe(200);
        await sleep(50);
      }
      expect(await segments(t.db)).toBe(before);
      for (let i = 0; i < 500 && (await segments(t.db)) > 3; i++) await sleep(20);
      expect(await segments(t.db)).toBeLessThanOrEqual(3);
    } finally {
      stop();
    }
    await everyWordFoundOnce(t);
  });
});
