import { sql, type Kysely, type Migration } from 'kysely';

/* eslint-disable @typescript-eslint/no-explicit-any */

/**
 * How each comment came in: `web` (the dashboard or the API) or `email` (a reply taken in by
 * mail). Recorded on the comment itself, so it outlives the pruned `mail_inbound` records that
 * were the only trace before; the comments those records name are marked `email` here.
 */
export const commentChannelMigration: Migration = {
  async up(db: Kysely<any>) {
    await sql`alter table ticket_comments add column channel text not null default 'web'`.execute(db);
    await sql`update ticket_comments set channel = 'email'
      where id in (select comment_id from mail_inbound where comment_id is not null)`.execute(db);
  },
};
