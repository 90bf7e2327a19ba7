import { sql, type Kysely, type Migration } from 'kysely';

/* eslint-disable @typescript-eslint/no-explicit-any */

/**
 * Every message received by mail, whatever became of it: what it was matched to (a comment, a
 * note, a new ticket) or why it was refused or ignored, and its raw bytes (base64, capped) for
 * audit. `comment_id` is how a comment is known to have come by mail; `(sender, received_at)`
 * serves the per-sender rate limit; `message_id` the check for a message delivered twice.
 * Tickets gain an index by their creator's address: who a message's sender is. And
 * `mail_preferences`: what each customer wants to be mailed about.
 */
export const mailInboundMigration: Migration = {
  async up(db: Kysely<any>) {
    await sql`create table mail_inbound (
      id text primary key,
      received_at text not null,
      via text not null,
      message_id text,
      sender text,
      subject text,
      outcome text not null,
      reason text,
      ticket_id text,
      comment_id text,
      raw text not null,
      raw_bytes integer not null)`.execute(db);
    await sql`create index mail_inbound_by_sender on mail_inbound (sender, received_at)`.execute(db);
    await sql`create index mail_inbound_by_message on mail_inbound (message_id)`.execute(db);
    await sql`create index mail_inbound_by_comment on mail_inbound (comment_id)`.execute(db);
    await sql`create index mail_inbound_by_time on mail_inbound (received_at)`.execute(db);
    // What a customer wants to hear by mail, per tenant: all updates, only replies, or nothing.
    await sql`create table mail_preferences (
      tenant_id text not null,
      user_id text not null,
      level text not null,
      updated_at text not null,
      primary key (tenant_id, user_id))`.execute(db);
    // A message from an address that matches no ticket opens one for the customer behind it.
    await sql`create index tickets_by_creator_email on tickets (lower(created_by_email), created_at)`.execute(db);
  },
};
