import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrationNames } from '../src/db/migrator.js';
import { createPostgresDatabase, dialects } from './dialects.js';
import { cliEnv, devToken, startServer, type ServerProcess } from './processes.js';

// Two real server processes on one PostgreSQL database, as behind a load balancer.
describe.runIf(dialects().includes('postgres'))('postgres: two instances on one database', () => {
  let dir: string;
  let database: { url: string; drop: () => Promise<void> };
  let servers: ServerProcess[] = [];
  let customer: string;
  let staff: string;

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'helpdesk-multi-'));
    database = await createPostgresDatabase();
    const env = cliEnv({ HELPDESK_DATA_DIR: dir, DATABASE_URL: database.url, DATABASE_POOL_SIZE: '5' });
    // Started together on an empty database: both run the migrations at once.
    servers = await Promise.all([startServer(env), startServer(env)]);
    customer = await devToken(env, { id: 'user_c', email: 'c@acme.test', org: 'org_acme' });
    staff = await devToken(env, { id: 'user_s', email: 's@desk.test', staff: true });
  });
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop('SIGKILL')));
    await database.drop();
    await fs.rm(dir, { recursive: true, force: true });
  });

  /** Sends a request to instance i (alternating when i is a counter). */
  async function call(i: number, method: string, url: string, token: string, body?: unknown) {
    const server = servers[i % servers.length] as ServerProcess;
    const res = await fetch(`${server.url}${url}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : null,
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  const newTicket = async (i: number) =>
    (await call(i, 'POST', '/api/v1/support/tickets', customer, { title: `t${i}`, description: 'd', type: 'bug' })).body.ticket_id as string;

  it('ran the migrations exactly once', async () => {
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    const { rows } = await client.query('select name from kysely_migration order by name');
    await client.end();
    expect(rows.map((r) => r.name)).toEqual(migrationNames('postgres'));
    for (const server of servers) expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
  });

  it('counts concurrent comments through both instances exactly', async () => {
    const id = await newTicket(0);
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        i % 4 === 3
          ? call(i, 'POST', `/api/v1/admin/support/tickets/${id}/comments`, staff, { content: `note ${i}`, is_internal: true })
          : call(i, 'POST', `/api/v1/support/tickets/${id}/comments`, customer, { content: `comment ${i}` }),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(Array(40).fill(201));
    for (const i of [0, 1]) {
      const detail = (await call(i, 'GET', `/api/v1/support/tickets/${id}`, customer)).body.ticket as { comment_count: number; comments: unknown[] };
      expect([detail.comment_count, detail.comments.length]).toEqual([30, 30]);
      const staffView = (await call(i, 'GET', `/api/v1/admin/support/tickets/${id}`, staff)).body.ticket as { comment_count: number };
      expect(staffView.comment_count).toBe(40);
    }
  });

  it('keeps one history row per concurrent change made through either instance', async () => {
    await call(0, 'GET', '/api/v1/admin/support/agents', staff); // makes the staff user assignable
    const ids = await Promise.all([0, 1, 2, 3, 4].map(newTicket));
    const changes = [{ status: 'in_progress' }, { priority: 'urgent' }, { type: 'billing' }, { assigned_to: 'user_s' }];
    const results = await Promise.all(
      ids.flatMap((id, t) => changes.map((change, c) => call(t + c, 'PATCH', `/api/v1/admin/support/tickets/${id}`, staff, change))),
    );
    expect(results.every((r) => r.status === 200)).toBe(true);
    for (const id of ids) {
      const { ticket, history } = (await call(1, 'GET', `/api/v1/admin/support/tickets/${id}`, staff)).body as {
        ticket: Record<string, unknown>;
        history: Array<{ field_changed: string; new_value: string }>;
      };
      expect(ticket).toMatchObject({ status: 'in_progress', priority: 'urgent', type: 'billing', assigned_to: 'user_s' });
      expect(history.map((h) => `${h.field_changed}=${h.new_value}`).sort()).toEqual(
        ['assigned_to=user_s', 'priority=urgent', 'status=in_progress', 'type=billing'],
      );
    }
  });

  it('lets exactly one of two concurrent closes through different instances win', async () => {
    for (let round = 0; round < 5; round++) {
      const id = await newTicket(round);
      const results = await Promise.all([0, 1].map((i) => call(i, 'POST', `/api/v1/support/tickets/${id}/close`, customer)));
      expect(results.map((r) => r.status).sort()).toEqual([200, 409]);
      const { history } = (await call(round, 'GET', `/api/v1/support/tickets/${id}`, customer)).body as { history: unknown[] };
      expect(history).toHaveLength(1);
    }
  });
});
