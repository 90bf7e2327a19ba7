import fs from 'node:fs';
import { once } from 'node:events';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { createBlobStore } from '../attachments/attachment.db-store.js';
import { ConfigError, loadConfig, type Config, type DatabaseConfig } from '../config.js';
import { describeDatabaseError } from '../db/connection-errors.js';
import { createDb } from '../db/database.js';
import { migrateToLatest } from '../db/migrator.js';
import { createPostgresDatabaseOf } from '../db/postgres.js';
import { seedDatabase } from '../desk/seed.js';
import { exportDatabase, importDatabase, ImportError, linesOf } from '../desk/transfer.js';
import { indexQueuedSearches } from '../search/search.queue.js';
import { loadOrCreateDevKeys, signDevToken } from '../http/dev-keys.js';

// The package's own version, from src/cli or dist/cli alike.
const VERSION = (JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** The database the running command opened, so an error from it can be told in words (describeDatabaseError). */
let openedDatabase: DatabaseConfig | undefined;
function databaseConfig(): DatabaseConfig {
  return openedConfig().database;
}
/** The whole configuration, its database remembered as the one opened. */
function openedConfig(): Config {
  const config = loadConfig();
  openedDatabase = config.database;
  return config;
}

/** Option values that must be whole numbers of at least `min`: a bad one is a usage error (exit 2), not a stack trace. */
function integer(min: number, what: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min) throw new InvalidArgumentError(`must be ${what}.`);
    return n;
  };
}

/** The command line: every command's --help prints its usage and touches nothing (commander answers before any action). */
function program(): Command {
  const cli = new Command('helpdesk')
    .description('A support-ticket service: the API, the web dashboard, and the tools around its database.')
    .version(VERSION, '-v, --version', 'print the version')
    .helpOption('-h, --help', 'print this help')
    .showHelpAfterError()
    .exitOverride()
    .addHelpText('after', '\nConfiguration comes from the environment (DATABASE_URL, PORT, CLERK_*, ...); see README.md.');

  cli
    .command('serve')
    .description('start the API server and the dashboard (runs migrations first)')
    .action(async () => {
      const { serve } = await import('../main.js');
      const config = loadConfig();
      openedDatabase = config.database;
      await serve(config); // and keep running
    });

  cli
    .command('migrate')
    .description('bring the database schema up to date and exit')
    .option('--create-database', 'PostgreSQL: create the database DATABASE_URL names first, if it does not exist')
    .action(async (options: { createDatabase?: boolean }) => {
      const database = databaseConfig();
      if (options.createDatabase && database.kind === 'postgres') {
        const created = await createPostgresDatabaseOf(database.url);
        console.error(created ? 'created the database' : 'the database already exists');
      }
      const db = createDb(database);
      try {
        const applied = await migrateToLatest(db, database.kind);
        console.error(applied.length > 0 ? `applied: ${applied.join(', ')}` : 'schema is up to date');
      } finally {
        await db.destroy();
      }
    });

  cli
    .command('token')
    .description('print a development sign-in token (development mode only)')
    .requiredOption('--user <id>', 'the user id (the token\'s sub)')
    .requiredOption('--email <email>', 'the user\'s e-mail')
    .option('--org <id>', 'the organisation (tenant) id')
    .option('--staff', 'a support agent: metadata.role is the first of HELPDESK_STAFF_ROLES')
    .option('--role <role>', 'metadata.role, e.g. one of HELPDESK_STAFF_ROLES')
    .option('--ttl <seconds>', 'lifetime in seconds (default 86400)', integer(1, 'a positive whole number of seconds'))
    .action(async (options: { user: string; email: string; org?: string; staff?: boolean; role?: string; ttl?: number }) => {
      process.exitCode = await printToken(options);
    });

  cli
    .command('openapi')
    .description('print the OpenAPI 3.1 document')
    .option('--yaml', 'as YAML instead of JSON')
    .action(async (options: { yaml?: boolean }) => {
      const config = loadConfig();
      const db = createDb({ kind: 'sqlite', path: ':memory:' });
      const { buildApp } = await import('../app.js');
      const app = await buildApp(config, db, { logStream: false });
      await app.ready();
      const text = options.yaml ? String(app.swagger({ yaml: true })) : `${JSON.stringify(app.swagger(), null, 2)}\n`;
      await app.close();
      await db.destroy();
      await write(process.stdout, text);
    });

  cli
    .command('export')
    .description('write the whole database, attachments’ files included, as newline-delimited JSON (standard output by default)')
    .option('--out <file>', 'write to this file instead (created readable by its owner only)')
    .action(async (options: { out?: string }) => {
      process.exitCode = await transfer('export', options);
    });

  cli
    .command('import')
    .description('load an export into an empty database of either kind (standard input by default)')
    .option('--in <file>', 'read this file instead')
    .action(async (options: { in?: string }) => {
      process.exitCode = await transfer('import', options);
    });

  cli
    .command('seed')
    .description('fill the database with a realistic demo desk (one tenant holds ~20%)')
    .addOption(
      new Option('--tickets <n>', 'how many tickets; 0 adds nothing and finishes a seed that was killed')
        .argParser(integer(0, 'a whole number >= 0'))
        .makeOptionMandatory(),
    )
    .option('--tenants <t>', 'how many tenants', integer(1, 'a whole number >= 1'), 100)
    .option('--comments-per-ticket <k>', 'comments on each ticket', integer(0, 'a whole number >= 0'), 2)
    .option('--seed <s>', 'the random seed (the same seed makes the same desk)', integer(0, 'a whole number >= 0'), 1)
    .action(async (options: { tickets: number; tenants: number; commentsPerTicket: number; seed: number }) => {
      await seed(options);
    });

  return cli;
}

