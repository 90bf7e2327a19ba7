import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dialects } from '../../test/dialects.js';
import { buildTestApp, type TestApp } from '../../test/helpers.js';
import { createUserTracker } from './user.service.js';

describe.each(dialects())('%s: the users table kept from tokens', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp(dialect);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('writes a user seen again within a minute only when it was forgotten: the one written longest ago, one at a time', async () => {
    const remember = createUserTracker(t.db, { remembered: 3 });
    const user = (id: string) => ({ userId: `tracked_${id}`, tenantId: 'org_tracked', email: `${id}@tracked.example`, isStaff: false });
    for (const id of ['a', 'b', 'c', 'd']) await remember(user(id));
    // Marked, to see which rows the next sightings write.
    const marker = '2000-01-01T00:00:00.000Z';
    await sql`update users set last_seen_at = ${marker} where id like 'tracked_%'`.execute(t.db);
    for (const id of ['b', 'c', 'd', 'a']) await remember(user(id));
    const rows = await t.db.selectFrom('users').select(['id', 'last_seen_at']).where('id', 'like', 'tracked_%').orderBy('id').execute();
    expect(rows.map((row) => [row.id, row.last_seen_at === marker ? 'not written' : 'written'])).toEqual([
      ['tracked_a', 'written'],
      ['tracked_b', 'not written'],
      ['tracked_c', 'not written'],
      ['tracked_d', 'not written'],
    ]);
    // A changed email is written at once.
    await remember({ ...user('c'), email: 'c2@tracked.example' });
    expect((await t.db.selectFrom('users').select('email').where('id', '=', 'tracked_c').executeTakeFirstOrThrow()).email).toBe('c2@tracked.example');
  });

  it('writes every user first seen in one turn, a storm of them at once, with the latest of each one\'s details', async () => {
    const remember = createUserTracker(t.db);
    const storm = Array.from({ length: 450 }, (_, i) => ({ userId: `storm_${i}`, tenantId: `org_storm_${i % 7}`, email: `s${i}@storm.example`, isStaff: false }));
    // One of them twice in the same turn, with a new email the second time.
    await Promise.all([...storm.map((actor) => remember(actor)), remember({ ...(storm[3] as (typeof storm)[number]), email: 'renamed@storm.example' })]);
    const rows = await t.db.selectFrom('users').select(['id', 'email']).where('id', 'like', 'storm_%').execute();
    expect(rows.length).toBe(450);
    expect(rows.find((row) => row.id === 'storm_3')?.email).toBe('renamed@storm.example');
    expect(rows.find((row) => row.id === 'storm_449')?.email).toBe('s449@storm.example');
  });
  it('lets instances write the same users at once, each seeing them in another order, without a deadlock', async () => {
    const users = Array.from({ length: 300 }, (_, i) => ({ userId: `shared_${String(i).padStart(3, '0')}`, tenantId: 'org_shared', email: `u${i}@shared.example`, isStaff: false }));
    await Promise.all(users.map(createUserTracker(t.db)));
    // Each round, two instances (trackers of their own, on the pool's connections) first see all
    // of them in one turn, one from the first to the last and the other the other way round: each
    // writes its batch as one upsert, which locks the rows it updates as it goes.
    for (let round = 0; round < 5; round++) {
      const [one, other] = [createUserTracker(t.db), createUserTracker(t.db)];
      const results = await Promise.allSettled([...users.map(one), ...[...users].reverse().map(other)]);
      expect(results.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason)).slice(0, 1)).toEqual([]);
    }
  });
});
