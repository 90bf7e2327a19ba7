import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countQueue } from '../src/admin/admin.repository.js';
import { createBlobStore } from '../src/attachments/attachment.db-store.js';
import type { BlobStore } from '../src/attachments/attachment.store.js';
import { createDb, type Db, type Dialect } from '../src/db/database.js';
import { migrateToLatest } from '../src/db/migrator.js';
import { exportDatabase, importDatabase } from '../src/desk/transfer.js';
import { createPostgresDatabase, dialects } from './dialects.js';
import { alice, bob, buildTestApp, carol, createTicketAs, sam, TICKETS, type TestApp } from './helpers.js';
import { cliEnv, runCli } from './processes.js';

/** A database with the attachment store it uses. */
interface Desk {
  db: Db;
  store: BlobStore;
}

async function exportLines(desk: Desk): Promise<string[]> {
  const lines: string[] = [];
  await exportDatabase(desk.db, desk.store, (line) => void lines.push(line));
  return lines;
}

const importInto = (desk: Desk, lines: string[]) => importDatabase(desk.db, desk.store, iterate(lines));

async function* iterate(lines: string[]): AsyncIterable<string> {
  yield* lines;
}

/** The rows of an export, without its header (which carries the export time). */
const rowsOf = (lines: string[]) => lines.slice(1).map((line) => JSON.parse(line));

let source: TestApp;
let cleanup: Array<() => Promise<void>> = [];

/** A fresh, migrated, empty database of the given kind, with its own data directory and attachment store. */
async function emptyDb(dialect: Dialect, store: 'filesystem' | 'database' = 'filesystem'): Promise<Desk & { url: string; dialect: Dialect; dir: string }> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'helpdesk-transfer-'));
  cleanup.push(() => fs.rm(dir, { recursive: true, force: true }));
  let url = `sqlite:${path.join(dir, 'helpdesk.db')}`;
  if (dialect === 'postgres') {
    const database = await createPostgresDatabase();
    url = database.url;
    cleanup.push(database.drop);
  }
  const db = createDb(url.startsWith('sqlite:') ? { kind: 'sqlite', path: url.slice(7) } : { kind: 'postgres', url, poolSize: 2 });
  cleanup.unshift(() => db.destroy());
  await migrateToLatest(db, dialect);
  return { db, store: createBlobStore({ dataDir: dir, attachments: { store } }, db), url, dialect, dir };
}

