import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { alice, buildTestApp, createTicketAs, setTicket, TICKETS, type TestApp } from '../../test/helpers.js';
import { committingAlone, createDb, durable } from './database.js';
import { GroupCommit, LogFile } from './group-commit.js';

/** A disk whose flushes finish only when the test says so. */
function manualDisk() {
  const pending: Array<{ resolve: () => void; reject: (error: Error) => void }> = [];
  return {
    flushes: () => pending.length,
    flush: () => new Promise<void>((resolve, reject) => pending.push({ resolve, reject })),
    finish: (n: number) => pending[n]?.resolve(),
    fail: (n: number) => pending[n]?.reject(new Error('EIO')),
  };
}

const settled = async (promise: Promise<unknown> | undefined) => {
  let done = false;
  void promise?.then(
    () => (done = true),
    () => (done = true),
  );
  await new Promise((r) => setImmediate(r));
  return done;
};

describe('group commit', () => {
  it('holds a commit until a flush that began after it ends, and lets later commits share one flush', async () => {
    const disk = manualDisk();
    const group = new GroupCommit(disk.flush);
    expect(group.durable()).toBeUndefined();

    group.committed();
    const first = group.durable();
    expect(disk.flushes()).toBe(1);
    // Two more commits while the first flush runs: it may not cover them.
    group.committed();
    const second = group.durable();
    group.committed();
    const third = group.durable();
    expect(disk.flushes()).toBe(1);

    disk.finish(0);
    expect(await settled(first)).toBe(true);
    expect(await settled(second)).toBe(false);
    expect(disk.flushes()).toBe(2); // one flush for both
    disk.finish(1);
    expect(await settled(second)).toBe(true);
    expect(await settled(third)).toBe(true);
    expect(group.durable()).toBeUndefined();
  });

  it('reports a failed flush to everyone waiting and tries again for the next', async () => {
    const disk = manualDisk();
    const group = new GroupCommit(disk.flush);
    group.committed();
    const waiting = group.durable();
    disk.fail(0);
    await expect(waiting).rejects.toThrow('EIO');

    const retry = group.durable();
    expect(retry).toBeDefined();
    disk.finish(1);
    await expect(retry).resolves.toBeUndefined();
  });
});

describe('sqlite: the server answers a write only once it is on disk', () => {
  let t: TestApp;
  afterEach(async () => t.close());

  it('leaves nothing unflushed behind a 201, a 200 or a read', async () => {
    t = await buildTestApp('sqlite');
    const { ticket_id: id } = await createTicketAs(t, alice);
    expect(durable(t.db)).toBeUndefined();
    const res = await t.as(alice, { method: 'POST', url: `${TICKETS}/${id}/close` });
    expect(res.statusCode).toBe(200);
    expect(durable(t.db)).toBeUndefined();

    // A commit the server did not make (no response waited for it) is still pending, so the
    // check above could have failed; the next response flushes it too.
    await setTicket(t.db, id, { title: 'renamed', version: 99 });
    expect(durable(t.db)).toBeDefined();
    expect((await t.as(alice, { url: `${TICKETS}/${id}` })).json().ticket.title).toBe('renamed');
    expect(durable(t.db)).toBeUndefined();
  });
});

