import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { ResponseCache } from './response-cache.js';

/** One route answering through a ResponseCache, its version and its loads under the test's control. */
async function cachedRoute() {
  const cache = new ResponseCache(1024 * 1024);
  const waiting: Array<() => void> = [];
  const state = { version: 'v1' as string | undefined, loads: 0, release: () => waiting.splice(0).forEach((resolve) => resolve()) };
  const app = Fastify();
  app.get('/page', async (_request, reply) => {
    const current = state.version;
    return cache.reply(reply, 'page', current, '/schemas/Page.json', async () => {
      const n = ++state.loads;
      await new Promise<void>((resolve) => waiting.push(resolve));
      return { version: current, body: { load: n, version: current } };
    });
  });
  await app.ready();
  const get = async () => (await app.inject({ url: '/page' })).json() as { load: number; version: string };
  return { app, state, get };
}

describe('ResponseCache', () => {
  it('shares one load among requests that miss at the same version, and serves the result after', async () => {
    const { app, state, get } = await cachedRoute();
    const first = Array.from({ length: 5 }, get);
    await new Promise((r) => setTimeout(r, 20));
    state.release();
    expect(await Promise.all(first)).toEqual(Array.from({ length: 5 }, () => ({ load: 1, version: 'v1' })));
    expect(await get()).toEqual({ load: 1, version: 'v1' });

    // A new version: one new load for everyone who asks at it.
    state.version = 'v2';
    const second = Array.from({ length: 3 }, get);
    await new Promise((r) => setTimeout(r, 20));
    state.release();
    expect(await Promise.all(second)).toEqual(Array.from({ length: 3 }, () => ({ load: 2, version: 'v2' })));
    expect(state.loads).toBe(2);
    await app.close();
  });

  it('never shares a load when the version is unknown', async () => {
    const { app, state, get } = await cachedRoute();
    state.version = undefined;
    const pending = [get(), get()];
    await new Promise((r) => setTimeout(r, 20));
    state.release();
    const answers = await Promise.all(pending);
    expect(answers.map((a) => a.load).sort()).toEqual([1, 2]);
    await app.close();
  });
});
