import {
  AbortedTransactionError,
  CompiledQuery,
  InsertQueryNode,
  Kysely,
  PostgresDialect,
  ValuesNode,
  type DatabaseConnection,
  type Driver,
  type OperationNode,
  type QueryResult,
  type TransactionSettings,
} from 'kysely';
import pg from 'pg';

export interface PostgresOptions {
  url: string;
  poolSize: number;
}

/**
 * A pg pool of `poolSize` connections behind Kysely. No statement may hold a connection (and
 * its locks) for more than 10 s. JIT is off: it spends milliseconds compiling the short counts
 * and lookups of a request, the work it exists to speed up.
 */
export function openPostgres<DB>({ url, poolSize }: PostgresOptions): Kysely<DB> {
  const pool = new pg.Pool({ connectionString: url, max: poolSize, statement_timeout: 10_000, options: '-c jit=off' });
  // An idle client losing its server must not crash the process; the pool replaces it.
  pool.on('error', () => {});
  const driver = new PostgresDriver(pool);
  return new Kysely<DB>({
    dialect: new (class extends PostgresDialect {
      override createDriver(): Driver {
        return driver;
      }
    })({ pool }),
  });
}

/**
 * Kysely's PostgreSQL driver, but statements that only insert values run as named prepared
 * statements (pg's `name` query option): they have one plan whatever the values, so
 * PostgreSQL parses and plans them once per connection. So do statements made with
 * `preparedStatement`, whose caller vouches for the same. Every other statement stays unnamed:
 * after five runs PostgreSQL may switch a prepared statement to a generic plan, which for a
 * read by several columns can pick a worse index than the values would.
 */
class PostgresDriver implements Driver {
  constructor(private readonly pool: pg.Pool) {}

  async init(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    return new PostgresConnection(await this.pool.connect());
  }

  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    const level = settings.isolationLevel ? ` isolation level ${settings.isolationLevel}` : '';
    const mode = settings.accessMode ? ` ${settings.accessMode}` : '';
    await connection.executeQuery(CompiledQuery.raw(`start transaction${level}${mode}`));
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    // PostgreSQL answers COMMIT with a ROLLBACK tag when an earlier statement's error left the
    // transaction aborted: nothing was committed, and the caller must hear so.
    const { rows } = await connection.executeQuery<{ command: string }>(CompiledQuery.raw('commit'));
    if (rows[0]?.command === 'ROLLBACK') throw new AbortedTransactionError();
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    try {
      await connection.executeQuery(CompiledQuery.raw('rollback'));
    } catch (error) {
      // A connection that could not roll back may still be inside the transaction.
      (connection as PostgresConnection).discard();
      throw error;
    }
  }

  async savepoint(connection: DatabaseConnection, name: string): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw(`savepoint ${quoteName(name)}`));
  }

  async rollbackToSavepoint(connection: DatabaseConnection, name: string): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw(`rollback to savepoint ${quoteName(name)}`));
  }

  async releaseSavepoint(connection: DatabaseConnection, name: string): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw(`release savepoint ${quoteName(name)}`));
  }

  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    (connection as PostgresConnection).release();
  }

  async destroy(): Promise<void> {
    await this.pool.end();
  }
}

const quoteName = (name: string) => `"${name.replaceAll('"', '""')}"`;

const PREPARED = Symbol('prepared by name');

/**
 * A statement PostgreSQL parses and plans once per connection (a named prepared statement).
 * Only for a statement whose one plan is right whatever its values: each value an index probe,
 * say, with arrays for lists (`= any($1)`, `unnest($1, $2)`), so that its text never changes.
 */
export function preparedStatement(text: string, parameters: readonly unknown[]): CompiledQuery {
  return { ...CompiledQuery.raw(text, [...parameters]), [PREPARED]: true } as CompiledQuery;
}

/** The prepared statements' names on every connection, by statement text. */
const statementNames = new Map<string, string>();

class PostgresConnection implements DatabaseConnection {
  #broken = false;

  constructor(private readonly client: pg.PoolClient) {}

  async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    const values = [...query.parameters];
    const name = values.length > 0 && (PREPARED in query || insertsValuesOnly(query.query)) ? nameOf(query.sql) : undefined;
    try {
      const result = await this.client.query<R & pg.QueryResultRow>({ text: query.sql, values, ...(name ? { name } : {}) });
      if (result.command === 'COMMIT' || result.command === 'ROLLBACK') return { rows: [{ command: result.command } as R] };
      const counted = ['INSERT', 'UPDATE', 'DELETE', 'MERGE'].includes(result.command);
      return { rows: result.rows ?? [], ...(counted ? { numAffectedRows: BigInt(result.rowCount ?? 0) } : {}) };
    } catch (error) {
      // A connection that lost its server or its protocol state is not given back to the pool.
      if (!(error instanceof pg.DatabaseError)) this.#broken = true;
      throw error;
    }
  }

  // eslint-disable-next-line require-yield
  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error('streaming is not used on PostgreSQL');
  }

  /** Keeps the connection from going back to the pool: it is closed instead. */
  discard(): void {
    this.#broken = true;
  }

  release(): void {
    this.client.release(this.#broken);
  }
}

function nameOf(text: string): string {
  let name = statementNames.get(text);
  if (name === undefined) statementNames.set(text, (name = `prepared_${statementNames.size}`));
  return name;
}

/**
 * Whether a statement only inserts values: an INSERT … VALUES without RETURNING (whose result
 * shape a migration could change), alone or with common table expressions that are the same.
 */
function insertsValuesOnly(node: OperationNode | undefined): boolean {
  if (!node || !InsertQueryNode.is(node)) return false;
  if (!node.values || !ValuesNode.is(node.values) || node.returning) return false;
  return (node.with?.expressions ?? []).every((cte) => insertsValuesOnly(cte.expression));
}

/**
 * Creates the database a PostgreSQL URL names, connecting to the server's `postgres` database with the same
 * role; false when it already exists.
 */
export async function createPostgresDatabaseOf(url: string): Promise<boolean> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.slice(1));
  if (!name) throw new Error('DATABASE_URL names no database (postgres://HOST/NAME)');
  const maintenance = new URL(url);
  maintenance.pathname = '/postgres';
  const client = new pg.Client({ connectionString: maintenance.toString() });
  await client.connect();
  try {
    const exists = await client.query('select 1 from pg_database where datname = $1', [name]);
    if (exists.rowCount) return false;
    await client.query(`create database "${name.replaceAll('"', '""')}"`);
    return true;
  } finally {
    await client.end();
  }
}
