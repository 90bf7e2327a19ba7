import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import { once } from 'node:events';
import os from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countQueue } from '../src/admin/admin.repository.js';
import { createBlobStore } from '../src/attachments/attachment.db-store.js';
import { BLOB_LINE_BYTES } from '../src/attachments/attachment.transfer.js';
import type { BlobStore } from '../src/attachments/attachment.store.js';
import { createDb, type Db, type Dialect } from '../src/db/database.js';
import { migrateToLatest } from '../src/db/migrator.js';
import { pruneOnce } from '../src/desk/housekeeping.js';
import { exportDatabase, importDatabase, linesOf } from '../src/desk/transfer.js';
import { createPostgresDatabase, dialects } from './dialects.js';
import { alice, bob, buildTestApp, carol, createTicketAs, sam, TICKETS, type TestApp, type TestUser } from './helpers.js';
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
  // As a reply by e-mail would have come (src/mail), without the mail round trip.
  await source.db.updateTable('ticket_comments').set({ channel: 'email' }).where('content', '=', 'any news? 😀').execute();
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
    // A reply that came by e-mail stays one (format 4).
    expect(rows.filter((r) => r.table === 'ticket_comments').map((r) => [r.row.content, r.row.channel])).toEqual(expect.arrayContaining([['any news? 😀', 'email'], ['secret note', 'web']]));
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

// A 1x1 PNG.
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');
const HOUR = 3_600_000;
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** Uploads `data` as `user` (staff through their own route); answers the upload's id. */
async function upload(t: TestApp, user: TestUser, data: Buffer, filename: string): Promise<string> {
  const boundary = 'helpdesktransferboundary';
  const payload = Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${filename}"\r\nContent-Type: application/octet-stream\r\n\r\n`),
    data,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  const url = user === sam ? '/api/v1/admin/support/uploads' : '/api/v1/support/uploads';
  const res = await t.as(user, { method: 'POST', url, payload, headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } });
  expect(res.statusCode).toBe(201);
  return res.json<{ upload_id: string }>().upload_id;
}

describe('linesOf: the import’s line reader', () => {
  const collect = async (chunks: Array<Buffer | string>) => {
    const lines: string[] = [];
    for await (const line of linesOf(iterate(chunks as string[]))) lines.push(line);
    return lines;
  };

  it('splits on \\n and \\r\\n across chunks, a character cut between chunks kept whole, the last line without a newline too', async () => {
    const fire = Buffer.from('🔥');
    expect(await collect([Buffer.from('{"a":1}\r\n{"b":"x'), fire.subarray(0, 2), fire.subarray(2), Buffer.from('"}\n\nlast')])).toEqual(['{"a":1}', '{"b":"x🔥"}', '', 'last']);
  });

  it('refuses a line longer than any export writes, naming it', async () => {
    await expect(collect(['ok\n', 'x'.repeat(600_000), 'x'.repeat(600_000)])).rejects.toThrow(/^line 2: longer than 1048576 characters$/);
  });
});

