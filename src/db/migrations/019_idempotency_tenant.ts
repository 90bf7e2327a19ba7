import { sql, type Kysely, type Migration } from 'kysely';
import type { Dialect } from '../database.js';

/* eslint-disable @typescript-eslint/no-explicit-any */

/**
 * Idempotency keys belong to a user in a tenant, not to a user: the same Clerk user retrying a
 * key in another organization must not get the first organization's answer. Stored keys (24 h
 * of retries) are kept under the tenant of the ticket their answer shows.
 */
export function idempotencyTenantMigration(dialect: Dialect): Migration {
  return dialect === 'postgres' ? postgres : sqlite;
}

const sqlite: Migration = {
  async up(db: Kysely<any>) {
    await sql`create table idempotency_keys_by_tenant (
      tenant_id text not null, user_id text not null, key text not null, request_hash text not null,
      status_code integer not null, response_body text not null, response_headers text not null, created_at text not null,
      constraint idempotency_keys_pk primary key (tenant_id, user_id, key))`.execute(db);
    await sql`insert into idempotency_keys_by_tenant
      select coalesce(json_extract(k.response_body, '$.tenant_id'),
          (select t.tenant_id from tickets t where t.id = json_extract(k.response_body, '$.ticket_id')), ''),
        k.user_id, k.key, k.request_hash, k.status_code, k.response_body, k.response_headers, k.created_at
      from idempotency_keys k where json_valid(k.response_body)`.execute(db);
    await sql`drop table idempotency_keys`.execute(db);
    await sql`alter table idempotency_keys_by_tenant rename to idempotency_keys`.execute(db);
    await sql`create index idempotency_keys_by_age on idempotency_keys (created_at)`.execute(db);
  },
};

const postgres: Migration = {
  async up(db: Kysely<any>) {
    await sql`alter table idempotency_keys add column tenant_id text not null default ''`.execute(db);
    // jsonb refuses \u0000 and unpaired surrogate escapes, which an answer stored before they
    // were refused may hold: such a key (24 h of retries at most) is kept under no tenant.
    const body = sql`(case when k.response_body ~ ${'\\\\u(0000|[dD][89a-fA-F])'} then null else k.response_body::jsonb end)`;
    await sql`update idempotency_keys k set tenant_id = coalesce(${body} ->> 'tenant_id',
      (select t.tenant_id from tickets t where t.id = ${body} ->> 'ticket_id'), '')`.execute(db);
    await sql`alter table idempotency_keys drop constraint idempotency_keys_pk,
      add constraint idempotency_keys_pk primary key (tenant_id, user_id, key)`.execute(db);
    await sql`alter table idempotency_keys alter column tenant_id drop default`.execute(db);
  },
};
