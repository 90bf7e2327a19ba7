import { sql, type Kysely, type Migration, type RawBuilder } from 'kysely';
import type { Dialect } from '../database.js';
import { KEYS } from './012_tally_triggers.js';
import { postgresOwnerVersionFunction } from './013_owner_version_triggers.js';

/* eslint-disable @typescript-eslint/no-explicit-any */

/**
 * PostgreSQL only: the tallies and owner versions split into shards, one per database
 * session (its backend pid, modulo 16), each a row of its own. Every create of an open normal
 * billing ticket, by anyone, adds one to the same tally row; with one row a write's lock on it
 * lasted until its commit was flushed, so writes went one flush after another (400-500 creates
 * a second at 1,000,000 tickets, eight of ten connections waiting on that lock). A session now
 * changes only its own shard. Readers already sum the rows that match (ticket.tallies.ts); the
 * owner version is the sum of its shards, which every change still moves up by one. A shard's
 * count may go below zero (a ticket counted in one shard leaves through another); the sums are
 * exact. Rebuilds write everything to shard 0. SQLite has one writer and keeps one row each.
 */
export function shardedCountersPostgresMigration(dialect: Dialect): Migration {
  return dialect === 'postgres' ? postgres : { up: async () => {} };
}

const TABLES = Object.keys(KEYS) as Array<keyof typeof KEYS>;
const SHARD = sql.raw('pg_backend_pid() % 16');

const statements = (parts: RawBuilder<unknown>[]) => sql.join(parts.map((part) => sql`${part};`), sql` `);

/** Adds `delta` to the count of the group `row` is in, in this session's shard. */
const count = (table: keyof typeof KEYS, row: 'old' | 'new', delta: 1 | -1) => {
  const keys = sql.raw(KEYS[table].join(', '));
  const values = sql.raw(KEYS[table].map((k) => `coalesce(${row}.${k}, '')`).join(', '));
  return sql`insert into ${sql.table(table)} (${keys}, shard, n) values (${values}, ${SHARD}, ${sql.raw(String(delta))})
    on conflict (${keys}, shard) do update set n = ${sql.ref(`${table}.n`)} + excluded.n`;
};

const bump = (row: 'old' | 'new') => sql`
  insert into ticket_owner_versions (tenant_id, created_by, shard, version) values (${sql.raw(`${row}.tenant_id`)}, ${sql.raw(`${row}.created_by`)}, ${SHARD}, 1)
  on conflict (tenant_id, created_by, shard) do update set version = ticket_owner_versions.version + 1`;

const postgres: Migration = {
  async up(db: Kysely<any>) {
    for (const [table, keys] of [...Object.entries(KEYS), ['ticket_owner_versions', ['tenant_id', 'created_by']] as const]) {
      await sql`alter table ${sql.table(table)} add column shard smallint not null default 0`.execute(db);
      await sql`alter table ${sql.table(table)} drop constraint ${sql.id(`${table}_pk`)},
        add constraint ${sql.id(`${table}_pk`)} primary key (${sql.raw(keys.join(', '))}, shard)`.execute(db);
    }
    const moved = (table: keyof typeof KEYS) =>
      sql.raw(`(${KEYS[table].map((k) => `old.${k}`).join(', ')}) is distinct from (${KEYS[table].map((k) => `new.${k}`).join(', ')})`);
    const updates = sql.join(
      TABLES.map((table) => sql`if ${moved(table)} then ${statements([count(table, 'old', -1), count(table, 'new', 1)])} end if;`),
      sql` `,
    );
    await sql`create or replace function tickets_tally() returns trigger language plpgsql as $$
      begin
        if tg_op = 'INSERT' then ${statements(TABLES.map((table) => count(table, 'new', 1)))}
        elsif tg_op = 'DELETE' then ${statements(TABLES.map((table) => count(table, 'old', -1)))}
        else ${updates}
        end if;
        return null;
      end $$`.execute(db);
    await postgresOwnerVersionFunction(bump).execute(db);
  },
};