describe('sqlite: transactions batched into one commit', () => {
  it('keeps each transaction atomic: a failed one leaves the others of its batch whole', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'helpdesk-batch-'));
    const config = { kind: 'sqlite' as const, path: path.join(dir, 'helpdesk.db') };
    const db = createDb(config, { groupCommit: true });
    const reader = createDb(config);
    try {
      await sql`create table notes (id integer primary key, body text not null)`.execute(db);
      const insert = (trx: typeof db, body: string) => sql`insert into notes (body) values (${body})`.execute(trx);
      // Three transactions in one turn: the middle one fails after writing.
      const results = await Promise.allSettled([
        db.transaction().execute(async (trx) => insert(trx, 'first')),
        db.transaction().execute(async (trx) => {
          await insert(trx, 'doomed');
          throw new Error('rolled back');
        }),
        db.transaction().execute(async (trx) => insert(trx, 'third')),
      ]);
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
      await durable(db);
      // Another connection sees the batch committed, without the failed transaction's row.
      const { rows } = await sql<{ body: string }>`select body from notes order by id`.execute(reader);
      expect(rows.map((r) => r.body)).toEqual(['first', 'third']);
    } finally {
      await reader.destroy();
      await db.destroy();
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  it('commits writes made outside a transaction with the batch, not one by one', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'helpdesk-batch-'));
    const config = { kind: 'sqlite' as const, path: path.join(dir, 'helpdesk.db') };
    const db = createDb(config, { groupCommit: true });
    const reader = createDb(config);
    // Pages in the log: run from the other connection, a checkpoint reports them.
    const logPages = async (mode: 'PASSIVE' | 'TRUNCATE') => {
      const { rows } = await sql.raw<{ busy: number; log: number }>(`pragma wal_checkpoint(${mode})`).execute(reader);
      return rows[0] as { busy: number; log: number };
    };
    try {
      await sql`create table notes (id integer primary key, body text not null)`.execute(db);
      await durable(db);
      // An empty log (the server's checkpoint thread may hold it for a moment).
      while ((await logPages('TRUNCATE')).busy) await new Promise((r) => setTimeout(r, 10));
      // Twenty lone inserts in one turn, as twenty requests would make them.
      await Promise.all(Array.from({ length: 20 }, (_, i) => sql`insert into notes (body) values (${`note ${i}`})`.execute(db)));
      await durable(db);
      const { rows } = await sql<{ n: number }>`select count(*) as n from notes`.execute(reader);
      expect(rows[0]?.n).toBe(20);
      // One commit writes the table's page to the log once; twenty commits would write it twenty
      // times.
      expect((await logPages('PASSIVE')).log).toBeLessThanOrEqual(2);

      // A lone write that fails in the batch leaves the others of its turn whole.
      const results = await Promise.allSettled([
        sql`insert into notes (body) values ('kept')`.execute(db),
        sql`insert into notes (body) values (${null})`.execute(db),
        sql`insert into notes (body) values ('kept too')`.execute(db),
      ]);
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
      await durable(db);
      const kept = await sql<{ body: string }>`select body from notes where id > 20 order by id`.execute(reader);
      expect(kept.rows.map((r) => r.body)).toEqual(['kept', 'kept too']);

      // Migrations get SQLite's default back: each statement commits alone, so one that
      // cannot run inside a transaction runs (it would fail inside a batch).
      await expect(committingAlone(db, () => sql`vacuum`.execute(db))).resolves.toBeDefined();
      await committingAlone(db, () => sql`insert into notes (body) values ('migrated')`.execute(db));
      const migrated = await sql<{ n: number }>`select count(*) as n from notes where body = 'migrated'`.execute(reader);
      expect(migrated.rows[0]?.n).toBe(1);
    } finally {
      await reader.destroy();
      await db.destroy();
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});

describe('sqlite: the log flushed through one descriptor', () => {
  /** This process's open descriptors on `file`. */
  const descriptorsOn = async (file: string) => {
    const links = await Promise.all((await fs.readdir('/proc/self/fd')).map((fd) => fs.readlink(`/proc/self/fd/${fd}`).catch(() => '')));
    return links.filter((link) => link === file).length;
  };

  it.runIf(process.platform === 'linux')('opens the log once, waits for it to exist, and lets it go on close', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'helpdesk-log-'));
    const file = path.join(dir, 'helpdesk.db-wal');
    const log = new LogFile(file);
    try {
      await log.sync(); // no log yet: nothing to flush
      expect(await descriptorsOn(file)).toBe(0);
      await fs.writeFile(file, 'frames');
      await Promise.all([log.sync(), log.sync()]);
      await log.sync();
      expect(await descriptorsOn(file)).toBe(1);
      await log.close();
      expect(await descriptorsOn(file)).toBe(0);
      await log.sync(); // after the connection closed: nothing to do, nothing reopened
      expect(await descriptorsOn(file)).toBe(0);
    } finally {
      await log.close();
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
