import { sql, type Kysely, type Migration, type RawBuilder } from 'kysely';
import type { Dialect } from '../database.js';

/* eslint-disable @typescript-eslint/no-explicit-any */

/**
 * The tallies (migration 004) kept by triggers on the tickets table instead of by the code
 * that writes a ticket. The code sent one upsert per tally table: three statements per create
 * and per counted change, 50-60 µs of query building per create on SQLite, and on PostgreSQL
 * three round trips made while holding the hot tally rows' locks. A trigger does the same work
 * inside the ticket's own statement. A ticket leaves the group its old values counted it in and
 * joins the one its new values name (as before: out first, then in); a table whose key columns
 * did not change is left alone. Unassigned counts under '' (a key column cannot be null).
 */
export function tallyTriggersMigration(dialect: Dialect): Migration {
  return dialect === 'sqlite' ? sqlite : postgres;
}

// A copy, not an import, so that this migration keeps creating what it created when the
// tallies change later (ticket.tallies.ts; every test checks that the two agree). Migration
// 014 builds on the same keys.
export const KEYS = {
  ticket_tallies: ['status', 'type', 'priority', 'assigned_to'],
  tenant_ticket_tallies: ['tenant_id', 'status', 'type', 'priority', 'assigned_to'],
  user_ticket_tallies: ['tenant_id', 'created_by', 'status', 'type'],
} as const;
const TABLES = Object.keys(KEYS) as Array<keyof typeof KEYS>;
const COUNTED = [...new Set(Object.values(KEYS).flat())];

type Row = 'old' | 'new';
const list = (parts: string[]) => sql.raw(parts.join(', '));
const keyOf = (table: keyof typeof KEYS, row: Row) => list(KEYS[table].map((k) => `coalesce(${row}.${k}, '')`));
const changed = (table: keyof typeof KEYS) => sql.raw(KEYS[table].map((k) => `old.${k} is not new.${k}`).join(' or '));
const matches = (table: keyof typeof KEYS, row: Row) => sql.raw(KEYS[table].map((k) => `${k} = coalesce(${row}.${k}, '')`).join(' and '));

/** Counts the ticket `new` in, with `when` as an extra condition (SQLite needs a WHERE here). */
const countIn = (table: keyof typeof KEYS, when: RawBuilder<unknown>) => sql`
  insert into ${sql.table(table)} (${list([...KEYS[table]])}, n) select ${keyOf(table, 'new')}, 1 where ${when}
  on conflict (${list([...KEYS[table]])}) do update set n = ${sql.ref(`${table}.n`)} + 1`;
const countOut = (table: keyof typeof KEYS) => sql`update ${sql.table(table)} set n = n - 1 where ${matches(table, 'old')}`;

const sqlite: Migration = {
  async up(db: Kysely<any>) {
    const all = sql.join(TABLES.map((table) => sql`${countIn(table, sql`true`)};`), sql``);
    await sql`create trigger tickets_tally_insert after insert on tickets begin ${all} end`.execute(db);
    const out = sql.join(TABLES.map((table) => sql`${countOut(table)};`), sql``);
    await sql`create trigger tickets_tally_delete after delete on tickets begin ${out} end`.execute(db);
    const moves = sql.join(
      TABLES.map((table) => sql`${countOut(table)} and (${changed(table)}); ${countIn(table, changed(table))};`),
      sql``,
    );
    await sql`create trigger tickets_tally_update after update of ${list(COUNTED)} on tickets begin ${moves} end`.execute(db);
  },
};

const postgres: Migration = {
  async up(db: Kysely<any>) {
    const statements = (parts: RawBuilder<unknown>[]) => sql.join(parts.map((part) => sql`${part};`), sql` `);
    // PostgreSQL compares rows with `is distinct from` where SQLite compares values with `is not`.
    const moved = (table: keyof typeof KEYS) => sql.raw(`(${KEYS[table].map((k) => `old.${k}`).join(', ')}) is distinct from (${KEYS[table].map((k) => `new.${k}`).join(', ')})`);
    const updates = sql.join(
      TABLES.map((table) => sql`if ${moved(table)} then ${statements([countOut(table), countIn(table, sql`true`)])} end if;`),
      sql` `,
    );
    await sql`create function tickets_tally() returns trigger language plpgsql as $$
      begin
        if tg_op = 'INSERT' then ${statements(TABLES.map((table) => countIn(table, sql`true`)))}
        elsif tg_op = 'DELETE' then ${statements(TABLES.map(countOut))}
        else ${updates}
        end if;
        return null;
      end $$`.execute(db);
    await sql`create trigger tickets_tally after insert or delete or update of ${list(COUNTED)} on tickets
      for each row execute function tickets_tally()`.execute(db);
  },
};
