import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_AUTOCHECKPOINT_PAGES, startCheckpointer } from './checkpointer.js';

describe('sqlite: checkpoints from a thread of their own', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'helpdesk-checkpoint-'));
  });
  afterEach(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('copies the log into the database file while the writer goes on, without checkpointing on its commits', async () => {
    const file = path.join(dir, 'helpdesk.db');
    const sqlite = new SQLite(file);
    sqlite.pragma('journal_mode = WAL');
    const checkpointer = startCheckpointer(sqlite, file, { everyMs: 20, backstopPages: 10_000 });
    try {
      expect(sqlite.pragma('wal_autocheckpoint', { simple: true })).toBe(10_000);
      sqlite.exec('create table blobs (id integer primary key, body blob not null)');
      // 8 MB: some 2,000 pages in the log, under the writer's own threshold of 10,000. Only
      // the thread's checkpoints can bring them into the database file.
      const insert = sqlite.prepare('insert into blobs (body) values (?)');
      sqlite.transaction(() => {
        for (let i = 0; i < 128; i++) insert.run(Buffer.alloc(64 * 1024, i));
      })();
      await vi.waitFor(async () => expect((await fs.stat(file)).size).toBeGreaterThan(8 * 1024 * 1024), { timeout: 10_000, interval: 50 });
      // What was copied is what was written: a second connection reading the file agrees.
      const reader = new SQLite(file, { readonly: true });
      try {
        expect(reader.prepare('select count(*) as n, sum(length(body)) as bytes from blobs').get()).toEqual({ n: 128, bytes: 8 * 1024 * 1024 });
      } finally {
        reader.close();
      }
    } finally {
      await checkpointer.stop();
      sqlite.close();
    }
  });

  it("gives the checkpoints back to the writer's connection when the thread cannot run them", async () => {
    const pragmas: string[] = [];
    const sqlite = { open: true, pragma: (source: string) => pragmas.push(source) };
    // No database at that path: the thread's connection fails to open.
    const checkpointer = startCheckpointer(sqlite, path.join(dir, 'missing', 'helpdesk.db'), { backstopPages: 10_000 });
    expect(pragmas).toEqual(['wal_autocheckpoint = 10000']);
    await vi.waitFor(() => expect(pragmas).toEqual(['wal_autocheckpoint = 10000', `wal_autocheckpoint = ${DEFAULT_AUTOCHECKPOINT_PAGES}`]), {
      timeout: 10_000,
      interval: 20,
    });
    await checkpointer.stop();
  });
});
