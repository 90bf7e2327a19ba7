import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';

import type { Dialect } from '../src/db/database.js';

export type { Dialect };

declare module 'vitest' {
  export interface ProvidedContext {
    dialects: Dialect[];
  }
}

/** The server the PostgreSQL half creates its throwaway databases on. */
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** The dialects this run covers, decided once by the global setup (see global-setup.ts). */
export function dialects(): Dialect[] {
  return inject('dialects');
}

function withDatabase(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${name}`;
  return parsed.toString();
}

async function admin<T>(run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

/** A fresh PostgreSQL database, `helpdesk_test_<random>`, and how to drop it. */
export async function createPostgresDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `helpdesk_test_${randomBytes(6).toString('hex')}`;
  await admin((client) => client.query(`create database ${name}`));
  return {
    url: withDatabase(TEST_DATABASE_URL, name),
    drop: () => admin((client) => client.query(`drop database if exists ${name} with (force)`)).then(() => undefined),
  };
}
