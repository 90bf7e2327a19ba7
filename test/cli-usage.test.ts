// The command line as a new operator meets it: --help that touches nothing, usage errors without stack
// traces (exit 2), a closed pipe that is not an error, and database mistakes told in words.
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createPostgresDatabase, dialects, TEST_DATABASE_URL } from './dialects.js';
import { cliEnv, ROOT, runCli } from './processes.js';

const COMMANDS = ['serve', 'migrate', 'token', 'openapi', 'export', 'import', 'seed'];
const STACK_FRAME = /^\s+at /m;

type Failed = { code: number; stdout: string; stderr: string };
const outcome = (args: string[], env: NodeJS.ProcessEnv): Promise<Failed> =>
  runCli(args, env).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: Failed) => error,
  );

describe.each(dialects())('%s', (dialect) => {
  let dir: string;
  let databaseUrl: string | undefined;
  let dropDatabase: (() => Promise<void>) | undefined;
  const env = (extra: Record<string, string | undefined> = {}) => cliEnv({ HELPDESK_DATA_DIR: dir, DATABASE_URL: databaseUrl, ...extra });

  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'helpdesk-usage-'));
    databaseUrl = undefined;
    if (dialect === 'postgres') ({ url: databaseUrl, drop: dropDatabase } = await createPostgresDatabase());
  });
  afterEach(async () => {
    await dropDatabase?.();
    dropDatabase = undefined;
    await fs.rm(dir, { recursive: true, force: true });
  });

  async function tables(): Promise<number> {
    if (dialect === 'sqlite') return (await fs.readdir(dir)).length;
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      return Number((await client.query("select count(*) as n from pg_tables where schemaname = 'public'")).rows[0].n);
    } finally {
      await client.end();
    }
  }

  it('prints usage for --help on every command, exits 0 and touches nothing (serve does not start, migrate migrates nothing)', async () => {
    const root = await outcome(['--help'], env());
    expect(root.code).toBe(0);
    for (const command of COMMANDS) expect(root.stdout).toContain(command);
    // Every command on SQLite; on PostgreSQL the two that would touch the database.
    for (const command of dialect === 'sqlite' ? COMMANDS : ['serve', 'migrate']) {
      const help = await outcome([command, '--help'], env());
      expect(help, command).toMatchObject({ code: 0, stderr: '' });
      expect(help.stdout, command).toContain(`Usage: helpdesk ${command}`);
    }
    expect((await outcome(['--version'], env())).stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    // No database file on SQLite (the data folder is still empty), no table on PostgreSQL.
    expect(await tables()).toBe(0);
  });

  it('answers a bad option or value with one line and the usage, exit 2, no stack trace', async () => {
    const mistakes = [
      ['serve', '--port', '1'],
      ['migrate', '--bogus'],
      ['token', '--user', 'u', '--email', 'e@x.test', '--ttl', '-5'],
      ['token', '--email', 'e@x.test'],
      ['seed', '--tickets', 'many'],
      ['frobnicate'],
    ];
    for (const args of dialect === 'sqlite' ? mistakes : mistakes.slice(0, 2)) {
      const result = await outcome(args, env());
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr.split('\n')[0], args.join(' ')).toMatch(/^error: /);
      expect(result.stderr, args.join(' ')).toContain('Usage: helpdesk');
      expect(result.stderr, args.join(' ')).not.toMatch(STACK_FRAME);
    }
    expect(await tables()).toBe(0);
  });

  it('stops quietly when the reader closes the pipe (openapi --yaml | head -1)', async () => {
    const cli = `"${process.execPath}" --import tsx src/cli/main.ts openapi --yaml`;
    const child = spawn('bash', ['-c', `${cli} | head -1; echo "exit $\{PIPESTATUS[0]}" >&2`], { cwd: ROOT, env: env() });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    await new Promise((resolve) => child.on('close', resolve));
    expect(stdout).toBe('openapi: 3.1.0\n');
    expect(stderr).toBe('exit 0\n');
  });
});

describe.runIf(dialects().includes('postgres'))('PostgreSQL mistakes, told in words', () => {
  const server = new URL(TEST_DATABASE_URL);
  const urlWith = (change: (url: URL) => void) => {
    const url = new URL(server);
    change(url);
    return url.toString();
  };
  const migrate = (databaseUrl: string, ...args: string[]) => outcome(['migrate', ...args], cliEnv({ DATABASE_URL: databaseUrl }));

  it('an unknown database: says so and how to create it; migrate --create-database does', async () => {
    const name = `helpdesk_missing_${process.pid}_${Date.now()}`;
    const url = urlWith((u) => (u.pathname = `/${name}`));
    const failed = await migrate(url);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain(`has no database "${name}"`);
    expect(failed.stderr).toContain('helpdesk migrate --create-database');
    expect(failed.stderr).not.toMatch(STACK_FRAME);
    try {
      const created = await migrate(url, '--create-database');
      expect(created.code).toBe(0);
      expect(created.stderr).toContain('created the database');
      expect(created.stderr).toContain('applied: 001_initial');
    } finally {
      const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
      await client.connect();
      await client.query(`drop database if exists ${name} with (force)`);
      await client.end();
    }
  });

  it('an unknown role, and a server that refuses connections: each with what to do', async () => {
    const role = await migrate(urlWith((u) => (u.username = 'helpdesk_no_such_role')));
    expect(role.code).toBe(1);
    expect(role.stderr).toContain('refused the role helpdesk_no_such_role');
    expect(role.stderr).toContain('createuser');
    expect(role.stderr).not.toMatch(STACK_FRAME);
    // Port 1 on the loopback: nothing listens there.
    const refused = await migrate(urlWith((u) => ((u.hostname = '127.0.0.1'), (u.port = '1'))));
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('Cannot reach PostgreSQL at 127.0.0.1:1');
    expect(refused.stderr).toContain('pg_isready');
    expect(refused.stderr).not.toMatch(STACK_FRAME);
    // The server at start-up says the same, and exits rather than hang.
    const serve = await outcome(['serve'], cliEnv({ DATABASE_URL: urlWith((u) => ((u.hostname = '127.0.0.1'), (u.port = '1'))) }));
    expect(serve.code).toBe(1);
    expect(serve.stderr).toContain('Cannot reach PostgreSQL at 127.0.0.1:1');
    expect(serve.stderr).not.toMatch(STACK_FRAME);
  });
});
