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
});
