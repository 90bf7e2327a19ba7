import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { ResponseCache } from './response-cache.js';

/** Waits (polling) until `done()` holds: requests reach the route in their own time. */
async function until(done: () => boolean) {
  for (let i = 0; i < 500 && !done(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(done()).toBe(true);
}

/** One route answering through a ResponseCache, its version, its loads and their outcome under the test's control. */
async function cachedRoute() {
  const cache = new ResponseCache(1024 * 1024);
  const waiting: Array<(fail: boolean) => void> = [];
  const state = {
    version: 'v1' as string | undefined,
    loads: 0,
    arrived: 0,
    waiting: () => waiting.length,
    release: (fail = false) => waiting.splice(0).forEach((settle) => settle(fail)),
  };
  const app = Fastify();
  app.get<{ Querystring: { owner?: string } }>('/page', async (request, reply) => {
    const current = state.version;
    state.arrived++;
    const slot = { key: 'page', owner: request.query.owner ?? 'ann', version: current };
    const body = await cache.serve(
      slot,
      async () => {
        const n = ++state.loads;
        if (await new Promise<boolean>((resolve) => waiting.push(resolve))) throw new Error(`load ${n} failed`);
        return { version: current, body: { load: n, version: current, owner: slot.owner } };
      },
      (value) => JSON.stringify(value),
    );
    return reply.type('application/json').send(body);
  });
  await app.ready();
  const get = async (owner = 'ann') => {
    const res = await app.inject({ url: `/page?owner=${owner}` });
    return res.statusCode === 200 ? (res.json() as { load: number; version: string; owner: string }) : res.statusCode;
  };
  return { app, state, get };
}

describe('ResponseCache', () => {
  it('shares one load among requests that miss at the same version, and serves the result after', async () => {
    const { app, state, get } = await cachedRoute();
    const first = Array.from({ length: 5 }, () => get());
    await until(() => state.arrived === 5);
    expect(state.waiting()).toBe(1);
    state.release();
    expect(await Promise.all(first)).toEqual(Array.from({ length: 5 }, () => ({ load: 1, version: 'v1', owner: 'ann' })));
    expect(await get()).toEqual({ load: 1, version: 'v1', owner: 'ann' });

    // A new version: one new load for everyone who asks at it.
    state.version = 'v2';
    const second = Array.from({ length: 3 }, () => get());
    await until(() => state.waiting() === 1);
    state.release();
    expect(await Promise.all(second)).toEqual(Array.from({ length: 3 }, () => ({ load: 2, version: 'v2', owner: 'ann' })));
    expect(state.loads).toBe(2);
    await app.close();
  });

  it('gives a failed load to every request that shared it, keeps nothing, and loads anew next time', async () => {
    const { app, state, get } = await cachedRoute();
    const failing = [get(), get()];
    await until(() => state.waiting() === 1);
    state.release(true);
    expect(await Promise.all(failing)).toEqual([500, 500]);
    const next = get();
    await until(() => state.waiting() === 1);
    state.release();
    expect(await next).toEqual({ load: 2, version: 'v1', owner: 'ann' });
    await app.close();
  });

  it('never shares a load when the version is unknown', async () => {
    const { app, state, get } = await cachedRoute();
    state.version = undefined;
    const pending = [get(), get()];
    await until(() => state.waiting() === 2);
    state.release();
    expect((await Promise.all(pending)).map((a) => (typeof a === 'number' ? a : a.load)).sort()).toEqual([1, 2]);
    await app.close();
  });

  it('serves an entry only to the owner it was stored for, whatever its key', async () => {
    const { app, state, get } = await cachedRoute();
    const ann = get('ann');
    await until(() => state.waiting() === 1);
    state.release();
    expect(await ann).toEqual({ load: 1, version: 'v1', owner: 'ann' });
    // Same key, same version, another owner: loaded for them, never given ann's body.
    const bob = get('bob');
    await until(() => state.waiting() === 1);
    state.release();
    expect(await bob).toEqual({ load: 2, version: 'v1', owner: 'bob' });
    await app.close();
  });
});

describe('ResponseCache.serveLatest', () => {
  it('runs one load at a time per key and owner: requests at a newer version share the one that follows, which reads the version anew', async () => {
    const cache = new ResponseCache(1024 * 1024);
    let version = 'v1';
    const waiting: Array<() => void> = [];
    let loads = 0;
    const ask = (owner = 'ann') =>
      cache.serveLatest(
        { key: 'page', owner, version },
        async (at) => {
          const n = ++loads;
          await new Promise<void>((resolve) => waiting.push(resolve));
          return { version: at, body: { load: n, at } };
        },
        (value) => JSON.stringify(value),
        async () => version,
      );
    const first = ask();
    await until(() => waiting.length === 1);
    // Same version: shares the running load.
    const same = ask();
    // Newer versions while it runs: they wait for one load that follows.
    version = 'v2';
    const second = [ask(), ask()];
    version = 'v3';
    const third = ask();
    // Another agent's page is a line of its own.
    const other = ask('bob');
    await until(() => waiting.length === 2);
    expect(loads).toBe(2);
    waiting.shift()?.();
    expect(JSON.parse(await first)).toEqual({ load: 1, at: 'v1' });
    expect(JSON.parse(await same)).toEqual({ load: 1, at: 'v1' });
    // The following load started only now, at the version of now: v3, newer than any waiting request's.
    await until(() => waiting.length === 2);
    expect(loads).toBe(3);
    waiting.splice(0).forEach((release) => release());
    expect(JSON.parse(await other)).toEqual({ load: 2, at: 'v3' });
    expect((await Promise.all([...second, third])).map((body) => JSON.parse(body))).toEqual([
      { load: 3, at: 'v3' },
      { load: 3, at: 'v3' },
      { load: 3, at: 'v3' },
    ]);
    // Nothing running: a request at the cached version is served from memory.
    expect(JSON.parse(await ask())).toEqual({ load: 3, at: 'v3' });
    expect(loads).toBe(3);
  });
});
