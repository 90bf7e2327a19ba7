import type { ChildProcess } from 'node:child_process';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateToLatest } from '../src/db/migrator.js';
import { seedDatabase, seedInterrupted } from '../src/desk/seed.js';
import { dialects } from './dialects.js';
import { alice, buildTestApp, createTicketAs, sam, type TestApp } from './helpers.js';
import { cliEnv, runCli, spawnCli, startServer } from './processes.js';

describe.each(dialects())('%s: helpdesk seed', (dialect) => {
  let t: TestApp;
  let counts: Awaited<ReturnType<typeof seedDatabase>>;
  beforeAll(async () => {
    t = await buildTestApp(dialect, { HELPDESK_RATE_LIMIT: '0' });
    counts = await seedDatabase(t.db, dialect, { tickets: 2000, tenants: 20, commentsPerTicket: 2, seed: 7 });
  });
  afterAll(async () => {
    await t.close();
  });

  it('writes a skewed, mixed desk whose counters and history agree with its rows', async () => {
    expect(counts.tickets).toBe(2000);
    const tickets = await t.db.selectFrom('tickets').selectAll().execute();
    const comments = await t.db.selectFrom('ticket_comments').select(['ticket_id', 'is_internal', 'author_type']).execute();
    expect(tickets).toHaveLength(2000);
    const biggest = tickets.filter((x) => x.tenant_id === 'seed_org_00000').length / tickets.length;
    expect(biggest).toBeGreaterThan(0.15);
    expect(biggest).toBeLessThan(0.25);
    expect(new Set(tickets.map((x) => x.status))).toEqual(new Set(['open', 'in_progress', 'resolved', 'closed']));
    expect(new Set(tickets.map((x) => x.priority))).toEqual(new Set(['low', 'normal', 'high', 'urgent']));
    expect(comments.some((c) => c.is_internal === 1)).toBe(true);
    const byTicket = new Map<string, { public: number; internal: number }>();
    for (const c of comments) {
      const entry = byTicket.get(c.ticket_id) ?? { public: 0, internal: 0 };
      if (c.is_internal) entry.internal++;
      else entry.public++;
      byTicket.set(c.ticket_id, entry);
    }
    for (const ticket of tickets) {
      const own = byTicket.get(ticket.id) ?? { public: 0, internal: 0 };
      expect([ticket.comment_count, ticket.internal_comment_count]).toEqual([own.public, own.internal]);
      expect(ticket.resolved_at !== null).toBe(ticket.status === 'resolved' || ticket.status === 'closed');
      expect(ticket.updated_at <= new Date().toISOString()).toBe(true);
    }
  });

  it('gives every row a UUIDv7 id from its own creation time and an ISO timestamp that round-trips', async () => {
    const tickets = await t.db.selectFrom('tickets').select(['id', 'created_at', 'updated_at', 'resolved_at', 'first_response_at']).execute();
    const rows = [
      ...tickets,
      ...(await t.db.selectFrom('ticket_comments').select(['id', 'created_at']).execute()),
      ...(await t.db.selectFrom('ticket_history').select(['id', 'created_at']).execute()),
    ];
    expect(rows.length).toBeGreaterThan(counts.tickets);
    const stamps = [...rows.map((row) => row.created_at), ...tickets.flatMap((x) => [x.updated_at, x.resolved_at ?? x.updated_at, x.first_response_at ?? x.updated_at])];
    for (const at of stamps) expect(new Date(at).toISOString()).toBe(at);
    for (const row of rows) {
      expect(row.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(parseInt(row.id.replace('-', '').slice(0, 12), 16)).toBe(Date.parse(row.created_at));
    }
    expect(new Set(rows.map((row) => row.id)).size).toBe(rows.length);
  });

  it('is usable through the API: a seeded customer sees their tickets, staff can search them', async () => {
    const owner = await t.db.selectFrom('tickets').select(['created_by', 'tenant_id']).limit(1).executeTakeFirstOrThrow();
    const email = (await t.db.selectFrom('users').select('email').where('id', '=', owner.created_by).executeTakeFirstOrThrow()).email;
    const customer = { id: owner.created_by, email, org: owner.tenant_id };
    const mine = (await t.as(customer, { url: '/api/v1/support/tickets' })).json();
    const expected = await t.db.selectFrom('tickets').select('id').where('created_by', '=', owner.created_by).where('tenant_id', '=', owner.tenant_id).execute();
    expect(mine.total).toBe(expected.length);
    const staff = { id: 'seed_staff_0', email: 'agent0@helpdesk.example', role: 'support' };
    const search = (await t.as(staff, { url: '/api/v1/admin/support/tickets?q=invoice&status=open' })).json();
    expect(search.total).toBeGreaterThan(0);
  });

  it('searches the seeded desk exactly: the page and total a brute-force scan of every text gives, again after changes', async () => {
    const staff = { id: 'seed_staff_0', email: 'agent0@helpdesk.example', role: 'support' };
    const read = async () => {
      const tickets = await t.db.selectFrom('tickets').select(['id', 'title', 'description', 'updated_at', 'status']).execute();
      const comments = await t.db.selectFrom('ticket_comments').select(['ticket_id', 'content']).execute();
      const text = new Map(tickets.map((x) => [x.id, `${x.title} ${x.description}`.toLowerCase()]));
      for (const c of comments) text.set(c.ticket_id, `${text.get(c.ticket_id)} ${c.content.toLowerCase()}`);
      const matching = (q: string) => tickets.filter((x) => q.split(' ').every((w) => (text.get(x.id) as string).split(/[^\p{L}\p{N}]+/u).some((token) => token.startsWith(w))));
      return { matching };
    };
    const check = async () => {
      const { matching } = await read();
      // Very common, common and rare words, alone and with a filter, and a page past the end:
      // every way of reading a search page (listQueue, searchPageAndTotal) is used.
      const searches = [['the', '', 20], ['the', '&status=open', 20], ['invoice refund', '', 20], ['invoice refund', '&status=open', 0], ['kalomi', '', 20], ['zzzz', '', 20], ['the', '&status=open', 100_000]] as const;
      for (const [q, extra, offset] of searches) {
        const expected = matching(q)
          .filter((x) => extra === '' || x.status === 'open')
          .sort((a, b) => (a.updated_at === b.updated_at ? (a.id < b.id ? 1 : -1) : a.updated_at < b.updated_at ? 1 : -1));
        const page = (await t.as(staff, { url: `/api/v1/admin/support/tickets?q=${encodeURIComponent(q)}${extra}&offset=${offset}` })).json();
        expect([q, extra, offset, page.total]).toEqual([q, extra, offset, expected.length]);
        expect(page.tickets.map((x: { ticket_id: string }) => x.ticket_id)).toEqual(expected.slice(offset, offset + 20).map((x) => x.id));
      }
    };
    await check();
    // Changes that move the totals: a note with both words on an open ticket that had neither,
    // and an open ticket with `the` closed. Then each search again, now that it has a total.
    const { matching } = await read();
    const refund = new Set(matching('invoice').map((x) => x.id));
    const open = matching('the').filter((x) => x.status === 'open');
    const quiet = open.find((x) => !refund.has(x.id)) as { id: string };
    const closing = open.find((x) => x.id !== quiet.id) as { id: string };
    const note = await t.as(staff, { method: 'POST', url: `/api/v1/admin/support/tickets/${quiet.id}/comments`, payload: { content: 'Invoice refund requested by phone', is_internal: true } });
    expect(note.statusCode).toBe(201);
    const closed = await t.as(staff, { method: 'PATCH', url: `/api/v1/admin/support/tickets/${closing.id}`, payload: { status: 'closed' } });
    expect(closed.statusCode).toBe(200);
    await check();
  });
});

describe.each(dialects())('%s: helpdesk seed beside a running server', (dialect) => {
  let t: TestApp;
  afterAll(async () => {
    await t?.close();
  });

  it('keeps a search exact for a ticket the server changed while the seed was loading', async () => {
    t = await buildTestApp(dialect, { HELPDESK_RATE_LIMIT: '0' });
    const ticket = await createTicketAs(t, alice, { title: 'Zebrafish tank report is empty' });
    const noted = await createTicketAs(t, alice, { title: 'Vendor invoices are late' });
    const search = async (status: string, q = 'zebrafish') =>
      (await t.as(sam, { url: `/api/v1/admin/support/tickets?q=${q}&status=${status}` })).json() as { total: number; tickets: Array<{ ticket_id: string }> };
    let changed = false;
    await seedDatabase(t.db, dialect, { tickets: 300, tenants: 5, commentsPerTicket: 1, seed: 3 }, async () => {
      if (changed) return;
      changed = true;
      // The seed has loaded a batch and still holds the search triggers off (both databases).
      const res = await t.as(sam, { method: 'PATCH', url: `/api/v1/admin/support/tickets/${ticket.ticket_id}`, payload: { status: 'in_progress' } });
      expect(res.statusCode).toBe(200);
      // An internal note does not touch updated_at; its own timestamp (or rowid) must tell.
      const note = await t.as(sam, { method: 'POST', url: `/api/v1/admin/support/tickets/${noted.ticket_id}/comments`, payload: { content: 'Quokka vendor contacted', is_internal: true } });
      expect(note.statusCode).toBe(201);
    });
    expect(changed).toBe(true);
    const now = await search('in_progress');
    expect([now.total, now.tickets.map((x) => x.ticket_id)]).toEqual([1, [ticket.ticket_id]]);
    expect((await search('open')).total).toBe(0);
    const found = await search('open', 'quokka');
    expect([found.total, found.tickets.map((x) => x.ticket_id)]).toEqual([1, [noted.ticket_id]]);
  });
});

describe.each(dialects())('%s: helpdesk seed finishing beside a running server', (dialect) => {
  let t: TestApp;
  afterAll(async () => {
    await t?.close();
  });

  it('keeps a search exact for tickets the server changed, noted or created once the seed had indexed its own', async () => {
    t = await buildTestApp(dialect, { HELPDESK_RATE_LIMIT: '0' });
    let changed: { patched: { id: string; title: string }; noted: string; created: string } | undefined;
    const steps: string[] = [];
    await seedDatabase(
      t.db,
      dialect,
      { tickets: 300, tenants: 5, commentsPerTicket: 1, seed: 4 },
      () => {},
      async (what) => {
        steps.push(what);
        // SQLite: a batch of the search index is committed; PostgreSQL: the bulk of the
        // documents is written. Either way the seed's tickets are indexed, the triggers still off.
        if (changed || !/search (index:|documents written)/.test(what)) return;
        const [patched, noted] = (await sql<{ id: string; title: string }>`select id, title from tickets where status = 'open' order by number desc limit 2`.execute(t.db)).rows;
        if (!patched || !noted) throw new Error('no open seeded tickets');
        const res = await t.as(sam, { method: 'PATCH', url: `/api/v1/admin/support/tickets/${patched.id}`, payload: { status: 'in_progress' } });
        expect(res.statusCode).toBe(200);
        // An internal note leaves updated_at alone: only its rowid (or timestamp) tells.
        const note = await t.as(sam, { method: 'POST', url: `/api/v1/admin/support/tickets/${noted.id}/comments`, payload: { content: 'Axolotl escalation agreed', is_internal: true } });
        expect(note.statusCode).toBe(201);
        const created = await createTicketAs(t, alice, { title: 'Capybara invoices missing' });
        changed = { patched, noted: noted.id, created: created.ticket_id };
      },
    );
    if (!changed) throw new Error(`no step to change the desk at: ${steps.join('; ')}`);
    const search = async (q: string, status = '') =>
      ((await t.as(sam, { url: `/api/v1/admin/support/tickets?q=${q}&limit=100${status && `&status=${status}`}` })).json() as { tickets: Array<{ ticket_id: string }> }).tickets.map((x) => x.ticket_id);
    const number = changed.patched.title.split(' ').pop() as string;
    expect(await search(number, 'in_progress')).toContain(changed.patched.id);
    expect(await search(number, 'open')).not.toContain(changed.patched.id);
    expect(await search('axolotl')).toEqual([changed.noted]);
    expect(await search('capybara')).toEqual([changed.created]);
  });
});

describe.each(dialects())('%s: helpdesk seed killed while it finishes', (dialect) => {
  let t: TestApp;
  afterAll(async () => {
    await t?.close();
  });

  it('is finished by the next seed: every ticket found once, with the changes a server made meanwhile', async () => {
    t = await buildTestApp(dialect, { HELPDESK_RATE_LIMIT: '0' });
    const older = await createTicketAs(t, alice, { title: 'Pangolin webhook retries' });
    // Dies right after a step of its finish has committed: SQLite, the list of documents to index
    // (the indexes built, no document indexed yet); PostgreSQL, the bulk of the documents (the
    // catch-up, the triggers and the recount still to come).
    const dies = dialect === 'sqlite' ? /^search documents listed/ : /^search documents written/;
    const steps: string[] = [];
    await expect(
      seedDatabase(t.db, dialect, { tickets: 400, tenants: 4, commentsPerTicket: 1, seed: 9 }, () => {}, (what) => {
        steps.push(what);
        if (dies.test(what)) throw new Error('killed');
      }),
    ).rejects.toThrow('killed');
    expect(await seedInterrupted(t.db, dialect), steps.join('; ')).toBe(true);
    // Meanwhile a server changes a seeded ticket, an older one, and creates one.
    const [seeded] = (await sql<{ id: string; title: string }>`select id, title from tickets where status = 'open' and title <> 'Pangolin webhook retries' order by number desc limit 1`.execute(t.db)).rows;
    if (!seeded) throw new Error('no open seeded ticket');
    for (const id of [seeded.id, older.ticket_id]) {
      expect((await t.as(sam, { method: 'PATCH', url: `/api/v1/admin/support/tickets/${id}`, payload: { status: 'in_progress' } })).statusCode).toBe(200);
    }
    const created = await createTicketAs(t, alice, { title: 'Quokka invoices missing' });

    await seedDatabase(t.db, dialect, { tickets: 0, tenants: 4, commentsPerTicket: 0, seed: 9 });
    expect(await seedInterrupted(t.db, dialect)).toBe(false);
    const search = async (q: string, status = '') =>
      (await t.as(sam, { url: `/api/v1/admin/support/tickets?q=${q}&limit=100${status && `&status=${status}`}` })).json() as {
        total: number;
        tickets: Array<{ ticket_id: string }>;
      };
    // Seeded titles end in their ticket's number: each is found, once.
    const sample = (await sql<{ id: string; title: string }>`select id, title from tickets where title like '% %' order by number limit 400`.execute(t.db)).rows.filter(
      (_, i) => i % 40 === 0,
    );
    for (const { id, title } of sample) {
      const number = title.split(' ').pop() as string;
      const found = (await search(number)).tickets.filter((x) => x.ticket_id === id);
      expect(found, `${title}`).toHaveLength(1);
    }
    const number = seeded.title.split(' ').pop() as string;
    expect((await search(number, 'in_progress')).tickets.map((x) => x.ticket_id)).toContain(seeded.id);
    expect((await search(number, 'open')).tickets.map((x) => x.ticket_id)).not.toContain(seeded.id);
    expect(await search('pangolin', 'in_progress')).toMatchObject({ total: 1, tickets: [{ ticket_id: older.ticket_id }] });
    expect(await search('quokka')).toMatchObject({ total: 1, tickets: [{ ticket_id: created.ticket_id }] });
    if (dialect === 'sqlite') {
      // Every document in the index (FTS5 counts a contentless table's rows by rowid: a document
      // indexed by both seeds counts once, and is found once).
      const [entries, documents] = await Promise.all(
        ['ticket_search', 'ticket_search_docs'].map(async (table) => Number((await sql<{ n: number }>`select count(*) as n from ${sql.table(table)}`.execute(t.db)).rows[0]?.n)),
      );
      expect(entries).toBe(documents);
    }
  });
});

describe.each(dialects().filter((dialect) => dialect === 'postgres'))('%s: helpdesk seed after a seed that was killed', (dialect) => {
  let t: TestApp;
  afterAll(async () => {
    await t?.close();
  });

  it('rewrites every search document when it finds the search triggers left off', async () => {
    t = await buildTestApp(dialect, { HELPDESK_RATE_LIMIT: '0' });
    const ticket = await createTicketAs(t, alice, { title: 'Walrus pool heater is offline' });
    // What a seed killed mid-load leaves behind: the triggers off, and a change made meanwhile
    // that no timestamp tells of.
    await sql`alter table tickets disable trigger ticket_search_on_ticket, disable trigger ticket_search_on_facets`.execute(t.db);
    await sql`alter table ticket_comments disable trigger ticket_search_on_comment`.execute(t.db);
    await sql`update tickets set status = 'resolved' where id = ${ticket.ticket_id}`.execute(t.db);
    expect(await seedInterrupted(t.db, dialect)).toBe(true);
    // A seed of no tickets only finishes what the killed one left.
    await seedDatabase(t.db, dialect, { tickets: 0, tenants: 2, commentsPerTicket: 0, seed: 5 });
    expect(await seedInterrupted(t.db, dialect)).toBe(false);
    const found = (await t.as(sam, { url: '/api/v1/admin/support/tickets?q=walrus&status=resolved' })).json() as { total: number };
    expect(found.total).toBe(1);
  });
});

describe.each(dialects().filter((dialect) => dialect === 'sqlite'))('%s: helpdesk seed after a seed that was killed', (dialect) => {
  let t: TestApp;
  let seed: ChildProcess | undefined;
  afterAll(async () => {
    seed?.kill('SIGKILL');
    await t?.close();
  });

  it('builds again the indexes and triggers the killed seed had dropped, and indexes every ticket anew', async () => {
    t = await buildTestApp(dialect, { HELPDESK_RATE_LIMIT: '0' });
    if (t.config.database.kind !== 'sqlite') throw new Error('a SQLite test');
    const env = cliEnv({ DATABASE_URL: `sqlite:${t.config.database.path}`, HELPDESK_DATA_DIR: t.dir });
    const schema = async () =>
      (await sql<{ name: string; sql: string }>`select name, sql from sqlite_master where type in ('index', 'trigger') and sql is not null order by name`.execute(t.db)).rows;
    const tickets = async () => Number((await sql<{ n: number }>`select count(*) as n from tickets`.execute(t.db)).rows[0]?.n);
    const built = await schema();
    const older = await createTicketAs(t, alice, { title: 'Narwhal export fails' });

    // Killed (as by an operator's Ctrl-C or the OOM killer) once it has loaded its first batch.
    const child = spawnCli(['seed', '--tickets', '500000', '--tenants', '3', '--comments-per-ticket', '0'], env);
    seed = child;
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise((resolve) => child.on('exit', resolve));
    for (let waited = 0; (await tickets()) === 1; waited += 50) {
      if (waited > 30_000 || child.exitCode !== null) throw new Error(`the seed loaded nothing:\n${stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    child.kill('SIGKILL');
    await exited;
    expect((await schema()).length).toBeLessThan(built.length);
    const [last] = (await sql<{ id: string; title: string }>`select id, title from tickets order by rowid desc limit 1`.execute(t.db)).rows;
    // A change made meanwhile, with the search triggers gone.
    const patched = await t.as(sam, { method: 'PATCH', url: `/api/v1/admin/support/tickets/${older.ticket_id}`, payload: { status: 'in_progress' } });
    expect(patched.statusCode).toBe(200);
    // A newer version's migration is not run over the half-built schema.
    const [newest] = (await sql<{ name: string; timestamp: string }>`select name, timestamp from kysely_migration order by name desc limit 1`.execute(t.db)).rows;
    await sql`delete from kysely_migration where name = ${newest?.name}`.execute(t.db);
    await expect(migrateToLatest(t.db, dialect)).rejects.toThrow(/seed --tickets 0/);
    await sql`insert into kysely_migration (name, timestamp) values (${newest?.name}, ${newest?.timestamp})`.execute(t.db);
    // A server started on it now says so.
    const server = await startServer(env);
    await server.stop();
    expect(server.output()).toContain('A SEED IS LOADING THIS DATABASE, OR ONE WAS KILLED');

    // What the warning says to run: it adds nothing and finishes what the killed seed left.
    const count = await tickets();
    await runCli(['seed', '--tickets', '0'], env);
    expect(await tickets()).toBe(count);
    expect(await schema()).toEqual(built);
    expect(await seedInterrupted(t.db, dialect)).toBe(false);
    const search = async (q: string, status = '') =>
      (await t.as(sam, { url: `/api/v1/admin/support/tickets?q=${q}&limit=100${status && `&status=${status}`}` })).json() as {
        total: number;
        tickets: Array<{ ticket_id: string }>;
      };
    // The killed seed's tickets are found like any other (its titles end in their number), and
    // the older ticket by its status now, once only.
    const number = last?.title.split(' ').pop() as string;
    expect((await search(number)).tickets.map((x) => x.ticket_id)).toContain(last?.id);
    const now = await search('narwhal', 'in_progress');
    expect([now.total, now.tickets.map((x) => x.ticket_id)]).toEqual([1, [older.ticket_id]]);
    expect((await search('narwhal', 'open')).total).toBe(0);
    expect((await search('narwhal')).total).toBe(1);
    // And the same seed can be run again: its people are there already.
    await seedDatabase(t.db, dialect, { tickets: 20, tenants: 3, commentsPerTicket: 0, seed: 1 });
    expect(await tickets()).toBe(count + 20);
  });
});
