import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { installHandlerTimeout } from './handler-timeout.js';
import { handleError } from './problem.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// A bare app with the server's error handler, one per test.
let app: FastifyInstance;
beforeEach(() => {
  app = Fastify({ logger: false });
  app.setErrorHandler(handleError);
});
afterEach(async () => app.close());

describe('handler timeout', () => {
  it('answers a handler still running after the limit with a 503 problem, and leaves quick ones alone', async () => {
    installHandlerTimeout(app, 100);
    let finished = 0;
    app.get('/slow', async () => {
      await sleep(600);
      finished++;
      return { late: true };
    });
    app.get('/quick', async () => ({ ok: true }));

    const [slow, quick] = await Promise.all([app.inject({ url: '/slow' }), app.inject({ url: '/quick' })]);
    expect(quick.statusCode).toBe(200);
    expect(slow.statusCode).toBe(503);
    expect(slow.headers['content-type']).toContain('application/problem+json');
    expect(slow.json()).toMatchObject({ status: 503, title: 'Service Unavailable', detail: 'the request took too long; retry later' });
    expect(finished).toBe(0); // answered before the handler was done

    // The late handler's own answer goes nowhere, and the server keeps serving.
    await sleep(700);
    expect(finished).toBe(1);
    expect((await app.inject({ url: '/quick' })).statusCode).toBe(200);
  });

  it('leaves an answer that waits in a later onSend hook (the disk flush) alone', async () => {
    installHandlerTimeout(app, 100);
    app.addHook('onSend', async (_request, _reply, payload) => {
      await sleep(400);
      return payload;
    });
    app.get('/flushed-late', async () => ({ saved: true }));
    const res = await app.inject({ url: '/flushed-late' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ saved: true });
  });
});

describe('a statement PostgreSQL cancelled at its timeout', () => {
  it('is answered 503, retry later, without internals', async () => {
    app.get('/busy', async () => {
      throw Object.assign(new Error('canceling statement due to statement timeout'), { code: '57014', severity: 'ERROR' });
    });
    const res = await app.inject({ url: '/busy' });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toMatchObject({ status: 503, detail: 'the request took too long; retry later' });
    expect(res.body).not.toMatch(/statement|cancel/);
  });
});
