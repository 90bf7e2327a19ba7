import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createPostgresDatabase, dialects } from './dialects.js';

// The CLI as a user runs it, from source: a real process, a real port, a real SQLite file.
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLI = ['--import', 'tsx', path.join(root, 'src/cli/main.ts')];
const run = promisify(execFile);

let dir: string;
let databaseUrl: string | undefined;
let dropDatabase: (() => Promise<void>) | undefined;
let server: ChildProcess | undefined;
afterEach(async () => {
  server?.kill('SIGKILL');
  server = undefined;
  await dropDatabase?.();
  dropDatabase = undefined;
  await fs.rm(dir, { recursive: true, force: true });
});

function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('CLERK_') && key !== 'DATABASE_URL'));
  return {
    ...clean,
    NODE_ENV: 'development',
    HELPDESK_DATA_DIR: dir,
    HOST: '127.0.0.1',
    PORT: '0',
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
    ...extra,
  };
}

/** Starts `helpdesk serve` and resolves with its base URL once it listens. */
function startServer(extra: Record<string, string> = {}): Promise<{ url: string; output: () => string }> {
  const child = spawn(process.execPath, [...CLI, 'serve'], { cwd: root, env: env(extra) });
  server = child;
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${output}`)), 20_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve({ url: match[1], output: () => output });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => reject(new Error(`server exited with ${code}:\n${output}`)));
  });
}

describe.each(dialects())('%s', (dialect) => {
  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'helpdesk-cli-'));
    databaseUrl = undefined;
    if (dialect === 'postgres') {
      const database = await createPostgresDatabase();
      databaseUrl = database.url;
      dropDatabase = database.drop;
    }
  });

  describe('helpdesk serve in development mode', () => {
    it('serves the API with development sign-in, announced loudly, and stops cleanly on SIGTERM', async () => {
      const { url, output } = await startServer();
      expect(output()).toContain('DEVELOPMENT SIGN-IN IS ON');
      expect(await (await fetch(`${url}/readyz`)).json()).toEqual({ status: 'ready' });

      const { stdout: token } = await run(process.execPath, [...CLI, 'token', '--user', 'user_dev', '--email', 'dev@example.test', '--org', 'org_dev'], {
        cwd: root,
        env: env(),
      });
      const headers = { authorization: `Bearer ${token.trim()}`, 'content-type': 'application/json' };
      const created = await fetch(`${url}/api/v1/support/tickets`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ title: 'From the CLI test', description: 'It works', type: 'support' }),
      });
      expect(created.status).toBe(201);
      expect(await created.json()).toMatchObject({ tenant_id: 'org_dev', created_by: 'user_dev', created_by_email: 'dev@example.test' });
      const { stdout: staffToken } = await run(process.execPath, [...CLI, 'token', '--user', 'user_agent', '--email', 'agent@example.test', '--staff'], {
        cwd: root,
        env: env(),
      });
      const queue = await fetch(`${url}/api/v1/admin/support/tickets`, { headers: { authorization: `Bearer ${staffToken.trim()}` } });
      expect(((await queue.json()) as { total: number }).total).toBe(1);
      expect((await fetch(`${url}/api/v1/admin/support/tickets`, { headers })).status).toBe(403);
      const list = (await (await fetch(`${url}/api/v1/support/tickets`, { headers })).json()) as { total: number };
      expect(list.total).toBe(1);

      const exited = new Promise<number | null>((resolve) => server?.on('exit', resolve));
      server?.kill('SIGTERM');
      expect(await exited).toBe(0);
      if (dialect === 'sqlite') expect(await fs.stat(path.join(dir, 'helpdesk.db'))).toBeTruthy();
    });

    it('refuses to start in production without a Clerk key, saying why', async () => {
      const result = await run(process.execPath, [...CLI, 'serve'], { cwd: root, env: env({ NODE_ENV: 'production' }) }).catch((e: { code: number; stderr: string }) => e);
      expect(result).toMatchObject({ code: 1 });
      expect((result as { stderr: string }).stderr).toContain('NODE_ENV=production needs CLERK_JWT_KEY or CLERK_JWKS_URL');
    });

    it('does not mint tokens when Clerk is configured', async () => {
      const result = await run(process.execPath, [...CLI, 'token', '--user', 'u', '--email', 'e@x.test'], {
        cwd: root,
        env: env({ CLERK_JWKS_URL: 'https://clerk.example/.well-known/jwks.json' }),
      }).catch((e: { code: number; stderr: string }) => e);
      expect(result).toMatchObject({ code: 2 });
    });

    it('migrates a new database and prints the OpenAPI document', async () => {
      const migrated = await run(process.execPath, [...CLI, 'migrate'], { cwd: root, env: env() });
      expect(migrated.stderr).toContain('applied: 001_initial');
      const again = await run(process.execPath, [...CLI, 'migrate'], { cwd: root, env: env() });
      expect(again.stderr).toContain('schema is up to date');
      const { stdout } = await run(process.execPath, [...CLI, 'openapi'], { cwd: root, env: env() });
      expect(JSON.parse(stdout).paths).toHaveProperty(['/api/v1/support/tickets']);
    });
  });
});
