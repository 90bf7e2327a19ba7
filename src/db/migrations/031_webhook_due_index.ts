import { sql, type Kysely, type Migration } from 'kysely';

/* eslint-disable @typescript-eslint/no-explicit-any */

/**
 * Each endpoint's pending deliveries in the order a claim takes them (next attempt, then
 * sequence): a claim reads the earliest few of each endpoint and stops. Before, its one query
 * over the whole backlog took 8-19 ms with 2,300-4,800 pending, longer as the backlog grew, which
 * made claims slower, which grew the backlog (on the webhooks bench deliveries fell 6 to 22 s
 * behind).
 */
export const webhookDueIndexMigration: Migration = {
  async up(db: Kysely<any>) {
    await sql`create index webhook_deliveries_pending_due on webhook_deliveries (endpoint_id, next_attempt_at, seq) where status = 'pending'`.execute(db);
  },
};