const deskOf = (t: TestApp): Desk => ({ db: t.db, store: createBlobStore(t.config, t.db) });
const NO_ATTACHMENTS = { uploads: 0, ticket_attachments: 0, files: 0 };

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
  it('round-trips SQLite → PostgreSQL → SQLite with ids, timestamps, events and counters preserved', async () => {
    const original = await exportLines(deskOf(source));
    const rows = rowsOf(original);
    expect(new Set(rows.map((r) => r.table))).toEqual(new Set(['users', 'tickets', 'ticket_comments', 'ticket_history', 'ticket_events']));
    expect(rows.filter((r) => r.table === 'tickets')).toHaveLength(3);
    // 3 created, a comment, a note, a triage, a close.
    expect(rows.filter((r) => r.table === 'ticket_events').map((r) => r.row.type).sort()).toEqual(
      ['comment.created', 'note.created', 'ticket.created', 'ticket.created', 'ticket.created', 'ticket.status_changed', 'ticket.updated'],
    );

    // Through PostgreSQL when this run has it; SQLite → SQLite → SQLite otherwise.
    const middle = await emptyDb(dialects().includes('postgres') ? 'postgres' : 'sqlite');
    expect(await importInto(middle, original)).toEqual({ users: 4, tickets: 3, ticket_comments: 2, ticket_history: 3, ticket_events: 7, ...NO_ATTACHMENTS });
    const viaMiddle = await exportLines(middle);
    expect(rowsOf(viaMiddle)).toEqual(rows);

    const back = await emptyDb('sqlite');
    await importInto(back, viaMiddle);
    expect(rowsOf(await exportLines(back))).toEqual(rows);

    // The search index is derived, not exported: it is rebuilt on the way in.
    expect(await countQueue(middle.db, middle.dialect, { words: ['secret', 'note'] })).toBe(1);
    expect(await countQueue(back.db, 'sqlite', { words: ['ünïcödé'] })).toBe(1);
    // So are the comment counters: recounted from the comments.
    const counters = (db: Db) => db.selectFrom('tickets').select(['id', 'comment_count', 'internal_comment_count', 'comment_chars']).orderBy('id').execute();
    expect(await counters(middle.db)).toEqual(await counters(source.db));
    expect(await counters(back.db)).toEqual(await counters(source.db));
  });

  it('refuses rows the API would never have written, naming the line, and writes nothing', async () => {
    const lines = await exportLines(deskOf(source));
    const [header, ...rows] = lines as [string, ...string[]];
    const ticketLine = rows.find((line) => line.startsWith('{"table":"tickets"')) as string;
    const ticket = JSON.parse(ticketLine).row;
    const line = (table: string, row: unknown) => JSON.stringify({ table, row });
    const hostile: Array<[string, RegExp]> = [
      [line('tickets', { ...ticket, version: '1\r\nSet-Cookie: a=b' }), /line 2: not a valid tickets row: version must be integer/],
      [line('tickets', { ...ticket, status: 'hacked' }), /line 2: not a valid tickets row: status must be equal to one of the allowed values/],
      [line('tickets', { ...ticket, created_at: 'not a date' }), /line 2: not a valid tickets row: created_at must match format "date-time"/],
      [line('tickets', { ...ticket, title: '' }), /line 2: not a valid tickets row: title/],
      [line('tickets', { ...ticket, extra: 1 }), /line 2: not a valid tickets row: must NOT have additional properties/],
      [line('__proto__', ticket), /line 2: unknown table "__proto__"/],
      [line('constructor', ticket), /line 2: unknown table "constructor"/],
      [line('ticket_events', { event_id: ticket.id, type: 'ticket.created', ticket_id: ticket.id, tenant_id: 'x', actor_id: 'x', actor_email: 'x', actor_type: 'user', audience: 'customer', occurred_at: ticket.created_at, data: '{oops' }), /line 2: not a valid ticket_events row: data is not a JSON object/],
      ['null', /line 2: unknown table undefined/],
    ];
    const target = await emptyDb('sqlite');
    for (const [bad, message] of hostile) await expect(importInto(target, [header, bad])).rejects.toThrow(message);
    expect(rowsOf(await exportLines(target))).toEqual([]);
  });

  it('still reads a version-1 export, recounting the counters it carried', async () => {
    const lines = await exportLines(deskOf(source));
    const v1 = lines.map((text, index) => {
      const parsed = JSON.parse(text);
      if (index === 0) return JSON.stringify({ ...parsed, version: 1 });
      if (parsed.table === 'ticket_events') return undefined;
      // Version 1 carried the counters, possibly wrong: they are recounted, not trusted.
      if (parsed.table === 'tickets') {
        // Nor had it numbers or what needs attention: derived from the rows on the way in.
        const { number: _n, waiting_on: _w, waiting_since: _s, last_message_from: _f, last_customer_message_at: _c, last_staff_reply_at: _r, last_message_preview: _p, ...row } = parsed.row;
        return JSON.stringify({ table: 'tickets', row: { ...row, comment_count: 99, internal_comment_count: 7 } });
      }
      return text;
    }).filter((text): text is string => text !== undefined);
    const target = await emptyDb('sqlite');
    expect(await importInto(target, v1)).toEqual({ users: 4, tickets: 3, ticket_comments: 2, ticket_history: 3, ticket_events: 0, ...NO_ATTACHMENTS });
    const counters = (db: Db) =>
      db
        .selectFrom('tickets')
        .select(['id', 'comment_count', 'internal_comment_count', 'number', 'waiting_on', 'waiting_since', 'last_message_from', 'last_customer_message_at', 'last_staff_reply_at', 'last_message_preview'])
        .orderBy('id')
        .execute();
    expect(await counters(target.db)).toEqual(await counters(source.db));
  });

  it('refuses a non-empty target or a broken file, writing nothing', async () => {
    const lines = await exportLines(deskOf(source));
    const target = await emptyDb('sqlite');
    await expect(importInto(target, [lines[0] as string, '{"table":"tickets","row":{"id":"x"}}'])).rejects.toThrow(
      /line 2: not a valid tickets row/,
    );
    await expect(importInto(target, ['{"hello":1}'])).rejects.toThrow(/not a helpdesk-export file of version 1 or 2 or 3/);
    // A failure half-way leaves nothing behind.
    await expect(importInto(target, [...lines, 'not json'])).rejects.toThrow(/not valid JSON/);
    expect(rowsOf(await exportLines(target))).toEqual([]);
    await importInto(target, lines);
    await expect(importInto(target, lines)).rejects.toThrow(/not empty/);
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
    expect(imported.stderr).toContain('imported {"users":4,"tickets":3,"ticket_comments":2,"ticket_history":3,"ticket_events":7,"uploads":0,"ticket_attachments":0,"files":0}');
    expect(rowsOf(await exportLines(target))).toEqual(rowsOf(await exportLines(deskOf(source))));
    const again = await runCli(['import', '--in', file], cliEnv({ HELPDESK_DATA_DIR: dir, DATABASE_URL: target.url })).catch((e: { code: number; stderr: string }) => e);
    expect(again).toMatchObject({ code: 1 });
    expect((again as { stderr: string }).stderr).toContain('not empty');
  });
});

describe('sqlite: a row corrupted behind the API’s back', () => {
  it('costs its reader a dropped connection, never the process, when a header cannot be written', async () => {
    const t = await buildTestApp('sqlite');
    try {
      const { ticket_id: id } = await createTicketAs(t, alice);
      // SQLite keeps any value in any column: a version that would become a header-splitting ETag.
      await sql`update tickets set version = '1' || char(13) || char(10) || 'Set-Cookie: a=b' where id = ${id}`.execute(t.db);
      const url = await t.app.listen({ port: 0, host: '127.0.0.1' });
      const headers = { authorization: `Bearer ${await t.tokenFor(sam)}` };
      const read = () => fetch(`${url}/api/v1/admin/support/tickets/${id}`, { headers }).then((res) => res.status, () => 'dropped');
      expect(await read()).toBe('dropped');
      // With a commit waiting for its flush, the answer goes out from a promise callback.
      await createTicketAs(t, bob);
      expect(await read()).toBe('dropped');
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      await sql`update tickets set version = 2 where id = ${id}`.execute(t.db);
    } finally {
      await t.close();
    }
  });
});
