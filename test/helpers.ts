import fs from 'node:fs/promises';
import { expect } from 'vitest';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import type { Updateable } from 'kysely';
import { exportSPKI, generateKeyPair, SignJWT, type CryptoKey, type JWTPayload } from 'jose';
import { buildApp } from '../src/app.js';
import { loadConfig, type Config } from '../src/config.js';
import { createDb, type Db } from '../src/db/database.js';
import { migrateToLatest } from '../src/db/migrator.js';
import { ALL_TENANTS, findTicket, updateTicket } from '../src/tickets/ticket.repository.js';
import { rebuildTallies, TALLY_TABLES } from '../src/tickets/ticket.tallies.js';
import type { TicketTable } from '../src/tickets/ticket.table.js';
import { createPostgresDatabase, type Dialect } from './dialects.js';
import { searchQueueIndexer } from '../src/search/search.queue.js';

export const ISSUER = 'https://clerk.helpdesk.test';
export const AUTHORIZED_PARTY = 'https://app.helpdesk.test';

/** A signing identity standing in for Clerk: its public key is what the app is configured with. */
export interface TestKeys {
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  publicPem: string;
}

export async function createTestKeys(): Promise<TestKeys> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  return { privateKey, publicKey, publicPem: await exportSPKI(publicKey) };
}

// RSA key generation is the slowest part of a fresh app; one key pair serves a whole test file.
let sharedKeys: Promise<TestKeys> | undefined;

export interface TestUser {
  id: string;
  email: string;
  org?: string;
  role?: string;
}

// Two organizations; alice and bob share one, carol is in the other; sam is support staff.
export const alice: TestUser = { id: 'user_alice', email: 'alice@acme.test', org: 'org_acme' };
export const bob: TestUser = { id: 'user_bob', email: 'bob@acme.test', org: 'org_acme' };
export const carol: TestUser = { id: 'user_carol', email: 'carol@globex.test', org: 'org_globex' };
export const sam: TestUser = { id: 'user_sam', email: 'sam@helpdesk.test', org: 'org_helpdesk', role: 'support' };

/** Claims as Clerk puts them in a v2 session token. */
export function clerkClaims(user: TestUser, extra: JWTPayload = {}): JWTPayload {
  const now = Math.floor(Date.now() / 1000);
  return {
    sub: user.id,
    email: user.email,
    iss: ISSUER,
    azp: AUTHORIZED_PARTY,
    iat: now,
    nbf: now - 1,
    exp: now + 300,
    v: 2,
    ...(user.org ? { o: { id: user.org, rol: 'member' } } : {}),
    ...(user.role ? { metadata: { role: user.role } } : {}),
    ...extra,
  };
}

/** Signs claims as given (no defaults added), RS256 unless told otherwise. */
export async function signClaims(key: CryptoKey, claims: JWTPayload, header: { alg?: string; kid?: string } = {}): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', typ: 'JWT', ...header }).sign(key);
}

/** The environment of `npm start` on a fresh clone: no Clerk variable at all, so development sign-in. */
export const DEVELOPMENT_SIGN_IN = { CLERK_JWT_KEY: undefined, CLERK_ISSUER: undefined, CLERK_AUTHORIZED_PARTIES: undefined };

export interface TestApp {
  dialect: Dialect;
  app: FastifyInstance;
  db: Db;
  config: Config;
  keys: TestKeys;
  dir: string;
  logs: string[];
  tokenFor(user: TestUser, extra?: JWTPayload): Promise<string>;
  /** Sends a request as `user` (or anonymously with `null`). */
  as(user: TestUser | null, request: { method?: string; url: string; payload?: unknown; headers?: Record<string, string> }): Promise<LightMyRequestResponse>;
  /** Closes everything; first checks the tallies, unless a test took the database away. */
  close(options?: { databaseGone?: boolean }): Promise<void>;
}

/**
 * The real app on a fresh database (a new SQLite file, or a new PostgreSQL database that is
 * dropped on close), configured as in production with a test Clerk key.
 */
