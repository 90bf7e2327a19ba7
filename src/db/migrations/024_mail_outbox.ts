import { sql, type Kysely, type Migration } from 'kysely';

/* eslint-disable @typescript-eslint/no-explicit-any */

/**
 * The mail outbox: one row per message and recipient, written from the events feed in the same
 * transaction that moves the mail consumer's cursor, then sent off the request path. A sender
 * claims due rows with a lease (`locked_until`), so several instances never send one row at the
 * same time and a killed sender's rows come due again when its lease ends. `(event_id,
 * recipient)` is unique: an event notifies each address once. `message_id` is the Message-ID
 * sent, looked up when a reply names it in In-Reply-To or References.
 */
export const mailOutboxMigration: Migration = {
  async up(db: Kysely<any>) {
    await sql`create table mail_outbox (
      id text primary key,
      event_id text not null,
      ticket_id text not null references tickets (id) on delete cascade,
      tenant_id text not null,
      recipient text not null,
      kind text not null,
      message_id text not null unique,
      thread_id text not null,
      reply_to text not null,
      subject text not null,
      body_text text not null,
      body_html text not null,
      status text not null,
      attempts integer not null default 0,
      next_attempt_at text not null,
      locked_until text,
      last_error text,
      created_at text not null,
      sent_at text,
      unique (event_id, recipient))`.execute(db);
    await sql`create index mail_outbox_due on mail_outbox (next_attempt_at) where status = 'pending'`.execute(db);
    await sql`create index mail_outbox_by_ticket on mail_outbox (ticket_id)`.execute(db);
    // Old rows are pruned oldest first.
    await sql`create index mail_outbox_by_time on mail_outbox (created_at)`.execute(db);
  },
};
