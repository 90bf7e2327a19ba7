import { sql } from 'kysely';
import type { Db, Dialect } from './database.js';

/**
 * Where a bulk load on SQLite (the seed) keeps the indexes and triggers it dropped until it has
 * built them again; the table exists only while a load runs or after one was killed.
 */
export const BULK_LOAD_SCHEMA = 'seed_deferred_schema';

/**
 * Whether a bulk load is running on the database or one was killed while it did: on SQLite
 * the table above exists; on PostgreSQL a trigger of ours is disabled (a load turns triggers
 * off while it writes, and nothing else does). Migrations must wait until it has finished.
 */
export async function bulkLoadInterrupted(db: Db, dialect: Dialect): Promise<boolean> {
  const { rows } =
    dialect === 'sqlite'
      ? await sql<{ n: number }>`select count(*) as n from sqlite_master where type = 'table' and name = ${BULK_LOAD_SCHEMA}`.execute(db)
      : await sql<{ n: string }>`select count(*) as n from pg_trigger t join pg_class c on c.oid = t.tgrelid
          where not t.tgisinternal and t.tgenabled = 'D' and c.relnamespace = current_schema()::regnamespace`.execute(db);
  return Number(rows[0]?.n) > 0;
}
