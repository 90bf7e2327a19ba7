import type { AddressInfo } from 'node:net';
import { buildApp } from './app.js';
import { describeAuth, loadConfig, type Config } from './config.js';
import { createDb } from './db/database.js';
import { migrateToLatest } from './db/migrator.js';
import { mergeSearchIndexWhenIdle } from './search/search.maintenance.js';
import { startHousekeeping } from './desk/housekeeping.js';
import { createBlobStore } from './attachments/attachment.db-store.js';
import { seedInterrupted } from './desk/seed.js';
import { searchQueueIndexer } from './search/search.queue.js';
import { fanOutNewEvents } from './webhooks/webhook.fanout.js';
import { startWebhookWorker } from './webhooks/webhook.worker.js';
import { startMail } from './mail/mail.worker.js';
import { systemBacklog } from './http/listen-backlog.js';

const SHUTDOWN_GRACE_MS = 10_000;

/** Starts the server: config, database, migrations, app, listen; stops cleanly on SIGTERM/SIGINT. */
export async function serve(config: Config = loadConfig()): Promise<void> {
  const db = createDb(config.database, { groupCommit: true, beforeCommit: searchQueueIndexer });
  try {
    await migrateToLatest(db, config.database.kind);
  } catch (error) {
    // Close the pool so the caller's message is the last word and the process can exit.
    await db.destroy().catch(() => {});
    throw error;
  }
  const app = await buildApp(config, db);
  const stopMerging = mergeSearchIndexWhenIdle(db, config.database.kind, app.server, {
    onError: (error) => app.log.error({ err: error }, 'merging the search index failed; trying again in a minute'),
  });
  const stopHousekeeping = startHousekeeping(db, {
    eventRetentionDays: config.eventRetentionDays,
    attachments: createBlobStore(config, db),
    onError: (error) => app.log.error({ err: error }, 'pruning old events, idempotency keys and attachments failed; trying again later'),
  });

  // Webhooks: deliveries made from new events and sent off the request path, claimed in the database.
  const webhooks = startWebhookWorker(db, config.webhooks, {
    fanOut: () => fanOutNewEvents(db, config.webhooks.publicUrl),
    retentionDays: config.eventRetentionDays,
    onError: (error) => app.log.error({ err: error }, 'a webhook round failed; trying again shortly'),
    onDisabled: (endpointId, reason) => app.log.warn({ endpointId, reason }, 'webhook endpoint disabled'),
  });
  const mail = await startMail(config, db, app.log);

  if (await seedInterrupted(db, config.database.kind)) {
    app.log.warn(
      'A SEED IS LOADING THIS DATABASE, OR ONE WAS KILLED WHILE IT DID: until a seed finishes, new tickets are not counted in totals, ' +
        "customers' cached lists may not see changes, and changes are not found by search. If no seed is running, " +
        'run `npm run helpdesk -- seed --tickets 0`: it adds nothing and puts back what the killed one took away.',
    );
  }

  const { level, message } = describeAuth(config);
  app.log[level](message);

  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down: finishing in-flight requests');
    const timer = setTimeout(() => {
      app.log.error('shutdown grace period over; exiting');
      process.exit(1);
    }, SHUTDOWN_GRACE_MS);
    timer.unref();
    stopMerging();
    stopHousekeeping();
    webhooks.stop();
    app
      .close()
      .then(() => mail.stop())
      .then(() => db.destroy())
      .then(() => process.exit(0))
      .catch((error: unknown) => {
        app.log.error({ err: error }, 'error during shutdown');
        process.exit(1);
      });
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));

  // A reconnect storm (a deploy, a failover) opens many connections at once; past the queue
  // the kernel holds for a listener, new ones wait for a SYN retransmission (1 s, then 3 s).
  await app.listen({ host: config.host, port: config.port, backlog: config.listenBacklog ?? systemBacklog() });
  app.log.info(firstSteps(config, app.server.address()));
}

/** The URLs a newcomer wants once the server listens: the dashboard, the API docs, and how to get a token. */
export function firstSteps(config: Config, address: string | AddressInfo | null): string {
  const port = address && typeof address === 'object' ? address.port : config.port;
  // A wildcard address is not something to type into a browser; this machine answers on localhost.
  const host = ['0.0.0.0', '::', ''].includes(config.host) ? 'localhost' : config.host.includes(':') ? `[${config.host}]` : config.host;
  const base = `http://${host}:${port}`;
  const lines = [`dashboard: ${base}/`, `API docs: ${base}/api/v1/docs`];
  if (config.auth.mode === 'development') {
    lines.push('a token for curl: npm run helpdesk -- token --user user_alice --email alice@acme.test --org org_acme (add --staff for an agent)');
  }
  return `helpdesk is ready. ${lines.join(' | ')}`;
}
