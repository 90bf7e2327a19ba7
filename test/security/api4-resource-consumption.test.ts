// OWASP API4:2023 Unrestricted Resource Consumption.
import { afterEach, describe, expect, it } from 'vitest';
import { dialects } from '../dialects.js';
import { durable } from '../../src/db/database.js';
import { alice, bob, buildTestApp, createTicketAs, problem, sam, TICKETS, type TestApp } from '../helpers.js';

describe.each(dialects())('%s', (dialect) => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('limits each verified user, not each IP, with IETF RateLimit fields and a 429 problem', async () => {
    t = await buildTestApp(dialect, { HELPDESK_RATE_LIMIT: '5' });
    const first = await t.as(alice, { url: TICKETS });
    expect(first.headers['ratelimit-policy']).toBe('"user";q=5;w=60');
    expect(first.headers.ratelimit).toMatch(/^"user";r=4;t=\d+$/);
    for (let i = 0; i < 4; i++) expect((await t.as(alice, { url: TICKETS })).statusCode).toBe(200);
    const limited = await t.as(alice, { method: 'POST', url: TICKETS, payload: { title: 't', description: 'd', type: 'bug' } });
    const body = problem(limited, 429);
    expect(body.title).toBe('Too Many Requests');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(limited.headers.ratelimit).toMatch(/^"user";r=0;t=\d+$/);
    // Nothing was written by the refused request, and bob (same IP, same org) is unaffected.
    expect((await t.as(bob, { url: TICKETS })).statusCode).toBe(200);
    expect((await t.db.selectFrom('tickets').select('id').execute()).length).toBe(0);
  });

  it('caps page sizes and bodies, and sets request and connection timeouts', async () => {
    t = await buildTestApp(dialect);
    problem(await t.as(alice, { url: `${TICKETS}?limit=1000` }), 422);
    problem(await t.as(alice, { url: '/api/v1/admin/support/tickets?limit=1000' }), 403);
    const huge = await t.as(alice, { method: 'POST', url: TICKETS, payload: { title: 't', description: 'x'.repeat(2 * 1024 * 1024), type: 'bug' } });
    problem(huge, 413);
    expect(t.app.initialConfig.bodyLimit).toBe(1024 * 1024);
    expect(t.app.server.requestTimeout).toBe(30_000);
    expect(t.app.server.timeout).toBe(60_000);
    // The 15 s handler timeout: src/http/handler-timeout.test.ts.
  });

  it('bounds what one customer piling large comments on one ticket costs: the same per comment, a clear 409 at the limit, never a 500', async () => {
    t = await buildTestApp(dialect);
    const { ticket_id: id } = await createTicketAs(t, alice);
    // 20,000 characters of words that are all different, the costliest text to index.
    let n = 0;
    const text = () => Array.from({ length: 4_000 }, () => `w${(n++).toString(36)}`).join(' ').slice(0, 20_000);
    const costs: number[] = [];
    let accepted = 0;
    for (let i = 0; i < 30; i++) {
      const payload = { content: text() };
      const before = process.cpuUsage();
      const res = await t.as(alice, { method: 'POST', url: `${TICKETS}/${id}/comments`, payload });
      await durable(t.db); // SQLite indexes a batch as it commits it
      const used = process.cpuUsage(before);
      if (res.statusCode === 201) {
        accepted++;
        costs.push(used.user + used.system);
        continue;
      }
      expect(problem(res, 409).detail).toMatch(/limit of 500,000 characters of comments; open a new ticket/);
    }
    // 25 comments of 20,000 characters fill the ticket's 500,000; the rest are refused.
    expect(accepted).toBe(25);
    // What this process spends on the last comments is about what it spent on the first: a
    // ticket's size does not make each comment dearer (it grew with every comment before).
    const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
    expect(mean(costs.slice(-5))).toBeLessThan(2 * mean(costs.slice(0, 5)));
    // The ticket still reads, and is still found by words it holds early on.
    expect((await t.as(alice, { url: `${TICKETS}/${id}` })).json().ticket.comment_count).toBe(25);
    expect((await t.as(sam, { url: `/api/v1/admin/support/tickets?q=w0` })).json().total).toBe(1);
  });
});
