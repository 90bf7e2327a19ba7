import { sql, type Kysely } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqlite } from './sqlite.js';
import type { Db } from './database.js';
import { insertShape, runShaped } from './shaped.js';

interface Row {
  id: number;
  name: string;
  note: string | null;
}

describe('statements compiled once per shape', () => {
  let db: Db;
  beforeEach(async () => {
    db = openSqlite(':memory:') as unknown as Db;
    await sql`create table shaped_rows (id integer primary key, name text not null, note text)`.execute(db);
  });
  afterEach(async () => {
    await db.destroy();
  });
  const rows = () => db as unknown as Kysely<{ shaped_rows: Row }>;

  it('runs the text compiled for a shape with each call’s parameters', async () => {
    const insert = (row: Row) => {
      const shaped = insertShape('shaped_rows', [row as unknown as Record<string, unknown>]);
      if (!shaped) throw new Error('no shape');
      return runShaped(db, shaped.shape, shaped.parameters, () => rows().insertInto('shaped_rows').values(row));
    };
    await insert({ id: 1, name: 'one', note: null });
    await insert({ id: 2, name: 'two', note: 'second' });
    const find = (id: number) => runShaped<Row>(db, 'row by id', [id], () => rows().selectFrom('shaped_rows').selectAll().where('id', '=', id));
    expect((await find(2)).rows).toEqual([{ id: 2, name: 'two', note: 'second' }]);
    expect((await find(1)).rows).toEqual([{ id: 1, name: 'one', note: null }]);
  });

  it('refuses parameters in another order than the query’s, and a shape whose text differs between calls', async () => {
    const byBoth = (id: number, name: string) => () => rows().selectFrom('shaped_rows').selectAll().where('id', '=', id).where('name', '=', name);
    await expect(runShaped(db, 'by id and name', ['one', 1], byBoth(1, 'one'))).rejects.toThrow(/"by id and name" was given parameters other than its query's/);
    await runShaped(db, 'by a filter', [1], () => rows().selectFrom('shaped_rows').selectAll().where('id', '=', 1));
    await expect(runShaped(db, 'by a filter', ['one'], () => rows().selectFrom('shaped_rows').selectAll().where('name', '=', 'one'))).rejects.toThrow(
      /"by a filter" compiled to another text/,
    );
  });

  it('gives insert shapes only for rows alike: the same columns in the same order, none undefined', () => {
    expect(insertShape('t', [{ a: 1, b: null }, { a: 2, b: 'x' }])).toEqual({ shape: 'insert t 2 a,b', parameters: [1, null, 2, 'x'] });
    expect(insertShape('t', [{ a: 1, b: 2 }, { b: 2, a: 1 }])).toBeUndefined();
    expect(insertShape('t', [{ a: 1, b: 2 }, { a: 1 }])).toBeUndefined();
    expect(insertShape('t', [{ a: 1, b: undefined }])).toBeUndefined();
    expect(insertShape('t', [])).toBeUndefined();
  });
});
