import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { TEST_DATABASE_URL, type Dialect } from './dialects.js';
import { addRunNotice } from './run-notices.js';

/**
 * Decides which databases the suite runs on: SQLite always, PostgreSQL when reachable.
 * Locally an unreachable PostgreSQL is skipped with a clear notice; in CI it fails the run.
 * TEST_DIALECTS=sqlite (or postgres) narrows the run.
 */
export default async function setup(project: TestProject): Promise<void> {
  const requested = (process.env.TEST_DIALECTS ?? 'sqlite,postgres').split(',').map((d) => d.trim()) as Dialect[];
  const dialects = requested.filter((d) => d === 'sqlite' || d === 'postgres');
  if (dialects.includes('postgres')) {
    const problem = await reach(TEST_DATABASE_URL);
    if (problem) {
      const where = TEST_DATABASE_URL.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
      if (process.env.CI) throw new Error(`PostgreSQL is required in CI but ${where} is unreachable: ${problem}`);
      addRunNotice(`PostgreSQL tests SKIPPED: ${where} is unreachable (${problem}). Set TEST_DATABASE_URL to run them.`);
      dialects.splice(dialects.indexOf('postgres'), 1);
    }
  }
  project.provide('dialects', dialects);
}

async function reach(url: string): Promise<string | null> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('select 1');
    return null;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  } finally {
    await client.end().catch(() => {});
  }
}
