// OWASP API4:2023 Unrestricted Resource Consumption.
import { afterEach, describe, expect, it } from 'vitest';
import { dialects } from '../dialects.js';
import { durable } from '../../src/db/database.js';
import { cpuTime } from '../event-loop.js';
import { alice, bob, buildTestApp, createTicketAs, problem, sam, TICKETS, type TestApp } from '../helpers.js';

/** JSON with every character of every key and string written as \\uXXXX: the longest way to spell a value. */
function longestJson(value: unknown): string {
  if (typeof value === 'string') return `"${value.split('').map((unit) => `\\u${unit.charCodeAt(0).toString(16).padStart(4, '0')}`).join('')}"`;
  if (value !== null && typeof value === 'object') return `{${Object.entries(value).map(([k, v]) => `${longestJson(k)}:${longestJson(v)}`).join(',')}}`;
  return JSON.stringify(value);
}

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
    expect(t.app.initialConfig.bodyLimit).toBe(256 * 1024);
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
    // ticket's size does not make each comment dearer (it grew with every comment before). The
    // least of five each: what the rest of the process does meanwhile (its background work, a
    // collection) only ever adds, and once made the last five's mean 2.25 times the first's on a
    // loaded machine, where a cost growing with the ticket is there in every one of them.
    expect(Math.min(...costs.slice(-5))).toBeLessThan(2 * Math.min(...costs.slice(0, 5)));
    // The ticket still reads, and is still found by words it holds early on.
    expect((await t.as(alice, { url: `${TICKETS}/${id}` })).json().ticket.comment_count).toBe(25);
    expect((await t.as(sam, { url: `/api/v1/admin/support/tickets?q=w0` })).json().total).toBe(1);
  });

  it('takes the largest legal body of every write, and refuses one byte over a limit sized to it with 413', async () => {
    t = await buildTestApp(dialect);
    const ticket = (await createTicketAs(t, alice)).ticket_id;
    const link = 'a'.repeat(500); // the longest $schema link a body may carry
    const emoji = (n: number) => '\u{1F600}'.repeat(n); // maxLength counts characters; escaped, each is 12 bytes
    const writes = [
      { user: alice, url: TICKETS, body: { $schema: link, title: emoji(200), description: emoji(20_000), type: 'feature_request' } },
      { user: alice, url: `${TICKETS}/${ticket}/comments`, body: { $schema: link, content: emoji(20_000) } },
      { user: sam, url: `/api/v1/admin/support/tickets/${ticket}/comments`, body: { $schema: link, content: emoji(20_000), is_internal: false } },
    ];
    let largest = 0;
    for (const { user, url, body } of writes) {
      const payload = longestJson(body);
      expect(JSON.parse(payload)).toEqual(body);
      largest = Math.max(largest, Buffer.byteLength(payload));
      const res = await t.as(user, { method: 'POST', url, payload, headers: { 'content-type': 'application/json' } });
      expect(res.statusCode, `${url}: ${res.body.slice(0, 200)}`).toBe(201);
    }
    const limit = t.app.initialConfig.bodyLimit as number;
    expect(largest).toBeLessThanOrEqual(limit);
    expect(limit, 'the limit is about what the largest legal body needs').toBeLessThan(largest * 1.1);
    // A longer $schema is refused by the schema, so no legal body is longer than the ones above.
    const longLink = await t.as(alice, { method: 'POST', url: `${TICKETS}/${ticket}/comments`, payload: { $schema: `${link}a`, content: 'x' } });
    expect(problem(longLink, 422).errors?.[0]?.location).toBe('body.$schema');
    // One byte over: the same legal body, padded with whitespace.
    const padded = `${longestJson(writes[1]?.body)}${' '.repeat(limit)}`.slice(0, limit + 1);
    const over = await t.as(alice, { method: 'POST', url: `${TICKETS}/${ticket}/comments`, payload: padded, headers: { 'content-type': 'application/json' } });
    expect(problem(over, 413).title).toBe('Request Entity Too Large');
  });

  it('validates a hostile body at about what parsing it costs', async () => {
    const app = (t = await buildTestApp(dialect, { HELPDESK_RATE_LIMIT: '0' })).app;
    const token = await t.tokenFor(alice);
    const size = (app.initialConfig.bodyLimit as number) - 100;
    const items = (item: string) => Array(Math.floor(size / (item.length + 1))).fill(item).join(',');
    const hostile = {
      'a huge array where a string belongs': `{"title":[${items('0')}],"description":"d","type":"bug"}`,
      'a huge array of strings': `{"title":"t","description":[${items('"a"')}],"type":"bug"}`,
      'a huge array of objects in an unknown field': `{"title":"t","description":"d","type":"bug","x":[${items('{}')}]}`,
      'a huge array of arrays': `[${items('[]')}]`,
      'thousands of unknown properties': `{${Array.from({ length: Math.floor(size / 12) }, (_, i) => `"k${i}":0`).join(',')}}`,
      // The walk for nesting stops early on an invalid body; what it did not reach must still be answered.
      'deep nesting behind a huge array': `{"x":${'['.repeat(size / 4)}${']'.repeat(size / 4)},"a":[${Array(Math.floor(size / 5)).fill(0).join(',')}]}`,
    };
    for (const [name, payload] of Object.entries(hostile)) {
      expect(payload.length).toBeLessThanOrEqual(size + 100);
      const send = () => app.inject({ method: 'POST', url: TICKETS, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, payload });
      problem(await send(), 422);
      // JSON.parse measured the same way, its garbage collection included. CPU time, the least of
      // five: a request is synchronous from parse to answer, so its CPU time is the stall it
      // causes, without the time another process held the core (CI runs two test files at once).
      const parse = await cpuTime(() => JSON.parse(Buffer.from(payload).toString()), 5);
      const cost = await cpuTime(send, 5);
      // Parsing happens once in the request too, so a request costs parse plus a bounded rest.
      expect(cost, `${name}: CPU ${cost.toFixed(1)} ms per request, JSON.parse's ${parse.toFixed(1)} ms`).toBeLessThan(4 * parse + 20);
    }
    expect((await t.db.selectFrom('tickets').select('id').execute()).length).toBe(0);
  });
});
