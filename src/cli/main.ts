import fs from 'node:fs';
import readline from 'node:readline';
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../config.js';
import { createDb } from '../db/database.js';
import { migrateToLatest } from '../db/migrator.js';
import { seedDatabase } from '../desk/seed.js';
import { exportDatabase, importDatabase, ImportError } from '../desk/transfer.js';
import { indexQueuedSearches } from '../search/search.queue.js';
import { loadOrCreateDevKeys, signDevToken } from '../http/dev-keys.js';

// Each command's usage: `helpdesk <command> --help` prints it, and so does a mistyped option.
const COMMANDS: Record<string, string> = {
  serve: `serve                 start the API server (runs migrations first)`,
  migrate: `migrate               bring the database schema up to date and exit`,
  token: `token --user ID --email EMAIL [--org ORG] [--staff] [--ttl SECONDS]
                        print a development sign-in token (development mode only)`,
  openapi: `openapi [--yaml]      print the OpenAPI 3.1 document`,
  export: `export [--out FILE]   write the whole database as newline-delimited JSON (stdout by default)`,
  import: `import [--in FILE]    load an export into an empty database of either kind (stdin by default)`,
  seed: `seed --tickets N [--tenants T] [--comments-per-ticket K] [--seed S]
                        fill the database with a realistic demo desk (one tenant holds ~20%);
                        --tickets 0 adds nothing and finishes a seed that was killed`,
};

const CONFIGURATION = 'Configuration comes from the environment; see README.md.';

const USAGE = `Usage: helpdesk <command> [options]

Commands:
${Object.values(COMMANDS)
  .map((line) => `  ${line}`)
  .join('\n')}
  help [COMMAND]        print this, or one command's usage (as does COMMAND --help)

${CONFIGURATION}`;

function commandUsage(command: string): string {
  return `Usage: helpdesk ${COMMANDS[command] ?? command}\n\n${CONFIGURATION}`;
}

/** Whether parseArgs refused the command line (an unknown option, a missing value): the user's slip, not a crash. */
function isArgumentError(error: unknown): error is Error {
  return error instanceof Error && 'code' in error && typeof error.code === 'string' && error.code.startsWith('ERR_PARSE_ARGS_');
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command !== undefined && command in COMMANDS) {
    if (rest.includes('--help') || rest.includes('-h')) {
      process.stdout.write(`${commandUsage(command)}\n`);
      return 0;
    }
    try {
      return await run(command, rest);
    } catch (error) {
      if (!isArgumentError(error)) throw error;
      console.error(`helpdesk ${command}: ${error.message}\n\n${commandUsage(command)}`);
      return 2;
    }
  }
  switch (command) {
    case 'help':
      if (rest[0] !== undefined && rest[0] in COMMANDS) {
        process.stdout.write(`${commandUsage(rest[0])}\n`);
        return 0;
      }
      process.stdout.write(`${USAGE}\n`);
      return 0;
    case '--help':
    case '-h':
      process.stdout.write(`${USAGE}\n`);
      return 0;
    case undefined:
      console.error(USAGE);
      return 2;
    default:
      console.error(`unknown command "${command}"\n\n${USAGE}`);
      return 2;
  }
}

async function run(command: string, rest: string[]): Promise<number> {
  switch (command) {
    case 'serve': {
      const { serve } = await import('../main.js');
      await serve();
      return -1; // keep running
    }
    case 'migrate': {
      const { database } = loadConfig();
      const db = createDb(database);
      try {
        const applied = await migrateToLatest(db, database.kind);
        console.error(applied.length > 0 ? `applied: ${applied.join(', ')}` : 'schema is up to date');
      } finally {
        await db.destroy();
      }
      return 0;
    }
    case 'token':
      return printToken(rest);
    case 'export':
    case 'import':
      return transfer(command, rest);
    case 'seed':
      return seed(rest);
    case 'openapi': {
      const { values } = parseArgs({ args: rest, options: { yaml: { type: 'boolean' } } });
      const config = loadConfig();
      const db = createDb({ kind: 'sqlite', path: ':memory:' });
      const { buildApp } = await import('../app.js');
      const app = await buildApp(config, db, { logStream: false });
      await app.ready();
      process.stdout.write(values.yaml ? String(app.swagger({ yaml: true })) : `${JSON.stringify(app.swagger(), null, 2)}\n`);
      await app.close();
      await db.destroy();
      return 0;
    }
    default:
      throw new Error(`no runner for the command ${command}`);
  }
}

