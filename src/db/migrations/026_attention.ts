import { sql, type Kysely, type Migration } from 'kysely';
import type { Dialect } from '../database.js';

/* eslint-disable @typescript-eslint/no-explicit-any */

/**
 * What needs attention next, kept by every write (tickets/ticket.changes.ts) rather than
 * computed by scanning:
 * - `number`: a short number per desk for people to quote (#1042), handed out in blocks from
 *   the `counters` table;
 * - `waiting_on` (support | customer; null once resolved or closed) and `waiting_since`, when
 *   that side became the one waiting;
 * - `last_message_from` (customer | staff), `last_customer_message_at`, `last_staff_reply_at`
 *   and a preview of the last public message;
 * - `ticket_reads`: when each agent last opened each ticket (staff-side unread).
 * Existing tickets are filled from their comments: who spoke last, and since when the side
 * that must answer has been waiting (a resolved ticket reopened by staff counts from its last
 * message, not from the reopening, which left no trace).
 */
export function attentionMigration(dialect: Dialect): Migration {
  return { up };

  async function up(db: Kysely<any>): Promise<void> {
    if (dialect === 'postgres') await sql`set local statement_timeout = 0`.execute(db);
    const integer = sql.raw('integer');
    await sql`alter table tickets add column number ${integer}`.execute(db);
    for (const column of ['waiting_on', 'waiting_since', 'last_message_from', 'last_customer_message_at', 'last_staff_reply_at', 'last_message_preview']) {
      await sql`alter table tickets add column ${sql.id(column)} text`.execute(db);
    }
    await sql`create table counters (name text primary key, next ${integer} not null)`.execute(db);
    await sql`create table ticket_reads (
      ticket_id text not null references tickets (id) on delete cascade,
      user_id text not null,
      read_at text not null,
      primary key (ticket_id, user_id))`.execute(db);

    // Numbers in the order the tickets were created; who spoke last, publicly (the ticket itself
    // is the customer's first message); and the side that must answer, since the first
    // message it has not answered. One pass over the tickets.
    const last = (column: string) =>
      sql.raw(`(select c.${column} from ticket_comments c where c.ticket_id = t.id and c.is_internal = 0 order by c.created_at desc, c.id desc limit 1)`);
    const latest = (author: string) =>
      sql.raw(`(select max(c.created_at) from ticket_comments c where c.ticket_id = t.id and c.is_internal = 0 and c.author_type = '${author}')`);
    await sql`with facts as (
        select t.id, t.status, t.created_at, t.description, row_number() over (order by t.created_at, t.id) as number,
          case when ${last('author_type')} = 'staff' then 'staff' else 'customer' end as last_from,
          ${last('content')} as last_content,
          coalesce(${latest('user')}, t.created_at) as last_customer,
          ${latest('staff')} as last_staff
        from tickets t)
      update tickets set
        number = f.number,
        last_message_from = f.last_from,
        last_customer_message_at = f.last_customer,
        last_staff_reply_at = f.last_staff,
        last_message_preview = substr(coalesce(f.last_content, f.description), 1, 160),
        waiting_on = case when f.status in ('resolved', 'closed') then null when f.last_from = 'customer' then 'support' else 'customer' end,
        waiting_since = case
          when f.status in ('resolved', 'closed') then null
          when f.last_from = 'customer' then coalesce((select min(c.created_at) from ticket_comments c
            where c.ticket_id = f.id and c.is_internal = 0 and c.author_type = 'user' and c.created_at > f.last_staff), f.created_at)
          else (select min(c.created_at) from ticket_comments c
            where c.ticket_id = f.id and c.is_internal = 0 and c.author_type = 'staff' and c.created_at >= f.last_customer)
        end
      from facts f where f.id = tickets.id`.execute(db);
    await sql`insert into counters (name, next) select 'ticket_number', coalesce(max(number), 0) + 1 from tickets`.execute(db);
    await sql`create unique index tickets_by_number on tickets (number)`.execute(db);

    // The queue's attention views: unsolved tickets by how long they have waited.
    await sql`create index tickets_waiting on tickets (waiting_on, waiting_since, id) where waiting_since is not null`.execute(db);
    await sql`create index tickets_waiting_by_assignee on tickets (assigned_to, waiting_since, id) where waiting_since is not null`.execute(db);
    await sql`create index tickets_waiting_unassigned on tickets (waiting_since, id) where waiting_since is not null and assigned_to is null`.execute(db);
    // A customer's tickets by their latest activity.
    await sql`create index tickets_by_creator_updated on tickets (tenant_id, created_by, updated_at, id)`.execute(db);
  }
}
