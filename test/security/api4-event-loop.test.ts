// OWASP API4:2023, the event loop: no request input, signed in or not, may hold the one thread
// that serves everyone. A regular expression that backtracks on crafted input (ReDoS) does
// exactly that, so every place where request input meets a pattern is sent repeated tokens.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dialects } from '../dialects.js';
import { cpuTime } from '../event-loop.js';
import { alice, buildTestApp, createTicketAs, sam, TICKETS, type TestApp } from '../helpers.js';

const URL_LENGTH = 16 * 1024; // Node's default limit for a request's head
const HEADER_LENGTH = 8 * 1024;
const fill = (unit: string, length: number) => unit.repeat(Math.ceil(length / unit.length)).slice(0, length);

describe.each(dialects())('%s: the event loop under hostile input', (dialect) => {
  let t: TestApp;
  let ticketPath: string;
  let tokens: { alice: string; sam: string };
  beforeAll(async () => {
    t = await buildTestApp(dialect, { HELPDESK_RATE_LIMIT: '0' });
    ticketPath = `${TICKETS}/${(await createTicketAs(t, alice)).ticket_id}`;
    tokens = { alice: await t.tokenFor(alice), sam: await t.tokenFor(sam) };
  });
  afterAll(async () => {
    await t.close();
  });

  // Each place request input meets a pattern: a hostile value and a benign one of the same length.
  const places: Array<{ name: string; send: (value: string) => Promise<unknown>; hostile: string; benign: string }> = [
    {
      name: 'the URL path of a 404, as the access log redacts tokens from it (no token needed)',
      send: (value) => t.app.inject({ url: `/api/v1/${value}` }),
      hostile: fill('eyJ', URL_LENGTH),
      benign: fill('abc', URL_LENGTH),
    },
    {
      name: 'a query string of an API route, unauthenticated',
      send: (value) => t.app.inject({ url: `${TICKETS}?q=${value}` }),
      hostile: fill('eyJ-', URL_LENGTH),
      benign: fill('abcd', URL_LENGTH),
    },
    {
      name: 'an almost-token in the path: dots but no third part',
      send: (value) => t.app.inject({ url: `/${value}` }),
      hostile: fill('eyJ.', URL_LENGTH),
      benign: fill('abc.', URL_LENGTH),
    },
    {
      name: 'the Authorization header',
      send: (value) => t.app.inject({ url: TICKETS, headers: { authorization: `Bearer ${value}` } }),
      hostile: `${fill('a', HEADER_LENGTH / 2)}${fill(' ', HEADER_LENGTH / 2)}x`,
      benign: fill('a', HEADER_LENGTH + 1),
    },
    {
      name: 'the Content-Type header',
      send: (value) =>
        t.app.inject({ method: 'POST', url: TICKETS, headers: { authorization: `Bearer ${tokens.alice}`, 'content-type': value }, payload: '{}' }),
      hostile: `application/json${fill('; a=b', HEADER_LENGTH)}`,
      benign: `application/json${fill(' ', HEADER_LENGTH)}`,
    },
    {
      name: 'If-Match on a staff update',
      send: (value) =>
        t.app.inject({
          method: 'PATCH',
          url: ticketPath.replace('/support/', '/admin/support/'),
          headers: { authorization: `Bearer ${tokens.sam}`, 'content-type': 'application/merge-patch+json', 'if-match': value },
          payload: '{}',
        }),
      hostile: fill('"1", ', HEADER_LENGTH),
      benign: `"${fill('1', HEADER_LENGTH - 2)}"`,
    },
    {
      name: 'a staff search',
      send: (value) => t.app.inject({ url: `/api/v1/admin/support/tickets?q=${value}`, headers: { authorization: `Bearer ${tokens.sam}` } }),
      hostile: fill('a%C2%B2', 200 * 7),
      benign: fill('abcdefg', 200 * 7),
    },
    {
      name: 'a `$schema` link in a body, checked against the uri-reference format',
      send: (value) =>
        t.app.inject({
          method: 'POST',
          url: `${ticketPath}/comments`,
          headers: { authorization: `Bearer ${tokens.alice}`, 'content-type': 'application/json' },
          payload: JSON.stringify({ $schema: value, content: '' }),
        }),
      hostile: `//${fill('%aa', 60_000)}%`,
      benign: fill('a', 60_003),
    },
  ];

  for (const place of places) {
    it(`costs no more for repeated tokens than for plain text: ${place.name}`, async () => {
      expect(place.hostile.length).toBe(place.benign.length);
      // CPU time, the least of five: what the request costs, not how long another process held the core.
      const benign = await cpuTime(() => place.send(place.benign), 5);
      const hostile = await cpuTime(() => place.send(place.hostile), 5);
      // A quadratic pattern costs tens of milliseconds per 16 KB URL; a linear one about what
      // plain text of the same length costs.
      expect(hostile, `a request's CPU time: ${hostile.toFixed(1)} ms for hostile input, ${benign.toFixed(1)} ms for benign`).toBeLessThan(3 * benign + 10);
    });
  }

  it('still keeps tokens out of the access log, wherever they are in the URL', async () => {
    const token = tokens.alice;
    t.logs.length = 0;
    await t.app.inject({ url: `/api/v1/${token}` });
    await t.app.inject({ url: `${TICKETS}?access_token=${token}&x=1` });
    await t.app.inject({ url: `/api/v1/x/${token}.extra/y` });
    const logged = t.logs.join('\n');
    expect(logged).toContain('[REDACTED]');
    expect(logged).not.toContain(token.split('.')[2]);
    expect(logged).not.toContain(token.split('.')[1]);
    // What is not a token stays readable.
    await t.app.inject({ url: '/api/v1/nope/eyJ-not-a-token?v=1.2' });
    expect(t.logs.join('\n')).toContain('/api/v1/nope/eyJ-not-a-token?v=1.2');
  });
});