/**
 * The lines of a stream, read only once iteration starts: a readline interface created early
 * would emit lines (and 'close') before the importer, still checking the target, listens.
 */
async function* readLines(input: NodeJS.ReadableStream): AsyncIterable<string> {
  yield* readline.createInterface({ input, crlfDelay: Infinity });
}

async function transfer(command: 'export' | 'import', args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { out: { type: 'string' }, in: { type: 'string' } } });
  const { database } = loadConfig();
  const db = createDb(database);
  try {
    await migrateToLatest(db, database.kind);
    if (command === 'export') {
      // Every tenant's tickets and internal notes: readable by the owner only, like the database.
      const out = values.out ? fs.createWriteStream(values.out, { mode: 0o600 }) : process.stdout;
      const counts = await exportDatabase(db, async (line) => {
        if (!out.write(`${line}\n`)) await once(out, 'drain');
      });
      if (out !== process.stdout) await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
      console.error(`exported ${JSON.stringify(counts)}`);
    } else {
      const input = values.in ? fs.createReadStream(values.in) : process.stdin;
      const counts = await importDatabase(db, readLines(input));
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

async function seed(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      tickets: { type: 'string' },
      tenants: { type: 'string', default: '100' },
      'comments-per-ticket': { type: 'string', default: '2' },
      seed: { type: 'string', default: '1' },
    },
  });
  const options = {
    tickets: Number(values.tickets),
    tenants: Number(values.tenants),
    commentsPerTicket: Number(values['comments-per-ticket']),
    seed: Number(values.seed),
  };
  if (!Number.isInteger(options.tickets) || options.tickets < 0 || !Number.isInteger(options.tenants) || options.tenants < 1) {
    console.error('seed needs --tickets N (N >= 0; 0 only finishes a seed that was killed) and, optionally, --tenants T (T >= 1)');
    return 2;
  }
  const { database } = loadConfig();
  const db = createDb(database);
  try {
    await migrateToLatest(db, database.kind);
    const started = Date.now();
    const counts = await seedDatabase(db, database.kind, options, (done) => {
      if (done % 50_000 === 0) console.error(`  ${done} tickets…`);
    });
    const seconds = (Date.now() - started) / 1000;
    console.error(`seeded ${JSON.stringify(counts)} in ${seconds.toFixed(1)} s (${Math.round(counts.tickets / seconds)} tickets/s)`);
    return 0;
  } finally {
    await db.destroy();
  }
}

async function printToken(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      user: { type: 'string' },
      email: { type: 'string' },
      org: { type: 'string' },
      staff: { type: 'boolean' },
      ttl: { type: 'string' },
    },
  });
  const config = loadConfig();
  if (config.auth.mode !== 'development') {
    console.error('helpdesk token mints development tokens only; with Clerk configured, sign in through Clerk');
    return 2;
  }
  if (!values.user || !values.email) {
    console.error('token needs --user ID and --email EMAIL');
    return 2;
  }
  const ttlSeconds = values.ttl === undefined ? undefined : Number(values.ttl);
  if (ttlSeconds !== undefined && (!Number.isInteger(ttlSeconds) || ttlSeconds <= 0)) {
    console.error('--ttl must be a positive number of seconds');
    return 2;
  }
  const keys = await loadOrCreateDevKeys(config.dataDir);
  const token = await signDevToken(keys, {
    userId: values.user,
    email: values.email,
    orgId: values.org,
    isStaff: values.staff,
    ttlSeconds,
    issuer: config.auth.issuer,
    authorizedParty: config.auth.authorizedParties[0],
  });
  process.stdout.write(`${token}\n`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error instanceof ConfigError ? error.message : error);
    process.exitCode = 1;
  },
);
