import { describe, expect, it } from 'vitest';
import { QUIET_MS, STORM_CONNECTIONS, STORM_MS, WAVE_MS, WAVE_SPENT, createAcceptFirst } from './accept-first.js';

/** One turn of the event loop: resolves in the next turn's check phase. */
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A scheduler on a clock the test moves, and the errors it was told of. */
function scheduler(maxWaitMs: number) {
  const clock = { now: 0 };
  const errors: unknown[] = [];
  return { clock, errors, accept: createAcceptFirst(maxWaitMs, (error) => errors.push(error), () => clock.now) };
}

/** Turns that each accept a connection and last `ms`. */
async function acceptingTurns(accept: ReturnType<typeof createAcceptFirst>, clock: { now: number }, turns: number, ms: number): Promise<void> {
  for (let i = 0; i < turns; i++) {
    accept.connected();
    clock.now += ms;
    await turn();
  }
}

describe('accept first', () => {
  it('starts a request at once when no storm of connections is being accepted', () => {
    const { accept } = scheduler(100);
    const started: number[] = [];
    accept.connected();
    accept.admit(() => started.push(1));
    expect(started).toEqual([1]);
  });

  it('holds requests while connections arrive turn after turn, then starts them in arrival order in the first turn that accepts none', async () => {
    const { accept, clock } = scheduler(10_000);
    const started: number[] = [];
    await acceptingTurns(accept, clock, 3, STORM_MS);
    for (let i = 1; i <= 3; i++) {
      accept.connected();
      accept.admit(() => started.push(i));
      clock.now += 1;
      await turn();
    }
    expect(started).toEqual([]);
    await turn();
    await turn();
    expect(started).toEqual([1, 2, 3]);
    // The storm is over: the next request starts at once.
    accept.admit(() => started.push(4));
    expect(started).toEqual([1, 2, 3, 4]);
  });

  it('holds nothing for connections accepted in short turns, as clients that connect per request make them', async () => {
    const { accept, clock } = scheduler(10_000);
    const started: number[] = [];
    // Each turn accepts one and takes a tenth of a millisecond: the streak stays under STORM_MS.
    const turns = STORM_MS * 10 - 2;
    // Fifty clients, each connection closed once its answer is sent.
    const clients: Array<() => void> = [];
    for (let i = 1; i <= turns; i++) {
      const closed = accept.connected();
      accept.admit(() => started.push(i));
      clients.push(closed);
      if (clients.length === 50) clients.shift()?.();
      clock.now += 0.1;
      await turn();
    }
    expect(started).toHaveLength(turns);
  });

  it('holds nothing for a steady stream of new keep-alive connections that stay open, 3,000 a second', async () => {
    const { accept, clock } = scheduler(10_000);
    const started: number[] = [];
    // Each accepted in a turn of its own, with a turn that accepts none before the next comes.
    for (let i = 1; i <= 1_000; i++) {
      accept.connected();
      accept.admit(() => started.push(i));
      clock.now += 0.03;
      await turn();
      clock.now += 0.3;
      await turn();
    }
    expect(started).toHaveLength(1_000);
  });

  it('ends a wave once a window opens few more connections, though they keep coming', async () => {
    const { accept, clock } = scheduler(10_000);
    const started: number[] = [];
    for (let i = 0; i < STORM_CONNECTIONS; i++) accept.connected();
    accept.admit(() => started.push(1));
    expect(started).toEqual([]);
    // Then fewer than WAVE_SPENT a window, never QUIET_MS apart: the wave is spent after one window.
    const gap = WAVE_MS / (WAVE_SPENT - 1);
    expect(gap).toBeLessThan(QUIET_MS);
    for (let t = 0; t <= 2 * WAVE_MS; t += gap) {
      clock.now += gap;
      accept.connected();
      await turn();
    }
    await turn();
    expect(started).toEqual([1]);
  });

  it('holds the requests of a wave of connections that stay open, accepted in one turn, until none has come for a while', async () => {
    const { accept, clock } = scheduler(10_000);
    const started: number[] = [];
    // An idle server takes a wave in one turn: its first connections' requests start, then they wait.
    for (let i = 0; i < STORM_CONNECTIONS + 10; i++) {
      accept.connected();
      accept.admit(() => started.push(i));
    }
    expect(started).toHaveLength(STORM_CONNECTIONS - 1);
    // Turns that accept none, while the clients are still opening the rest: the wave goes on.
    clock.now += QUIET_MS / 2;
    await turn();
    await turn();
    accept.connected();
    accept.admit(() => started.push(-1));
    expect(started).toHaveLength(STORM_CONNECTIONS - 1);
    // None for QUIET_MS: every waiting request starts, in arrival order.
    clock.now += QUIET_MS;
    await turn();
    expect(started).toEqual([...Array.from({ length: STORM_CONNECTIONS + 10 }, (_, i) => i), -1]);
  });

  it('starts the requests after one whose start threw, and says what it threw', async () => {
    const { accept, clock, errors } = scheduler(10_000);
    const started: string[] = [];
    await acceptingTurns(accept, clock, 3, STORM_MS);
    accept.admit(() => {
      throw new Error('broken start');
    });
    accept.admit(() => started.push('after'));
    await turn();
    await turn();
    expect(started).toEqual(['after']);
    expect(errors).toEqual([new Error('broken start')]);
    accept.admit(() => started.push('later'));
    expect(started).toEqual(['after', 'later']);
  });

  it('keeps arrival order through a long storm, each release starting every request that waits', async () => {
    const { accept, clock } = scheduler(100);
    const started: number[] = [];
    await acceptingTurns(accept, clock, 3, STORM_MS);
    let n = 0;
    const admit = (count: number) => {
      for (let i = 0; i < count; i++) accept.admit(((id) => () => started.push(id))(n++));
    };
    // 1,500 requests, then 500 more 50 ms later: at 100 ms the first have waited their longest,
    // and all 2,000 start together.
    admit(1_500);
    await acceptingTurns(accept, clock, 1, 50);
    admit(500);
    await acceptingTurns(accept, clock, 1, 49);
    expect(started).toHaveLength(0);
    await acceptingTurns(accept, clock, 1, 2);
    expect(started).toHaveLength(2_000);
    // The storm goes on: the next ones wait again, until it ends.
    admit(700);
    await acceptingTurns(accept, clock, 1, 10);
    expect(started).toHaveLength(2_000);
    await turn();
    await turn();
    expect(started).toHaveLength(2_700);
    expect(started.every((id, i) => id === i)).toBe(true);
  });

  it('starts every waiting request once the oldest has waited its longest, even while connections keep arriving', async () => {
    const { accept, clock } = scheduler(100);
    const started: string[] = [];
    await acceptingTurns(accept, clock, 3, STORM_MS);
    accept.admit(() => started.push('old'));
    clock.now += 60;
    accept.admit(() => started.push('young'));
    await acceptingTurns(accept, clock, 1, 0);
    expect(started).toEqual([]);
    await acceptingTurns(accept, clock, 1, 41);
    // Together: started as each comes of age, they would keep every turn of the storm long.
    expect(started).toEqual(['old', 'young']);
    accept.admit(() => started.push('next'));
    await acceptingTurns(accept, clock, 1, 60);
    expect(started).toEqual(['old', 'young']);
    await acceptingTurns(accept, clock, 1, 41);
    expect(started).toEqual(['old', 'young', 'next']);
  });
});
