import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createPostgresDatabase, dialects } from '../../test/dialects.js';
import { createDb, preparedStatement } from './database.js';

const modeOf = async (file: string) => (await fs.stat(file)).mode & 0o777;

describe('sqlite: the database file is private', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'helpdesk-db-mode-'));
  });
  afterEach(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('creates the database, its log and its shared memory readable by the owner only (0600), in a 0700 folder', async () => {
    const file = path.join(dir, 'new', 'helpdesk.db');
    // Even with a permissive umask, as a container or service manager may set.
    const umask = process.umask(0o000);
    try {
      for (const groupCommit of [true, false]) {
        const db = createDb({ kind: 'sqlite', path: file }, { groupCommit });
        try {
          await sql`create table if not exists t (x integer)`.execute(db);
          await sql`insert into t values (1)`.execute(db);
          for (const name of [file, `${file}-wal`, `${file}-shm`]) expect(await modeOf(name), name).toBe(0o600);
          expect(await modeOf(path.dirname(file))).toBe(0o700);
        } finally {
          await db.destroy();
        }
      }
    } finally {
      process.umask(umask);
    }
  });

  it('takes access away from others on a file an older version created world-readable', async () => {
    const file = path.join(dir, 'helpdesk.db');
    await fs.writeFile(file, '');
    await fs.chmod(file, 0o644);
    const grouped = path.join(dir, 'grouped.db');
    await fs.writeFile(grouped, '');
    await fs.chmod(grouped, 0o640); // an operator's choice without access for others stays
    for (const name of [file, grouped]) await createDb({ kind: 'sqlite', path: name }).destroy();
    expect(await modeOf(file)).toBe(0o600);
    expect(await modeOf(grouped)).toBe(0o640);
  });
});

// PostgreSQL only: SQLite prepares every statement of its one connection anyway.
if (dialects().includes('postgres')) {
  describe('postgres: statements prepared by name', () => {
    it('parses and plans a preparedStatement once per connection, under one name, and leaves other reads unnamed', async () => {
      const database = await createPostgresDatabase();
      const db = createDb({ kind: 'postgres', url: database.url, poolSize: 1 });
      try {
        const text = 'select count(*)::int as n from unnest($1::text[]) as k(v) where k.v = any($2::text[])';
        const runs = [
          [['a', 'b', 'c'], ['b']],
          [['x'], ['x', 'y']],
        ];
        const counts: number[] = [];
        for (const parameters of runs) counts.push((await db.executeQuery<{ n: number }>(preparedStatement(text, parameters))).rows[0]?.n ?? -1);
        expect(counts).toEqual([1, 1]);
        await sql`select ${'unnamed'}::text as v`.execute(db);
        // One connection in the pool: the same session saw both runs.
        const prepared = await sql<{ statement: string }>`select statement from pg_prepared_statements`.execute(db);
        expect(prepared.rows.map((row) => row.statement)).toEqual([text]);
      } finally {
        await db.destroy();
        await database.drop();
      }
    });
  });
}
