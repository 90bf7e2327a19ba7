import { Migrator, type Migration, type MigrationProvider } from 'kysely';
import { committingAlone, type Db, type Dialect } from './database.js';
import { bulkLoadInterrupted } from './bulk-load.js';
import * as m001 from './migrations/001_initial.js';
import { searchMigration } from './migrations/002_search.js';
import * as m003 from './migrations/003_idempotency.js';
import * as m004 from './migrations/004_tallies.js';
import * as m005 from './migrations/005_queue_sorts.js';
import { searchDocumentsMigration } from './migrations/006_search_documents.js';
import * as m007 from './migrations/007_owner_versions.js';
import { postgresSearchDocumentsMigration } from './migrations/008_search_documents_postgres.js';
import * as m009 from './migrations/009_queue_views.js';
import { searchQueueMigration } from './migrations/010_search_queue.js';
import { searchUsermergeMigration } from './migrations/011_search_usermerge.js';
import { tallyTriggersMigration } from './migrations/012_tally_triggers.js';
import { ownerVersionTriggersMigration } from './migrations/013_owner_version_triggers.js';
import { shardedCountersPostgresMigration } from './migrations/014_sharded_counters_postgres.js';
import { searchFacetsMigration } from './migrations/015_search_facets.js';
import { postgresSearchFacetsMigration } from './migrations/016_search_facets_postgres.js';
import { ticketEventsMigration } from './migrations/017_ticket_events.js';
import { ticketLimitsMigration } from './migrations/018_ticket_limits.js';
import { idempotencyTenantMigration } from './migrations/019_idempotency_tenant.js';
import { ticketPresenceMigration } from './migrations/022_ticket_presence.js';
import { liveNotifyMigration } from './migrations/023_live_notify.js';
import { webhooksMigration } from './migrations/020_webhooks.js';
import { mailOutboxMigration } from './migrations/024_mail_outbox.js';
import { mailInboundMigration } from './migrations/025_mail_inbound.js';
import { attachmentsMigration } from './migrations/021_attachments.js';
import { attentionMigration } from './migrations/026_attention.js';
import { eventConsumersMigration } from './migrations/027_event_consumers.js';
import { commentChannelMigration } from './migrations/028_comment_channel.js';
import { webhookClaimIndexesMigration } from './migrations/029_webhook_claim_indexes.js';
import { liveNotifyAfterCommitMigration } from './migrations/030_live_notify_after_commit.js';
import { webhookDueIndexMigration } from './migrations/031_webhook_due_index.js';

// Listed in code rather than read from a folder, so compiled and tsx runs see the same set.
function migrationsFor(dialect: Dialect): Record<string, Migration> {
  return {
    '001_initial': m001,
    '002_search': searchMigration(dialect),
    '003_idempotency': m003,
    '004_tallies': m004,
    '005_queue_sorts': m005,
    '006_search_documents': searchDocumentsMigration(dialect),
    '007_owner_versions': m007,
    '008_search_documents_postgres': postgresSearchDocumentsMigration(dialect),
    '009_queue_views': m009,
    '010_search_queue': searchQueueMigration(dialect),
    '011_search_usermerge': searchUsermergeMigration(dialect),
    '012_tally_triggers': tallyTriggersMigration(dialect),
    '013_owner_version_triggers': ownerVersionTriggersMigration(dialect),
    '014_sharded_counters_postgres': shardedCountersPostgresMigration(dialect),
    '015_search_facets': searchFacetsMigration(dialect),
    '016_search_facets_postgres': postgresSearchFacetsMigration(dialect),
    '017_ticket_events': ticketEventsMigration(dialect),
    '018_ticket_limits': ticketLimitsMigration(dialect),
    '019_idempotency_tenant': idempotencyTenantMigration(dialect),
    '022_ticket_presence': ticketPresenceMigration,
    '023_live_notify': liveNotifyMigration(dialect),
    '020_webhooks': webhooksMigration(dialect),
    '024_mail_outbox': mailOutboxMigration,
    '025_mail_inbound': mailInboundMigration,
    '021_attachments': attachmentsMigration(dialect),
    '026_attention': attentionMigration(dialect),
    '027_event_consumers': eventConsumersMigration,
    '028_comment_channel': commentChannelMigration,
    '029_webhook_claim_indexes': webhookClaimIndexesMigration,
    '030_live_notify_after_commit': liveNotifyAfterCommitMigration(dialect),
    '031_webhook_due_index': webhookDueIndexMigration,
  };
}

/** Every migration's name, in the order they run. */
export function migrationNames(dialect: Dialect): string[] {
  return Object.keys(migrationsFor(dialect)).sort();
}

/**
 * Brings the schema up to date (or up to `target`); throws with the failing migration's name.
 * Refuses while a seed is loading or was killed with migrations waiting: the seed has the
 * loaded tables' indexes and triggers off, which a migration could fail on, or see undone
 * when the seed puts back what it saved.
 */
export async function migrateToLatest(db: Db, dialect: Dialect, target?: string): Promise<string[]> {
  const provider: MigrationProvider = { getMigrations: async () => migrationsFor(dialect) };
  // The migrations are independent of one another: one added with a lower number than those a
  // database already ran (work that landed later than its number) still runs.
  const migrator = new Migrator({ db, provider, allowUnorderedMigrations: true });
  // The seed's mark is one cheap lookup; the migrations are listed only when it is there.
  const waiting = (await bulkLoadInterrupted(db, dialect)) ? (await migrator.getMigrations()).filter((migration) => migration.executedAt === undefined).length : 0;
  if (waiting > 0) {
    throw new Error(
      `${waiting} migration(s) wait, but a seed is loading this database or one was killed while it did. ` +
        'Let the seed finish, or finish the killed one with `helpdesk seed --tickets 0` run by the version that started it; then migrate.',
    );
  }
  // On the server's SQLite connection each statement commits alone, as the migrations expect.
  const { error, results } = await committingAlone(db, () => (target === undefined ? migrator.migrateToLatest() : migrator.migrateTo(target)));
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`migration ${failed} failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
