import { describe, expect, it } from 'vitest';
import { STORM_MS, createAcceptFirst } from './accept-first.js';

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
    for (let i = 1; i <= turns; i++) {
      accept.connected();
      accept.admit(() => started.push(i));
      clock.now += 0.1;
      await turn();
    }
    expect(started).toHaveLength(turns);
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

  it('keeps arrival order through a long storm, as the started ones leave the queue', async () => {
    const { accept, clock } = scheduler(100);
    const started: number[] = [];
    await acceptingTurns(accept, clock, 3, STORM_MS);
    let n = 0;
    const admit = (count: number) => {
      for (let i = 0; i < count; i++) accept.admit(((id) => () => started.push(id))(n++));
    };
    // 1,500 requests, then 500 more 50 ms later: at 100 ms the first 1,500 start and the 500 wait.
    admit(1_500);
    await acceptingTurns(accept, clock, 1, 50);
    admit(500);
    await acceptingTurns(accept, clock, 1, 51);
    expect(started).toHaveLength(1_500);
    admit(700);
    // The storm ends: the rest start, in the order they came.
    await turn();
    await turn();
    expect(started).toHaveLength(2_700);
    expect(started.every((id, i) => id === i)).toBe(true);
  });

  it('starts a request that has waited its longest even while connections keep arriving', async () => {
    const { accept, clock } = scheduler(100);
    const started: string[] = [];
    await acceptingTurns(accept, clock, 3, STORM_MS);
    accept.admit(() => started.push('old'));
    clock.now += 60;
    accept.admit(() => started.push('young'));
    await acceptingTurns(accept, clock, 1, 0);
    expect(started).toEqual([]);
    await acceptingTurns(accept, clock, 1, 41);
    expect(started).toEqual(['old']);
    await acceptingTurns(accept, clock, 1, 60);
    expect(started).toEqual(['old', 'young']);
  });
});
