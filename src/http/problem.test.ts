import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { alice, buildTestApp, createTicketAs, problem, TICKETS, type TestApp } from '../../test/helpers.js';
import { dialects } from '../../test/dialects.js';

describe.each(dialects())('%s', (dialect) => {
  let t: TestApp;
  let databaseGone: boolean;
  beforeEach(async () => {
    t = await buildTestApp(dialect);
    databaseGone = false;
  });
  afterEach(async () => {
    await t.close({ databaseGone });
  });

  describe('errors outside the operations', () => {
    it('answers an unknown route 404 in problem+json', async () => {
      const body = problem(await t.as(alice, { url: '/api/v1/nope' }), 404);
      expect(body).toMatchObject({ $schema: '/api/v1/schemas/ErrorModel.json', title: 'Not Found', status: 404 });
    });

    it('answers a known path with the wrong method 405 with an Allow header', async () => {
      const ticket = await createTicketAs(t, alice);
      const res = await t.as(alice, { method: 'DELETE', url: `${TICKETS}/${ticket.ticket_id}` });
      expect(problem(res, 405).title).toBe('Method Not Allowed');
      expect(res.headers.allow).toBe('GET, HEAD');
      const put = await t.as(alice, { method: 'PUT', url: TICKETS, payload: {} });
      problem(put, 405);
      expect(put.headers.allow).toBe('GET, HEAD, POST');
      const getClose = await t.as(alice, { url: `${TICKETS}/${ticket.ticket_id}/close` });
      expect(getClose.headers.allow).toBe('POST');
    });

    it('turns a server failure into a 500 without internals, logged with its request id', async () => {
      const token = await t.tokenFor(alice);
      await t.db.destroy(); // the database goes away under a running server
      databaseGone = true;
      const res = await t.app.inject({ url: TICKETS, headers: { authorization: `Bearer ${token}` } });
      const body = problem(res, 500);
      expect(body.title).toBe('Internal Server Error');
      const requestId = res.headers['x-request-id'] as string;
      expect(body.detail).toBe(`An unexpected error occurred. Reference: ${requestId}`);
      expect(res.body).not.toMatch(/sqlite|database|stack|at \w+ \(/i);
      const logged = t.logs.map((line) => JSON.parse(line)).find((entry) => entry.level === 50);
      expect(logged).toMatchObject({ reqId: requestId, msg: 'unhandled error' });
      expect(logged.err.stack).toBeTruthy();
    });
  });

  describe('health', () => {
    it('reports alive and ready, and not ready when the database is gone', async () => {
      expect((await t.app.inject({ url: '/healthz' })).json()).toEqual({ status: 'ok' });
      expect((await t.app.inject({ url: '/readyz' })).json()).toEqual({ status: 'ready' });
      await t.db.destroy();
      databaseGone = true;
      expect(problem(await t.app.inject({ url: '/readyz' }), 503).detail).toBe('database unavailable');
      expect((await t.app.inject({ url: '/healthz' })).statusCode).toBe(200);
    });
  });
});