describe('helpdesk export / import: attachments', () => {
  /** Each attached file: its bytes, the customer who may read it (none for a note's). */
  const attached: Array<{ id: string; bytes: Buffer; reader?: TestUser }> = [];
  let desk: TestApp;

  beforeAll(async () => {
    desk = await buildTestApp('sqlite');
    cleanup.push(() => desk.close());
    // A file cut into many lines.
    const log = Buffer.from(Array.from({ length: 1_400_000 }, (_, i) => (i % 80 === 79 ? '\n' : String.fromCharCode(97 + ((i * 7) % 26)))).join(''));
    const png = await upload(desk, alice, PNG, 'screenshot.png');
    const big = await upload(desk, alice, log, 'server.log');
    const ticket = await createTicketAs(desk, alice, { attachments: [png, big] });
    const csv = Buffer.from('date,amount\n2026-12-01,10\n');
    const csvId = await upload(desk, alice, csv, 'invoices.csv');
    const empty = await upload(desk, alice, Buffer.alloc(0), 'empty.txt');
    expect((await desk.as(alice, { method: 'POST', url: `${TICKETS}/${ticket.ticket_id}/comments`, payload: { content: 'the export', attachments: [csvId, empty] } })).statusCode).toBe(201);
    const secret = Buffer.from('ERROR secret internal stack trace\n');
    const note = await upload(desk, sam, secret, 'internal.log');
    const noted = await desk.as(sam, { method: 'POST', url: `/api/v1/admin/support/tickets/${ticket.ticket_id}/comments`, payload: { content: 'see the log', is_internal: true, attachments: [note] } });
    expect(noted.statusCode).toBe(201);
    // The same bytes from another customer: one file.
    const twin = await upload(desk, bob, PNG, 'same.png');
    await createTicketAs(desk, bob, { attachments: [twin] });
    attached.push(
      { id: png, bytes: PNG, reader: alice },
      { id: big, bytes: log, reader: alice },
      { id: csvId, bytes: csv, reader: alice },
      { id: empty, bytes: Buffer.alloc(0), reader: alice },
      { id: note, bytes: secret },
      { id: twin, bytes: PNG, reader: bob },
    );
    // Not attached yet: carried. Not attached and expired: housekeeping's, left out.
    await upload(desk, carol, Buffer.from('still to attach\n'), 'pending.txt');
    const expired = await upload(desk, carol, Buffer.from('gone soon\n'), 'expired.txt');
    await desk.db.updateTable('uploads').set({ expires_at: new Date(Date.now() - 60_000).toISOString() }).where('id', '=', expired).execute();
  });

  /** Every attached file is served with its bytes to staff and to its customer, and a note's to no customer. */
  async function expectServed(t: TestApp): Promise<void> {
    for (const file of attached) {
      const staff = await t.as(sam, { url: `/api/v1/admin/support/attachments/${file.id}` });
      expect(staff.statusCode).toBe(200);
      expect(sha256(staff.rawPayload)).toBe(sha256(file.bytes));
      for (const customer of [alice, bob, carol]) {
        const res = await t.as(customer, { url: `/api/v1/support/attachments/${file.id}` });
        expect(res.statusCode).toBe(customer === file.reader ? 200 : 404);
        if (customer === file.reader) expect(res.rawPayload.equals(file.bytes)).toBe(true);
      }
    }
  }

  it('carries every attachment’s file from either store to the other, each served with identical bytes', { timeout: 60_000 }, async () => {
    const original = await exportLines(deskOf(desk));
    const rows = rowsOf(original);
    const files = rows.filter((r) => r.blob);
    expect(new Set(files.map((r) => r.blob))).toEqual(new Set([PNG, ...attached.slice(1, 5).map((f) => f.bytes), Buffer.from('still to attach\n')].map(sha256)));
    expect(rows.filter((r) => r.table === 'uploads').map((r) => r.row.filename).sort()).toEqual(
      ['empty.txt', 'internal.log', 'invoices.csv', 'pending.txt', 'same.png', 'screenshot.png', 'server.log'],
    );
    // A file is cut into pieces: no line holds more than BLOB_LINE_BYTES of it.
    expect(files.filter((r) => r.blob === sha256(attached[1]?.bytes as Buffer))).toHaveLength(Math.ceil(1_400_000 / BLOB_LINE_BYTES));
    expect(Math.max(...original.map((line) => line.length))).toBeLessThan((BLOB_LINE_BYTES / 3) * 4 + 200);

    // Into the database store, through PostgreSQL when this run has it.
    const middle = await buildTestApp(dialects().includes('postgres') ? 'postgres' : 'sqlite', { HELPDESK_ATTACHMENT_STORE: 'database' });
    cleanup.push(() => middle.close());
    expect(await importInto(deskOf(middle), original)).toMatchObject({ uploads: 7, ticket_attachments: 6, files: 6 });
    const viaMiddle = await exportLines(deskOf(middle));
    expect(rowsOf(viaMiddle)).toEqual(rows);
    // Served (which notes when each reader was last seen: exported first).
    await expectServed(middle);

    // And back into the filesystem store of a SQLite desk.
    const back = await buildTestApp('sqlite');
    cleanup.push(() => back.close());
    expect(await importInto(deskOf(back), viaMiddle)).toMatchObject({ uploads: 7, ticket_attachments: 6, files: 6 });
    expect(rowsOf(await exportLines(deskOf(back)))).toEqual(rows);
    await expectServed(back);

    // Housekeeping hours later, every blob checked: the unattached upload goes, no attached file does.
    const later = Date.now() + 2 * HOUR + 60_000;
    const old = new Date(Date.now() - 3 * HOUR);
    for await (const hash of deskOf(back).store.list()) await fs.utimes(path.join(back.dir, 'attachments', hash.slice(0, 2), hash.slice(2, 4), hash), old, old);
    await middle.db.updateTable('attachment_blobs').set({ stored_at: old.toISOString() }).execute();
    for (const t of [middle, back]) {
      expect(await pruneOnce(t.db, { eventRetentionDays: 3650, attachments: deskOf(t).store }, later, true)).toMatchObject({ uploads: 1 });
      await expectServed(t);
    }
    const left: string[] = [];
    for await (const hash of deskOf(back).store.list()) left.push(hash);
    expect(left.sort()).toEqual([...new Set(attached.map((f) => sha256(f.bytes)))].sort());
    expect((await middle.db.selectFrom('attachment_blobs').select('sha256').execute()).map((r) => r.sha256).sort()).toEqual(left.sort());
  });

  it('moves a 40 MB file through an export file and an import, never holding as many bytes as the file', { timeout: 120_000 }, async () => {
    const t = await buildTestApp('sqlite');
    cleanup.push(() => t.close());
    const size = 40 * 1024 * 1024;
    const log = path.join(t.dir, 'big.log');
    const out = createWriteStream(log);
    const hash = createHash('sha256');
    const line = Buffer.from('2026-12-06T05:00:00Z INFO request completed in 12 ms with nothing unusual to report\n');
    for (let written = 0; written < size; written += line.length) {
      hash.update(line);
      if (!out.write(line)) await once(out, 'drain');
    }
    await new Promise<void>((resolve) => out.end(() => resolve()));
    const digest = hash.digest('hex');
    const length = (await fs.stat(log)).size;
    // Put in place as an upload would (the upload's own memory is measured in attachment.routes.test.ts).
    const source = deskOf(t);
    const staged = source.store.stage();
    await fs.copyFile(log, staged.path);
    await source.store.commit(staged.path, digest);
    const id = '01934e7a-0000-7000-8000-0000000000aa';
    const now = new Date().toISOString();
    await t.db.insertInto('uploads').values({ id, tenant_id: alice.org as string, uploader_id: alice.id, filename: 'big.log', content_type: 'text/plain', size: length, sha256: digest, created_at: now, expires_at: new Date(Date.now() + HOUR).toISOString() }).execute();
    await createTicketAs(t, alice, { attachments: [id] });
    // Into the filesystem store: what is measured is the transfer's own memory (the database
    // store's writes are measured with the upload, in attachment.routes.test.ts).
    const target = await emptyDb(dialects().includes('postgres') ? 'postgres' : 'sqlite');
    const file = path.join(t.dir, 'export.ndjson');

    // What the process holds: its JavaScript heap and its buffers still in use, and its RSS.
    // Holding the file whole would be 40 MB of buffers alone. A sample more than 16 MB above idle
    // is taken again after a collection: how soon garbage is collected differs between Node.js
    // lines (24 leaves tens of MB of it), and what a collection frees was never held. (Collecting
    // before every sample made the transfer crawl on a busy machine.)
    v8.setFlagsFromString('--expose-gc');
    const collect = runInNewContext('gc') as () => void;
    const read = () => {
      const { heapUsed, arrayBuffers, rss } = process.memoryUsage();
      return { bytes: heapUsed + arrayBuffers, rss };
    };
    collect();
    const idle = read();
    const held = () => {
      const now = read();
      if (now.bytes - idle.bytes <= 16 * 1024 * 1024) return now;
      collect();
      return read();
    };
    const peak = { ...idle };
    const sampler = setInterval(() => {
      const now = held();
      peak.bytes = Math.max(peak.bytes, now.bytes);
      peak.rss = Math.max(peak.rss, now.rss);
    }, 20);
    try {
      const sink = createWriteStream(file);
      await exportDatabase(t.db, source.store, async (text) => {
        if (!sink.write(`${text}\n`)) await once(sink, 'drain');
      });
      await new Promise<void>((resolve) => sink.end(() => resolve()));
      expect(await importDatabase(target.db, target.store, linesOf(createReadStream(file)))).toMatchObject({ uploads: 1, files: 1 });
    } finally {
      clearInterval(sampler);
    }
    const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);
    process.stdout.write(
      `40 MB attachment through export and import (${target.dialect}): heap and buffers at most ${mb(peak.bytes - idle.bytes)} MB above idle, RSS ${mb(peak.rss - idle.rss)} MB\n`,
    );
    expect(peak.bytes - idle.bytes).toBeLessThan(0.8 * size);
    expect(peak.rss - idle.rss).toBeLessThan(64 * 1024 * 1024);
    const copied = createHash('sha256');
    let copiedBytes = 0;
    for await (const chunk of (await target.store.read(digest)) ?? []) {
      copied.update(chunk as Buffer);
      copiedBytes += (chunk as Buffer).length;
    }
    expect({ digest: copied.digest('hex'), size: copiedBytes }).toEqual({ digest, size: length });
  });

  it('refuses files that do not add up, naming the line, and writes nothing', async () => {
    const lines = await exportLines(deskOf(desk));
    const parsed = lines.map((line) => JSON.parse(line));
    const blobLines = (bytes: Buffer) => parsed.flatMap((p, i) => (p.blob === sha256(bytes) ? [i] : []));
    const rowIndex = (table: string, match: (row: Record<string, unknown>) => boolean) => parsed.findIndex((p) => p.table === table && match(p.row));
    const edit = (index: number, change: (p: Record<string, unknown>) => Record<string, unknown>) => lines.map((line, i) => (i === index ? JSON.stringify(change(parsed[i])) : line));
    const without = (indexes: number[]) => lines.filter((_, i) => !indexes.includes(i));
    const csv = attached[2]?.bytes as Buffer;
    const csvLine = blobLines(csv)[0] as number;
    const bigLines = blobLines(attached[1]?.bytes as Buffer);
    const html = Buffer.from('<html><script>alert(1)</script></html>');
    const noteAttachment = rowIndex('ticket_attachments', (row) => row.upload_id === attached[4]?.id);
    const cases: Array<[string, string[], RegExp]> = [
      ['bytes changed', edit(csvLine, (p) => ({ ...p, data: Buffer.from('date,amount\n2026-12-01,99\n').toString('base64') })), /line \d+: blob [0-9a-f]{64} does not hold the bytes it names/],
      ['a file left out', without(blobLines(csv)), /upload [0-9a-f-]+: its file \(blob [0-9a-f]{64}\) is not in the export/],
      ['a file cut short', without([bigLines[3] as number]), new RegExp(`line \\d+: blob [0-9a-f]{64} is cut short: ${3 * BLOB_LINE_BYTES} of its 1400000 bytes came`)],
      ['a file cut short at the end', lines.slice(0, bigLines[2]), new RegExp(`blob [0-9a-f]{64} is cut short at the end of the file: ${2 * BLOB_LINE_BYTES} of its 1400000 bytes came`)],
      ['a file twice', [...lines, lines[csvLine] as string], /line \d+: blob [0-9a-f]{64} comes a second time/],
      ['not base64', edit(csvLine, (p) => ({ ...p, data: '<script>' })), /line \d+: not a valid blob line: data must match pattern/],
      ['a type its bytes deny', edit(rowIndex('uploads', (row) => row.filename === 'invoices.csv'), (p) => ({ ...p, row: { ...(p.row as object), content_type: 'image/png' } })), /content_type image\/png where its file is text\/plain/],
      ['a type no upload may have', edit(rowIndex('uploads', (row) => row.filename === 'invoices.csv'), (p) => ({ ...p, row: { ...(p.row as object), content_type: 'text/html' } })), /not a valid uploads row: content_type must be equal to one of the allowed values/],
      [
        'HTML passed off as a file',
        edit(csvLine, () => ({ blob: sha256(html), size: html.length, n: 0, data: html.toString('base64') })).map((line) => line.replaceAll(sha256(csv), sha256(html)).replace(`"size":${csv.length},`, `"size":${html.length},`)),
        /line \d+: blob [0-9a-f]{64} is of a type no upload may have/,
      ],
      ['a note’s file shown to the customer', edit(noteAttachment, (p) => ({ ...p, row: { ...(p.row as object), is_internal: 0 } })), /attachment [0-9a-f-]+ does not match its comment/],
      ['a path for a name', edit(rowIndex('uploads', (row) => row.filename === 'invoices.csv'), (p) => ({ ...p, row: { ...(p.row as object), filename: '../../etc/passwd' } })), /line \d+: not a valid uploads row: filename is not one an upload keeps/],
    ];
    for (const store of ['filesystem', 'database'] as const) {
      const target = await emptyDb('sqlite', store);
      for (const [what, file, message] of cases) await expect(importInto(target, file), what).rejects.toThrow(message);
      expect(rowsOf(await exportLines(target))).toEqual([]);
      expect(await target.db.selectFrom('attachment_chunks').select('n').execute()).toEqual([]);
      // No half-received file is left staged.
      expect(await fs.readdir(path.join(target.dir, 'attachments', 'staging'))).toEqual([]);
      expect(await importInto(target, lines)).toMatchObject({ uploads: 7, files: 6 });
    }
  });

  it('works as CLI commands, from the filesystem store to the database store', { timeout: 60_000 }, async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'helpdesk-transfer-cli-'));
    cleanup.push(() => fs.rm(dir, { recursive: true, force: true }));
    const file = path.join(dir, 'export.ndjson');
    const exported = await runCli(['export', '--out', file], cliEnv({ HELPDESK_DATA_DIR: desk.dir, DATABASE_URL: `sqlite:${path.join(desk.dir, 'helpdesk.db')}` }));
    expect(exported.stderr).toContain('"uploads":7,"ticket_attachments":6,"files":6}');
    const target = await emptyDb(dialects().includes('postgres') ? 'postgres' : 'sqlite', 'database');
    const env = cliEnv({ HELPDESK_DATA_DIR: target.dir, DATABASE_URL: target.url, HELPDESK_ATTACHMENT_STORE: 'database' });
    const imported = await runCli(['import', '--in', file], env);
    expect(imported.stderr).toContain('"uploads":7,"ticket_attachments":6,"files":6}');
    for (const { id, bytes } of attached) {
      const { sha256: hash } = await target.db.selectFrom('uploads').select('sha256').where('id', '=', id).executeTakeFirstOrThrow();
      const chunks: Buffer[] = [];
      for await (const chunk of (await target.store.read(hash)) ?? []) chunks.push(chunk as Buffer);
      expect(Buffer.concat(chunks).equals(bytes)).toBe(true);
    }
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
