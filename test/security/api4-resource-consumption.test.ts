// OWASP API4:2023 Unrestricted Resource Consumption.
import { afterEach, describe, expect, it } from 'vitest';
import { dialects } from '../dialects.js';
import { alice, bob, buildTestApp, problem, TICKETS, type TestApp } from '../helpers.js';

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
});
