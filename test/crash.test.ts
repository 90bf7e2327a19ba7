import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { createDb, type Db } from '../src/db/database.js';
import { createPostgresDatabase, dialects } from './dialects.js';
import { loadOrCreateDevKeys, signDevToken } from '../src/http/dev-keys.js';
import { cliEnv, startServer, type ServerProcess } from './processes.js';

// Per database. CI runs about three minutes of it (see docs/SECURITY.md).
const CI_ROUNDS = 12;
const ROUNDS = Number(process.env.CRASH_ROUNDS ?? (process.env.CI ? CI_ROUNDS : 3));
const CLIENTS = 8;

interface Ledger {
  sent: Set<string>; // every marker ever sent, acknowledged or not
  acked: Set<string>; // markers of writes that got a 2xx
  closedAcked: Set<string>; // ticket markers whose close got a 200
}

/**
 * One client's loop until the server dies: create a ticket, comment on it a few times, sometimes
 * close it. Every body carries a marker, so what reached the database can be traced back.
 */
async function client(url: string, token: string, round: number, id: number, ledger: Ledger, stop: { now: boolean }) {
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const post = async (pathname: string, body: unknown) => {
    try {
      const res = await fetch(`${url}${pathname}`, { method: 'POST', headers, body: body === undefined ? null : JSON.stringify(body) });
      return { status: res.status, json: (await res.json()) as Record<string, unknown> };
    } catch {
      return { status: 0, json: {} }; // the server died mid-request: indeterminate
    }
  };
  for (let n = 0; !stop.now; n++) {
    const marker = `crash-r${round}-c${id}-t${n}`;
    ledger.sent.add(marker);
    const created = await post('/api/v1/support/tickets', { title: marker, description: 'durability probe', type: 'bug' });
    if (created.status !== 201) return;
    ledger.acked.add(marker);
    const ticketId = created.json.ticket_id as string;
    for (let m = 0; m < 3 && !stop.now; m++) {
      const comment = `${marker}-m${m}`;
      ledger.sent.add(comment);
      const res = await post(`/api/v1/support/tickets/${ticketId}/comments`, { content: comment });
      if (res.status !== 201) return;
      ledger.acked.add(comment);
    }
    if (n % 2 === 0 && !stop.now) {
      const res = await post(`/api/v1/support/tickets/${ticketId}/close`, undefined);
      if (res.status === 200) ledger.closedAcked.add(marker);
      else if (res.status !== 0) return;
    }
  }
}

/** Everything the database holds, checked against what clients sent and were told. */
async function verify(db: Db, ledger: Ledger) {
  const tickets = await db.selectFrom('tickets').select(['id', 'title', 'status', 'comment_count', 'resolved_at']).execute();
  const comments = await db.selectFrom('ticket_comments').select(['ticket_id', 'content']).execute();
  const history = await db.selectFrom('ticket_history').select(['ticket_id', 'field_changed', 'old_value', 'new_value']).execute();

  const present = new Set([...tickets.map((t) => t.title), ...comments.map((c) => c.content)]);
  for (const marker of ledger.acked) expect(present.has(marker), `acknowledged write ${marker} is missing`).toBe(true);
  for (const marker of present) expect(ledger.sent.has(marker), `${marker} was never sent`).toBe(true);

  for (const ticket of tickets) {
    const own = comments.filter((c) => c.ticket_id === ticket.id);
    expect(ticket.comment_count, `${ticket.title} comment_count`).toBe(own.length);
    for (const comment of own) expect(comment.content.startsWith(`${ticket.title}-m`)).toBe(true);
    const closes = history.filter((h) => h.ticket_id === ticket.id);
    if (ticket.status === 'closed') {
      expect(closes).toEqual([{ ticket_id: ticket.id, field_changed: 'status', old_value: 'open', new_value: 'closed' }]);
      expect(ticket.resolved_at).not.toBeNull();
    } else {
      expect(ticket.status).toBe('open');
      expect(closes).toEqual([]);
      expect(ledger.closedAcked.has(ticket.title), `${ticket.title} was closed (200) but is open`).toBe(false);
    }
  }
  return { tickets: tickets.length, comments: comments.length };
}

describe.each(dialects())('%s: crash durability', (dialect) => {
  let dir: string;
  let server: ServerProcess | undefined;
  let drop: (() => Promise<void>) | undefined;
  afterEach(async () => {
    server?.child.kill('SIGKILL');
    await drop?.();
    await fs.rm(dir, { recursive: true, force: true });
  });

  // A round is a start (a few seconds), up to 1.2 s of load, a kill; then one more start and the checks.
  it(`keeps every acknowledged write through ${ROUNDS} kill -9 rounds`, { timeout: 60_000 + ROUNDS * 20_000 }, async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'helpdesk-crash-'));
    let databaseUrl = `sqlite:${path.join(dir, 'helpdesk.db')}`;
    if (dialect === 'postgres') ({ url: databaseUrl, drop } = await createPostgresDatabase());
    const env = cliEnv({ HELPDESK_DATA_DIR: dir, DATABASE_URL: databaseUrl, HELPDESK_RATE_LIMIT: '0' });
    const ledger: Ledger = { sent: new Set(), acked: new Set(), closedAcked: new Set() };
    // Minted in-process with the same development key the server will load from the data directory.
    const keys = await loadOrCreateDevKeys(dir);
    const tokens = await Promise.all(Array.from({ length: CLIENTS }, (_, i) => signDevToken(keys, { userId: `user_${i}`, email: `u${i}@crash.test` })));

    for (let round = 0; round < ROUNDS; round++) {
      server = await startServer(env);
      const stop = { now: false };
      const clients = tokens.map((token, i) => client((server as ServerProcess).url, token, round, i, ledger, stop));
      // Kill at a random moment once the round has done real work (a busy machine is slower).
      const before = ledger.acked.size;
      const deadline = Date.now() + 30_000;
      while (ledger.acked.size < before + CLIENTS) {
        if (Date.now() > deadline) throw new Error(`round ${round}: only ${ledger.acked.size - before} writes acknowledged in 30 s`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 800));
      if (dialect === 'postgres' && round === ROUNDS - 1) {
        // The database side fails instead: every backend of this database is killed mid-load.
        const admin = new pg.Client({ connectionString: databaseUrl });
        await admin.connect();
        await admin.query('select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()');
        await admin.end();
        await new Promise((resolve) => setTimeout(resolve, 300));
      }
      server.child.kill('SIGKILL');
      stop.now = true;
      await Promise.all(clients);
      server = undefined;
    }

    // Restart once more: the server recovers and serves, then the data is checked directly.
    server = await startServer(env);
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
    const db = createDb(dialect === 'postgres' ? { kind: 'postgres', url: databaseUrl, poolSize: 2 } : { kind: 'sqlite', path: databaseUrl.slice(7) });
    try {
      const counts = await verify(db, ledger);
      expect(counts.tickets).toBeGreaterThanOrEqual(CLIENTS);
      process.stdout.write(
        `crash durability (${dialect}): ${ROUNDS} rounds, ${ledger.sent.size} writes sent, ${ledger.acked.size} acknowledged, ` +
          `${counts.tickets} tickets and ${counts.comments} comments found, all acknowledged writes present\n`,
      );
    } finally {
      await db.destroy();
    }
    if (dialect === 'sqlite') {
      const file = new SQLite(databaseUrl.slice(7), { readonly: true });
      expect(file.pragma('integrity_check', { simple: true })).toBe('ok');
      file.close();
    }
  });
});
