import { describe, expect, it } from 'vitest';
import { batchedByTurn } from './turn-batch.js';

describe('reads batched by event-loop turn', () => {
  it('answers the keys asked for in one turn with one load each of at most 200 distinct keys', async () => {
    const loads: string[][] = [];
    const get = batchedByTurn(async (keys) => {
      loads.push(keys);
      return new Map(keys.filter((key) => key !== 'missing').map((key) => [key, `value of ${key}`]));
    });
    const asked = ['a', 'b', 'a', 'missing', ...Array.from({ length: 300 }, (_, i) => `k${i}`)];
    const answers = await Promise.all(asked.map(get));
    expect(answers.slice(0, 4)).toEqual(['value of a', 'value of b', 'value of a', undefined]);
    expect(answers[303]).toBe('value of k299');
    expect(loads.map((keys) => keys.length)).toEqual([200, 103]);

    // The next turn loads afresh.
    expect(await get('a')).toBe('value of a');
    expect(loads).toHaveLength(3);
  });

  it('fails every caller of a failed load, and the next turn tries again', async () => {
    let fail = true;
    const get = batchedByTurn(async (keys) => {
      if (fail) throw new Error('connection lost');
      return new Map(keys.map((key) => [key, key.length]));
    });
    const results = await Promise.allSettled([get('x'), get('yy')]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    fail = false;
    expect(await get('yy')).toBe(2);
  });
});
