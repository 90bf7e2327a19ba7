import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createPostgresDatabase, dialects } from './dialects.js';
import { cliEnv, devToken, runCli, startServer, type ServerProcess } from './processes.js';

describe.each(dialects())('%s', (dialect) => {
  let dir: string;
  let databaseUrl: string | undefined;
  let dropDatabase: (() => Promise<void>) | undefined;
  let server: ServerProcess | undefined;
  const env = (extra: Record<string, string | undefined> = {}) => cliEnv({ HELPDESK_DATA_DIR: dir, DATABASE_URL: databaseUrl, ...extra });

  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'helpdesk-cli-'));
    databaseUrl = undefined;
    if (dialect === 'postgres') ({ url: databaseUrl, drop: dropDatabase } = await createPostgresDatabase());
  });
  afterEach(async () => {
    server?.child.kill('SIGKILL');
    server = undefined;
    await dropDatabase?.();
    dropDatabase = undefined;
    await fs.rm(dir, { recursive: true, force: true });
  });

  describe('helpdesk serve in development mode', () => {
    it('serves the API with development sign-in, announced loudly, and stops cleanly on SIGTERM', async () => {
      // No HOST: development sign-in listens on this machine only (startServer reads the address it logs).
      server = await startServer(env({ HOST: undefined }));
      const { url } = server;
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:/);
      expect(server.output()).toContain('DEVELOPMENT SIGN-IN IS ON, because no CLERK_ variable is set');
      expect(server.output()).toContain('Listening on 127.0.0.1 only');
      expect(await (await fetch(`${url}/readyz`)).json()).toEqual({ status: 'ready' });

      const token = await devToken(env(), { id: 'user_dev', email: 'dev@example.test', org: 'org_dev' });
      const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
      const created = await fetch(`${url}/api/v1/support/tickets`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ title: 'From the CLI test', description: 'It works', type: 'support' }),
      });
      expect(created.status).toBe(201);
      expect(await created.json()).toMatchObject({ tenant_id: 'org_dev', created_by: 'user_dev', created_by_email: 'dev@example.test' });

      const staffToken = await devToken(env(), { id: 'user_agent', email: 'agent@example.test', staff: true });
      const queue = await fetch(`${url}/api/v1/admin/support/tickets`, { headers: { authorization: `Bearer ${staffToken}` } });
      expect(((await queue.json()) as { total: number }).total).toBe(1);
      expect((await fetch(`${url}/api/v1/admin/support/tickets`, { headers })).status).toBe(403);
      const list = (await (await fetch(`${url}/api/v1/support/tickets`, { headers })).json()) as { total: number };
      expect(list.total).toBe(1);

      expect(await server.stop('SIGTERM')).toBe(0);
      if (dialect === 'sqlite') expect(await fs.stat(path.join(dir, 'helpdesk.db'))).toBeTruthy();
    });

    it('refuses to start in production without a Clerk key, saying why', async () => {
      const result = await runCli(['serve'], env({ NODE_ENV: 'production' })).catch((e: { code: number; stderr: string }) => e);
      expect(result).toMatchObject({ code: 1 });
      expect((result as { stderr: string }).stderr).toContain('NODE_ENV=production needs CLERK_JWT_KEY or CLERK_JWKS_URL');
    });

    it('refuses to start when a Clerk variable is set but unusable, instead of falling back to development sign-in', async () => {
      for (const [extra, message] of [
        [{ CLERK_JWT_KEY: '  ' }, 'CLERK_JWT_KEY is set but empty'],
        [{ CLERK_SECRET_KEY: 'sk_test_abc' }, 'CLERK_SECRET_KEY is set, but neither CLERK_JWT_KEY nor CLERK_JWKS_URL is'],
      ] as const) {
        const result = await runCli(['serve'], env(extra)).catch((e: { code: number; stderr: string }) => e);
        expect(result, message).toMatchObject({ code: 1 });
        expect((result as { stderr: string }).stderr).toContain(message);
        expect((result as { stderr: string }).stderr).not.toContain('DEVELOPMENT SIGN-IN IS ON');
      }
    });

    it('does not mint tokens when Clerk is configured', async () => {
      const result = await runCli(['token', '--user', 'u', '--email', 'e@x.test'], env({ CLERK_JWKS_URL: 'https://clerk.example/.well-known/jwks.json' })).catch(
        (e: { code: number }) => e,
      );
      expect(result).toMatchObject({ code: 2 });
    });

    it('migrates a new database and prints the OpenAPI document', async () => {
      const migrated = await runCli(['migrate'], env());
      expect(migrated.stderr).toContain('applied: 001_initial, 002_search');
      const again = await runCli(['migrate'], env());
      expect(again.stderr).toContain('schema is up to date');
      const { stdout } = await runCli(['openapi'], env());
      expect(JSON.parse(stdout).paths).toHaveProperty(['/api/v1/support/tickets']);
    });
  });
});

describe('helpdesk --help', () => {
  const env = cliEnv({});
  // Spawning a process per command line: a handful is enough to cover each way of asking.
  it('prints each command’s usage on --help, -h and help COMMAND, and a slip in the options as a sentence, never a stack trace', async () => {
    for (const [args, first] of [
      [['seed', '--help'], 'Usage: helpdesk seed --tickets N'],
      [['import', '-h'], 'Usage: helpdesk import [--in FILE]'],
      [['help', 'token'], 'Usage: helpdesk token --user ID --email EMAIL'],
      [['--help'], 'Usage: helpdesk <command> [options]'],
    ] as const) {
      const { stdout } = await runCli([...args], env);
      expect(stdout.split('\n')[0], args.join(' ')).toContain(first);
    }
    const slip = await runCli(['seed', '--tickts', '5'], env).catch((e: { code: number; stderr: string }) => e);
    expect(slip).toMatchObject({ code: 2 });
    const stderr = (slip as { stderr: string }).stderr;
    expect(stderr).toMatch(/^helpdesk seed: Unknown option '--tickts'/);
    expect(stderr).toContain('Usage: helpdesk seed --tickets N');
    expect(stderr).not.toMatch(/\n\s+at /);
  });
});
