import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countQueue } from '../src/admin/admin.repository.js';
import { createDb, type Db, type Dialect } from '../src/db/database.js';
import { migrateToLatest } from '../src/db/migrator.js';
import { exportDatabase, importDatabase } from '../src/db/transfer.js';
import { createPostgresDatabase, dialects } from './dialects.js';
import { alice, bob, buildTestApp, carol, createTicketAs, sam, TICKETS, type TestApp } from './helpers.js';
import { cliEnv, runCli } from './processes.js';

async function exportLines(db: Db): Promise<string[]> {
  const lines: string[] = [];
  await exportDatabase(db, (line) => void lines.push(line));
  return lines;
}

async function* iterate(lines: string[]): AsyncIterable<string> {
  yield* lines;
}

/** The rows of an export, without its header (which carries the export time). */
const rowsOf = (lines: string[]) => lines.slice(1).map((line) => JSON.parse(line));

let source: TestApp;
let cleanup: Array<() => Promise<void>> = [];

/** A fresh, migrated, empty database of the given kind. */
async function emptyDb(dialect: Dialect): Promise<{ db: Db; url: string; dialect: Dialect }> {
  let url: string;
  if (dialect === 'postgres') {
    const database = await createPostgresDatabase();
    url = database.url;
    cleanup.push(database.drop);
  } else {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'helpdesk-transfer-'));
    url = `sqlite:${path.join(dir, 'helpdesk.db')}`;
    cleanup.push(() => fs.rm(dir, { recursive: true, force: true }));
  }
  const db = createDb(url.startsWith('sqlite:') ? { kind: 'sqlite', path: url.slice(7) } : { kind: 'postgres', url, poolSize: 2 });
  cleanup.unshift(() => db.destroy());
  await migrateToLatest(db, dialect);
  return { db, url, dialect };
}

beforeAll(async () => {
  // A desk with some history: every table, nulls, internal notes, unicode.
  source = await buildTestApp('sqlite');
  await source.as(sam, { url: '/api/v1/admin/support/agents' });
  const a = await createTicketAs(source, alice, { title: 'Ünïcödé 🔥 <b>markup</b>', description: 'line 1\nline 2 "quoted" \\ backslash' });
  const b = await createTicketAs(source, bob, { type: 'billing' });
  await createTicketAs(source, carol, { type: 'account' });
  await source.as(alice, { method: 'POST', url: `${TICKETS}/${a.ticket_id}/comments`, payload: { content: 'any news? 😀' } });
  await source.as(sam, { method: 'POST', url: `/api/v1/admin/support/tickets/${a.ticket_id}/comments`, payload: { content: 'secret note', is_internal: true } });
  await source.as(sam, { method: 'PATCH', url: `/api/v1/admin/support/tickets/${a.ticket_id}`, payload: { assigned_to: sam.id, priority: 'high' } });
  await source.as(bob, { method: 'POST', url: `${TICKETS}/${b.ticket_id}/close` });
});
afterAll(async () => {
  await source.close();
  for (const step of cleanup) await step();
  cleanup = [];
});

describe('helpdesk export / import', () => {
  it('round-trips SQLite → PostgreSQL → SQLite with ids, timestamps and counters preserved', async () => {
    const original = await exportLines(source.db);
    const rows = rowsOf(original);
    expect(new Set(rows.map((r) => r.table))).toEqual(new Set(['users', 'tickets', 'ticket_comments', 'ticket_history']));
    expect(rows.filter((r) => r.table === 'tickets')).toHaveLength(3);

    // Through PostgreSQL when this run has it; SQLite → SQLite → SQLite otherwise.
    const middle = await emptyDb(dialects().includes('postgres') ? 'postgres' : 'sqlite');
    expect(await importDatabase(middle.db, iterate(original))).toEqual({ users: 4, tickets: 3, ticket_comments: 2, ticket_history: 3 });
    const viaMiddle = await exportLines(middle.db);
    expect(rowsOf(viaMiddle)).toEqual(rows);

    const back = await emptyDb('sqlite');
    await importDatabase(back.db, iterate(viaMiddle));
    expect(rowsOf(await exportLines(back.db))).toEqual(rows);

    // The search index is derived, not exported: it is rebuilt on the way in.
    expect(await countQueue(middle.db, middle.dialect, { words: ['secret', 'note'] })).toBe(1);
    expect(await countQueue(back.db, 'sqlite', { words: ['ünïcödé'] })).toBe(1);
  });

  it('refuses a non-empty target or a broken file, writing nothing', async () => {
    const lines = await exportLines(source.db);
    const target = await emptyDb('sqlite');
    await expect(importDatabase(target.db, iterate([lines[0] as string, '{"table":"tickets","row":{"id":"x"}}']))).rejects.toThrow(
      /line 2: a tickets row needs exactly the columns/,
    );
    await expect(importDatabase(target.db, iterate(['{"hello":1}']))).rejects.toThrow(/not a helpdesk-export version 1 file/);
    // A failure half-way leaves nothing behind.
    await expect(importDatabase(target.db, iterate([...lines, 'not json']))).rejects.toThrow(/not valid JSON/);
    expect(rowsOf(await exportLines(target.db))).toEqual([]);
    await importDatabase(target.db, iterate(lines));
    await expect(importDatabase(target.db, iterate(lines))).rejects.toThrow(/not empty/);
  });

  it('works as CLI commands, through a file', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'helpdesk-transfer-cli-'));
    cleanup.push(() => fs.rm(dir, { recursive: true, force: true }));
    const file = path.join(dir, 'export.ndjson');
    const sourceUrl = `sqlite:${path.join(source.dir, 'helpdesk.db')}`;
    const exported = await runCli(['export', '--out', file], cliEnv({ HELPDESK_DATA_DIR: dir, DATABASE_URL: sourceUrl }));
    expect(exported.stderr).toContain('"tickets":3');
    // Every tenant's tickets and internal notes: readable by the owner only.
    expect((await fs.stat(file)).mode & 0o777).toBe(0o600);
    const target = await emptyDb(dialects().includes('postgres') ? 'postgres' : 'sqlite');
    const imported = await runCli(['import', '--in', file], cliEnv({ HELPDESK_DATA_DIR: dir, DATABASE_URL: target.url }));
    expect(imported.stderr).toContain('imported {"users":4,"tickets":3,"ticket_comments":2,"ticket_history":3}');
    expect(rowsOf(await exportLines(target.db))).toEqual(rowsOf(await exportLines(source.db)));
    const again = await runCli(['import', '--in', file], cliEnv({ HELPDESK_DATA_DIR: dir, DATABASE_URL: target.url })).catch((e: { code: number; stderr: string }) => e);
    expect(again).toMatchObject({ code: 1 });
    expect((again as { stderr: string }).stderr).toContain('not empty');
  });
});
