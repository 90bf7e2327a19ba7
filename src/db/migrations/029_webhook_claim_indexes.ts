import { sql, type Kysely, type Migration } from 'kysely';

/* eslint-disable @typescript-eslint/no-explicit-any */

/**
 * Indexes for claiming webhook deliveries, each over the few rows a claim asks about rather
 * than the whole delivery log:
 * - an endpoint's pending deliveries of one ticket, in order (is an earlier one still waiting
 *   or being sent?), where the log's index also walked every finished delivery of the ticket;
 * - the deliveries under a lease, by endpoint (how many are in flight?), where the due index
 *   walked every pending delivery.
 */
export const webhookClaimIndexesMigration: Migration = {
  async up(db: Kysely<any>) {
    await sql`create index webhook_deliveries_pending_by_ticket on webhook_deliveries (endpoint_id, ticket_id, seq) where status = 'pending'`.execute(db);
    await sql`create index webhook_deliveries_leased on webhook_deliveries (endpoint_id, locked_until) where locked_until is not null`.execute(db);
  },
};