/** Writes and waits, so a closed pipe surfaces as an error this process handles (see main). */
async function write(out: NodeJS.WritableStream, text: string): Promise<void> {
  if (!out.write(text)) await once(out, 'drain');
}

async function transfer(command: 'export' | 'import', values: { out?: string; in?: string }): Promise<number> {
  const config = openedConfig();
  const { database } = config;
  const db = createDb(database);
  // Attachments' files: read from, or written to, the store HELPDESK_ATTACHMENT_STORE names.
  const store = createBlobStore(config, db);
  try {
    await migrateToLatest(db, database.kind);
    if (command === 'export') {
      // Every tenant's tickets and internal notes: readable by the owner only, like the database.
      const out = values.out ? fs.createWriteStream(values.out, { mode: 0o600 }) : process.stdout;
      const counts = await exportDatabase(db, store, async (line) => {
        if (!out.write(`${line}\n`)) await once(out, 'drain');
      });
      if (out !== process.stdout) await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
      console.error(`exported ${JSON.stringify(counts)}`);
    } else {
      const input = values.in ? fs.createReadStream(values.in) : process.stdin;
      const counts = await importDatabase(db, store, linesOf(input));
      // Index the imported tickets now rather than in the first search.
      await db.transaction().execute((trx) => indexQueuedSearches(trx, database.kind));
      console.error(`imported ${JSON.stringify(counts)}`);
    }
    return 0;
  } catch (error) {
    if (!(error instanceof ImportError)) throw error;
    console.error(`import failed, nothing was written: ${error.message}`);
    return 1;
  } finally {
    await db.destroy();
  }
}

async function seed(options: { tickets: number; tenants: number; commentsPerTicket: number; seed: number }): Promise<void> {
  const database = databaseConfig();
  const db = createDb(database);
  try {
    await migrateToLatest(db, database.kind);
    const started = Date.now();
    const counts = await seedDatabase(db, database.kind, options, (done) => {
      if (done % 50_000 === 0) console.error(`  ${done} tickets…`);
    }, (what) => console.error(`  ${what}`));
    const seconds = (Date.now() - started) / 1000;
    console.error(`seeded ${JSON.stringify(counts)} in ${seconds.toFixed(1)} s (${Math.round(counts.tickets / seconds)} tickets/s)`);
  } finally {
    await db.destroy();
  }
}

async function printToken(values: { user: string; email: string; org?: string; staff?: boolean; role?: string; ttl?: number }): Promise<number> {
  const config = loadConfig();
  if (config.auth.mode !== 'development') {
    console.error('helpdesk token mints development tokens only; with Clerk configured, sign in through Clerk');
    return 2;
  }
  if (values.staff && !values.role && config.auth.staffRoles.length === 0) {
    console.error('--staff needs a staff role, and HELPDESK_STAFF_ROLES is empty: set it, or give --role ROLE');
    return 2;
  }
  const keys = await loadOrCreateDevKeys(config.dataDir);
  const token = await signDevToken(keys, {
    userId: values.user,
    email: values.email,
    orgId: values.org,
    // --staff means "an agent here": the first role this server counts as staff.
    role: values.role ?? (values.staff ? config.auth.staffRoles[0] : undefined),
    ttlSeconds: values.ttl,
    issuer: config.auth.issuer,
    authorizedParty: config.auth.authorizedParties[0],
  });
  process.stdout.write(`${token}\n`);
  return 0;
}

/** An error that is the user's to fix, told in words: a bad setting or a database that cannot be used. */
function explain(error: unknown): string | undefined {
  if (error instanceof ConfigError) return error.message;
  return openedDatabase ? describeDatabaseError(error, openedDatabase) : undefined;
}

// A reader that stops early (`helpdesk openapi --yaml | head -1`) closes the pipe: that is the end of the output, not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
}

program()
  .parseAsync(process.argv.slice(2), { from: 'user' })
  .catch((error: unknown) => {
    if (error instanceof CommanderError) {
      // Help and --version exit 0; any other command-line mistake (already printed, with the usage) exits 2.
      process.exitCode = error.exitCode === 0 ? 0 : 2;
      return;
    }
    const message = explain(error);
    console.error(message ?? error);
    process.exitCode = 1;
  });
