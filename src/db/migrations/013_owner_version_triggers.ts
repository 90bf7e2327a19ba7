import { sql, type Kysely, type Migration, type RawBuilder } from 'kysely';
import type { Dialect } from '../database.js';

/* eslint-disable @typescript-eslint/no-explicit-any */

/**
 * The owner versions (migration 007) bumped by triggers on the tickets table, like the
 * tallies (012), instead of by an upsert from the code after each write: one statement fewer
 * per write, and on PostgreSQL one round trip fewer while the write holds its locks. A
 * ticket's owner is counted as changed when a ticket of theirs is added or removed, or when a
 * column their list shows changes value; the lock's `version` bump, the internal-note count
 * and the first-response time do not count, so neither does an internal note.
 */
export function ownerVersionTriggersMigration(dialect: Dialect): Migration {
  return dialect === 'sqlite' ? sqlite : postgres;
}

// What a customer's ticket list shows or filters by (ticket.repository.ts, SUMMARY_COLUMNS),
// plus the owner columns themselves.
export const SHOWN = ['tenant_id', 'created_by', 'created_by_email', 'title', 'type', 'status', 'priority', 'assigned_to', 'assigned_to_email', 'comment_count', 'updated_at', 'resolved_at'];

const bump = (row: 'old' | 'new') => sql`
  insert into ticket_owner_versions (tenant_id, created_by, version) values (${sql.raw(`${row}.tenant_id`)}, ${sql.raw(`${row}.created_by`)}, 1)
  on conflict (tenant_id, created_by) do update set version = ticket_owner_versions.version + 1`;

const sqlite: Migration = {
  async up(db: Kysely<any>) {
    await sql`create trigger tickets_owner_version_insert after insert on tickets begin ${bump('new')}; end`.execute(db);
    await sql`create trigger tickets_owner_version_delete after delete on tickets begin ${bump('old')}; end`.execute(db);
    const changed = sql.raw(SHOWN.map((c) => `old.${c} is not new.${c}`).join(' or '));
    const moved = sql.raw('old.tenant_id is not new.tenant_id or old.created_by is not new.created_by');
    await sql`create trigger tickets_owner_version_update after update of ${sql.raw(SHOWN.join(', '))} on tickets when ${changed} begin
      ${bump('new')};
      insert into ticket_owner_versions (tenant_id, created_by, version) select old.tenant_id, old.created_by, 1 where ${moved}
      on conflict (tenant_id, created_by) do update set version = ticket_owner_versions.version + 1;
    end`.execute(db);
  },
};

/** PostgreSQL's trigger function, bumping an owner's version with `bump` (014 shards it). */
export function postgresOwnerVersionFunction(bump: (row: 'old' | 'new') => RawBuilder<unknown>): RawBuilder<unknown> {
  const row = (r: 'old' | 'new') => sql.raw(`(${SHOWN.map((c) => `${r}.${c}`).join(', ')})`);
  return sql`create or replace function tickets_owner_version() returns trigger language plpgsql as $$
    begin
      if tg_op = 'INSERT' then ${bump('new')};
      elsif tg_op = 'DELETE' then ${bump('old')};
      elsif ${row('old')} is distinct from ${row('new')} then
        ${bump('new')};
        if (old.tenant_id, old.created_by) is distinct from (new.tenant_id, new.created_by) then ${bump('old')}; end if;
      end if;
      return null;
    end $$`;
}

const postgres: Migration = {
  async up(db: Kysely<any>) {
    await postgresOwnerVersionFunction(bump).execute(db);
    await sql`create trigger tickets_owner_version after insert or delete or update of ${sql.raw(SHOWN.join(', '))} on tickets
      for each row execute function tickets_owner_version()`.execute(db);
  },
};
