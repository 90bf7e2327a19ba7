import type { Compilable, CompiledQuery, QueryResult } from 'kysely';
import { dialectOf, type Db } from './database.js';

/**
 * Statements compiled once per shape. Building a query with Kysely and compiling it costs more
 * CPU than SQLite takes to run a small one: on the write path the builders and the compiler
 * were an eighth of the server's CPU (docs/PERFORMANCE.md, "Statements compiled once per
 * shape"). A statement whose text depends only on its shape (which columns it sets, how many
 * rows it inserts, which filters it has) is built and compiled by Kysely the first time its
 * shape is seen on a dialect; after that its text runs with each call's parameters, which the
 * caller lists in the order Kysely puts them.
 *
 * The first call of every shape checks that the parameters given are the compiled query's. Under
 * test (VITEST set, or HELPDESK_CHECK_SHAPES=1) every call builds and compiles as well and must
 * give the same text and parameters, so a shape that leaves out something the text depends on
 * fails the tests that use it.
 */
const compiled = new Map<string, CompiledQuery>();
const MAX_SHAPES = 2_000;
const checkEveryCall = process.env.VITEST !== undefined || process.env.HELPDESK_CHECK_SHAPES === '1';

export async function runShaped<R>(db: Db, shape: string, parameters: readonly unknown[], build: () => Compilable<R>): Promise<QueryResult<R>> {
  const key = `${dialectOf(db)} ${shape}`;
  let query = compiled.get(key);
  if (query === undefined || checkEveryCall) {
    const fresh = build().compile();
    if (query !== undefined && fresh.sql !== query.sql) throw new Error(`statement shape "${shape}" compiled to another text:\n${fresh.sql}\n${query.sql}`);
    if (!sameParameters(fresh.parameters, parameters)) {
      throw new Error(`statement shape "${shape}" was given parameters other than its query's: ${JSON.stringify(parameters)} for ${JSON.stringify(fresh.parameters)}`);
    }
    if (query === undefined) {
      if (compiled.size >= MAX_SHAPES) compiled.clear();
      compiled.set(key, (query = fresh));
    }
  }
  // The query's tree goes along with its text: the PostgreSQL driver prepares inserts by it.
  return (await db.executeQuery({ ...query, parameters })) as QueryResult<R>;
}

function sameParameters(a: readonly unknown[], b: readonly unknown[]): boolean {
  return a.length === b.length && a.every((value, i) => Object.is(value, b[i]));
}

/**
 * The shape and parameters of inserting `rows`, when every row has the same columns in the same
 * order and no undefined value (Kysely leaves those out, which changes the text); undefined
 * otherwise, for the caller to build the statement as usual.
 */
export function insertShape(table: string, rows: ReadonlyArray<Record<string, unknown>>): { shape: string; parameters: unknown[] } | undefined {
  const first = rows[0];
  if (!first) return undefined;
  const columns = Object.keys(first);
  const parameters: unknown[] = [];
  for (const row of rows) {
    const keys = Object.keys(row);
    if (keys.length !== columns.length) return undefined;
    for (let i = 0; i < columns.length; i++) {
      const value = row[columns[i] as string];
      if (keys[i] !== columns[i] || value === undefined) return undefined;
      parameters.push(value);
    }
  }
  return { shape: `insert ${table} ${rows.length} ${columns.join(',')}`, parameters };
}
