import { sql, type Kysely, type Migration } from 'kysely';
import type { Dialect } from '../database.js';

/* eslint-disable @typescript-eslint/no-explicit-any */

/**
 * SQLite only: the idle-time merges (search-maintenance.ts) merge the search index's segments
 * as soon as two share a level (FTS5's default waits for four), keeping a search's prefix
 * lookups to a few segments.
 */
export function searchUsermergeMigration(dialect: Dialect): Migration {
  return dialect === 'sqlite' ? sqlite : { up: async () => {} };
}

const sqlite: Migration = {
  async up(db: Kysely<any>) {
    await sql`insert into ticket_search (ticket_search, rank) values ('usermerge', 2)`.execute(db);
  },
};
