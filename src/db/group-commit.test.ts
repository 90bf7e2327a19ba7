import { afterEach, describe, expect, it } from 'vitest';
import { alice, buildTestApp, createTicketAs, setTicket, TICKETS, type TestApp } from '../../test/helpers.js';
import { durable } from './database.js';
import { GroupCommit } from './group-commit.js';

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