export async function buildTestApp(
  dialect: Dialect = 'sqlite',
  /** Added to the test configuration; `undefined` takes a variable away. */
  env: Record<string, string | undefined> = {},
  /** Stops the schema at `migration`, lets `fill` write rows in that shape, then migrates on. */
  upgradeFrom?: { migration: string; fill: (db: Db) => Promise<void> },
): Promise<TestApp> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'helpdesk-test-'));
  const keys = await (sharedKeys ??= createTestKeys());
  const postgres = dialect === 'postgres' ? await createPostgresDatabase() : undefined;
  const settings = {
    NODE_ENV: 'test',
    HELPDESK_DATA_DIR: dir,
    DATABASE_URL: postgres?.url ?? `sqlite:${path.join(dir, 'helpdesk.db')}`,
    CLERK_JWT_KEY: keys.publicPem,
    CLERK_ISSUER: ISSUER,
    CLERK_AUTHORIZED_PARTIES: AUTHORIZED_PARTY,
    LOG_LEVEL: 'info',
    ...env,
  };
  const config = loadConfig(Object.fromEntries(Object.entries(settings).filter(([, value]) => value !== undefined)));
  const db = createDb(config.database, { groupCommit: true, beforeCommit: searchQueueIndexer });
  if (upgradeFrom) {
    await migrateToLatest(db, config.database.kind, upgradeFrom.migration);
    await upgradeFrom.fill(db);
  }
  await migrateToLatest(db, config.database.kind);
  const logs: string[] = [];
  const app = await buildApp(config, db, { logStream: { write: (line: string) => void logs.push(line) } });
  await app.ready();

  const tokenFor = (user: TestUser, extra?: JWTPayload) => signClaims(keys.privateKey, clerkClaims(user, extra));
  return {
    dialect,
    app,
    db,
    config,
    keys,
    dir,
    logs,
    tokenFor,
    async as(user, { method = 'GET', url, payload, headers = {} }) {
      const auth: Record<string, string> = user ? { authorization: `Bearer ${await tokenFor(user)}` } : {};
      return app.inject({
        method: method as 'GET',
        url,
        headers: { ...auth, ...headers },
        ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
      });
    },
    async close({ databaseGone = false } = {}) {
      if (!databaseGone) await expectTalliesExact(db);
      await app.close();
      await db.destroy();
      await postgres?.drop();
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}

export const TICKETS = '/api/v1/support/tickets';

/** Creates a ticket through the API and returns its body. */
export async function createTicketAs(t: TestApp, user: TestUser, body: Record<string, unknown> = {}) {
  const res = await t.as(user, {
    method: 'POST',
    url: TICKETS,
    payload: { title: 'Cannot export invoices', description: 'The export button does nothing.', type: 'bug', ...body },
  });
  if (res.statusCode !== 201) throw new Error(`create failed: ${res.statusCode} ${res.body}`);
  return res.json<{ ticket_id: string; [key: string]: unknown }>();
}

/** Asserts the seed's problem+json shape and returns the parsed body. */
export function problem(res: LightMyRequestResponse, status: number) {
  if (res.statusCode !== status) throw new Error(`expected ${status}, got ${res.statusCode}: ${res.body}`);
  if (!String(res.headers['content-type']).startsWith('application/problem+json')) {
    throw new Error(`expected application/problem+json, got ${res.headers['content-type']}`);
  }
  return res.json<{
    $schema: string;
    title: string;
    status: number;
    detail: string;
    errors?: Array<{ location: string; message: string; value?: unknown }>;
  }>();
}

/** Changes a ticket behind the API's back, as a fixture, keeping its tallies right. */
export async function setTicket(db: Db, id: string, patch: Updateable<TicketTable>): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const before = await findTicket(trx, id, ALL_TENANTS);
    if (!before) throw new Error(`no ticket ${id}`);
    await updateTicket(trx, before.id, patch);
  });
}

/**
 * Fails unless every maintained tally equals a fresh count of the tickets: recounts inside a
 * transaction that is rolled back, so the database is left as it was. Every test app runs
 * it when it closes.
 */
export async function expectTalliesExact(db: Db): Promise<void> {
  const read = async (trx: Db) => {
    const all: Record<string, string[]> = {};
    for (const table of TALLY_TABLES) {
      // On PostgreSQL a count is the sum of its shards (migration 014).
      const sums = new Map<string, number>();
      for (const { n, shard: _, ...key } of (await trx.selectFrom(table).selectAll().execute()) as Array<{ n: number; shard?: number }>) {
        const group = JSON.stringify(Object.entries(key).sort());
        sums.set(group, (sums.get(group) ?? 0) + Number(n));
      }
      all[table] = [...sums].filter(([, n]) => n !== 0).map(([group, n]) => `${group} ${n}`).sort();
    }
    return all;
  };
  const rollback = new Error('rollback');
  let maintained: Record<string, string[]> = {};
  let recounted: Record<string, string[]> = {};
  await db
    .transaction()
    .execute(async (trx) => {
      maintained = await read(trx);
      await rebuildTallies(trx);
      recounted = await read(trx);
      throw rollback;
    })
    .catch((error: unknown) => {
      if (error !== rollback) throw error;
    });
  expect(maintained, 'maintained ticket tallies drifted from the tickets').toEqual(recounted);
}
