import { describe, expect, it } from 'vitest';
import { STORM_STREAK, createAcceptFirst } from './accept-first.js';

/** One turn of the event loop: resolves in the next turn's check phase. */
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('accept first', () => {
  it('starts a request at once when no storm of connections is being accepted', () => {
    const scheduler = createAcceptFirst(100);
    const started: number[] = [];
    scheduler.connected();
    scheduler.admit(() => started.push(1));
    expect(started).toEqual([1]);
  });

  it('holds requests while connections arrive turn after turn, then starts them in arrival order in the first turn that accepts none', async () => {
    const scheduler = createAcceptFirst(10_000);
    const started: number[] = [];
    for (let i = 0; i < STORM_STREAK + 2; i++) {
      scheduler.connected();
      await turn();
    }
    for (let i = 1; i <= 3; i++) {
      scheduler.connected();
      scheduler.admit(() => started.push(i));
      await turn();
    }
    expect(started).toEqual([]);
    await turn();
    await turn();
    expect(started).toEqual([1, 2, 3]);
    // The storm is over: the next request starts at once.
    scheduler.admit(() => started.push(4));
    expect(started).toEqual([1, 2, 3, 4]);
  });

  it('does not hold requests for connections that come one per request (a streak shorter than a storm)', async () => {
    const scheduler = createAcceptFirst(10_000);
    const started: number[] = [];
    for (let i = 1; i <= STORM_STREAK - 2; i++) {
      scheduler.connected();
      scheduler.admit(() => started.push(i));
      await turn();
    }
    expect(started).toHaveLength(STORM_STREAK - 2);
  });

  it('starts a request that has waited its longest even while connections keep arriving', async () => {
    let clock = 0;
    const scheduler = createAcceptFirst(100, () => clock);
    const started: string[] = [];
    for (let i = 0; i < STORM_STREAK + 2; i++) {
      scheduler.connected();
      await turn();
    }
    scheduler.admit(() => started.push('old'));
    clock = 60;
    scheduler.admit(() => started.push('young'));
    scheduler.connected();
    await turn();
    expect(started).toEqual([]);
    clock = 101;
    scheduler.connected();
    await turn();
    expect(started).toEqual(['old']);
    clock = 161;
    scheduler.connected();
    await turn();
    expect(started).toEqual(['old', 'young']);
  });
});
