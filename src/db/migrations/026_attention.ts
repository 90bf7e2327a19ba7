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
  return {
    async up(db: Kysely<any>) {
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

      // Numbers in the order the tickets were created.
      await sql`update tickets set number = n.number from (select id, row_number() over (order by created_at, id) as number from tickets) n
        where n.id = tickets.id`.execute(db);
      await sql`insert into counters (name, next) select 'ticket_number', coalesce(max(number), 0) + 1 from tickets`.execute(db);
      await sql`create unique index tickets_by_number on tickets (number)`.execute(db);

      // Who spoke last, publicly; the ticket itself is the customer's first message.
      const lastPublic = (column: string) =>
        `(select c.${column} from ticket_comments c where c.ticket_id = tickets.id and c.is_internal = 0 order by c.created_at desc, c.id desc limit 1)`;
      const preview = sql.raw(`substr(coalesce(${lastPublic('content')}, tickets.description), 1, 160)`);
      await sql`update tickets set
        last_message_from = case when ${sql.raw(lastPublic('author_type'))} = 'staff' then 'staff' else 'customer' end,
        last_customer_message_at = coalesce((select max(c.created_at) from ticket_comments c
          where c.ticket_id = tickets.id and c.is_internal = 0 and c.author_type = 'user'), tickets.created_at),
        last_staff_reply_at = (select max(c.created_at) from ticket_comments c
          where c.ticket_id = tickets.id and c.is_internal = 0 and c.author_type = 'staff'),
        last_message_preview = ${preview}`.execute(db);
      // The side that must answer, and since the first message it has not answered.
      await sql`update tickets set
        waiting_on = case when status in ('resolved', 'closed') then null when last_message_from = 'customer' then 'support' else 'customer' end,
        waiting_since = case
          when status in ('resolved', 'closed') then null
          when last_message_from = 'customer' then coalesce((select min(c.created_at) from ticket_comments c
            where c.ticket_id = tickets.id and c.is_internal = 0 and c.author_type = 'user' and c.created_at > tickets.last_staff_reply_at),
            tickets.created_at)
          else (select min(c.created_at) from ticket_comments c
            where c.ticket_id = tickets.id and c.is_internal = 0 and c.author_type = 'staff'
              and c.created_at >= tickets.last_customer_message_at)
        end`.execute(db);

      // The queue's attention views: unsolved tickets by how long they have waited.
      await sql`create index tickets_waiting on tickets (waiting_on, waiting_since, id) where waiting_since is not null`.execute(db);
      await sql`create index tickets_waiting_by_assignee on tickets (assigned_to, waiting_since, id) where waiting_since is not null`.execute(db);
      await sql`create index tickets_waiting_unassigned on tickets (waiting_since, id) where waiting_since is not null and assigned_to is null`.execute(db);
      // A customer's tickets by their latest activity.
      await sql`create index tickets_by_creator_updated on tickets (tenant_id, created_by, updated_at, id)`.execute(db);
    },
  };
}
