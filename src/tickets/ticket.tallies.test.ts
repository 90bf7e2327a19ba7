import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { alice, bob, buildTestApp, carol, createTicketAs, expectTalliesExact, sam, TICKETS, type TestApp, type TestUser } from '../../test/helpers.js';
import { dialects } from '../../test/dialects.js';
import { ownerKey, ownerVersions } from './ticket.repository.js';
import { TICKET_PRIORITIES, TICKET_STATUSES, TICKET_TYPES } from './ticket.table.js';

const ADMIN = '/api/v1/admin/support/tickets';

describe.each(dialects())('%s: exact totals from maintained tallies', (dialect) => {
  let t: TestApp;
  beforeEach(async () => {
    t = await buildTestApp(dialect, { HELPDESK_RATE_LIMIT: '0' });
    await t.as(sam, { url: '/api/v1/admin/support/agents' });
  });
  afterEach(async () => {
    await t.close();
  });

  const send = async (user: TestUser, method: string, url: string, payload?: unknown) => {
    const res = await t.as(user, { method, url, payload });
    if (res.statusCode >= 300) throw new Error(`${method} ${url}: ${res.statusCode} ${res.body}`);
    return res.json();
  };

  /** A desk where every kind of write has happened: triage, assignment, closing, reopening. */
  async function busyDesk(): Promise<void> {
    const users = [alice, bob, carol];
    for (let i = 0; i < 18; i++) {
      const user = users[i % 3] as TestUser;
      const { ticket_id: id } = await createTicketAs(t, user, { type: TICKET_TYPES[i % TICKET_TYPES.length] });
      if (i % 2 === 0) await send(sam, 'PATCH', `${ADMIN}/${id}`, { priority: TICKET_PRIORITIES[i % 4], assigned_to: sam.id });
      if (i % 3 === 0) await send(sam, 'PATCH', `${ADMIN}/${id}`, { status: 'resolved', type: 'bug' });
      if (i % 6 === 0) await send(user, 'POST', `${TICKETS}/${id}/comments`, { content: 'not fixed' }); // reopens
      if (i % 4 === 1) await send(user, 'POST', `${TICKETS}/${id}/close`);
      if (i % 5 === 0) await send(sam, 'PATCH', `${ADMIN}/${id}`, { assigned_to: null, status: 'in_progress' });
    }
  }

  it('reads owners\' change counters by key, each owner once however often asked for, and none for an owner without tickets', async () => {
    await busyDesk();
    const owners = await t.db.selectFrom('tickets').select(['tenant_id', 'created_by']).distinct().orderBy('created_by').execute();
    const keys = owners.map((owner) => ownerKey({ tenantId: owner.tenant_id, userId: owner.created_by }));
    expect(keys).toHaveLength(3);
    const alone = new Map<string, string>();
    for (const key of keys) for (const [k, version] of await ownerVersions(t.db, [key])) alone.set(k, version);
    expect(alone.size).toBe(3);
    const nobody = ownerKey({ tenantId: 'org_acme', userId: 'user_nobody' });
    const together = await ownerVersions(t.db, [keys[0], keys[1], keys[0], nobody, keys[2], keys[0]] as string[]);
    expect(together).toEqual(alone);
  });

  it('gives every staff filter and every customer filter the total a count of the rows gives', async () => {
    await busyDesk();
    const count = async (where: Record<string, string | null>) => {
      let query = t.db.selectFrom('tickets').select(sql<number | string>`count(*)`.as('n'));
      for (const [column, value] of Object.entries(where)) {
        query = value === null ? query.where(column as 'status', 'is', null) : query.where(column as 'status', '=', value as 'open');
      }
      return Number((await query.executeTakeFirstOrThrow()).n);
    };
    const staffFilters: Array<[string, Record<string, string | null>]> = [
      ['', {}],
      ['assigned_to=none', { assigned_to: null }],
      [`assigned_to=${sam.id}`, { assigned_to: sam.id }],
      ['tenant_id=org_acme', { tenant_id: 'org_acme' }],
      ['tenant_id=org_acme&assigned_to=none&status=open', { tenant_id: 'org_acme', assigned_to: null, status: 'open' }],
      ['created_by=user_bob&tenant_id=org_acme&status=closed', { created_by: bob.id, tenant_id: 'org_acme', status: 'closed' }],
      ['created_by=user_carol&priority=high', { created_by: carol.id, priority: 'high' }], // no tally covers it: rows are counted
      ...TICKET_STATUSES.map((s): [string, Record<string, string>] => [`status=${s}`, { status: s }]),
      ...TICKET_PRIORITIES.map((p): [string, Record<string, string>] => [`priority=${p}&status=open`, { priority: p, status: 'open' }]),
      ...TICKET_TYPES.map((y): [string, Record<string, string>] => [`type=${y}`, { type: y }]),
    ];
    for (const [query, where] of staffFilters) {
      const page = await send(sam, 'GET', `${ADMIN}?${query}`);
      expect([query, page.total]).toEqual([query, await count(where)]);
    }
    for (const user of [alice, bob, carol]) {
      const own = { tenant_id: user.org as string, created_by: user.id };
      for (const status of TICKET_STATUSES) {
        const page = await send(user, 'GET', `${TICKETS}?status=${status}`);
        expect([user.id, status, page.total]).toEqual([user.id, status, await count({ ...own, status })]);
      }
      expect((await send(user, 'GET', `${TICKETS}?type=bug`)).total).toBe(await count({ ...own, type: 'bug' }));
      expect((await send(user, 'GET', TICKETS)).total).toBe(await count(own));
    }
    const stats = await send(sam, 'GET', '/api/v1/admin/support/stats');
    for (const status of TICKET_STATUSES) expect(stats.by_status[status]).toBe(await count({ status }));
  });

  it('notices a tally that drifted from the rows (the check every test app runs on close)', async () => {
    await busyDesk();
    await expectTalliesExact(t.db);
    await t.db.updateTable('tenant_ticket_tallies').set({ n: sql`n + 1` }).where('tenant_id', '=', 'org_acme').where('status', '=', 'open').execute();
    await expect(expectTalliesExact(t.db)).rejects.toThrow(/drifted/);
    await t.db.updateTable('tenant_ticket_tallies').set({ n: sql`n - 1` }).where('tenant_id', '=', 'org_acme').where('status', '=', 'open').execute();
  });
});
