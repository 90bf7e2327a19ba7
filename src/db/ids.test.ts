import { afterEach, describe, expect, it, vi } from 'vitest';
import { newId } from './ids.js';

const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const millisecondsOf = (id: string) => parseInt(id.replace(/-/g, '').slice(0, 12), 16);

describe('newId', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('makes RFC 9562 version 7 ids stamped with the current time', () => {
    const before = Date.now();
    const id = newId();
    expect(id).toMatch(V7);
    expect(millisecondsOf(id)).toBeGreaterThanOrEqual(before);
    expect(millisecondsOf(id)).toBeLessThanOrEqual(Date.now());
  });

  it('sorts ids in the order they were made, many in one millisecond included', () => {
    const ids = Array.from({ length: 20_000 }, () => newId());
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
  });

  // A module of its own per test, so that a faked clock leaves no state behind.
  async function freshNewId(): Promise<typeof newId> {
    vi.resetModules();
    return (await import('./ids.js')).newId;
  }

  it('moves on a millisecond once a millisecond has made 4,096 ids, still in order', async () => {
    const make = await freshNewId();
    const frozen = Date.parse('2030-01-01T00:00:00.000Z');
    vi.useFakeTimers({ now: frozen, toFake: ['Date'] });
    const ids = Array.from({ length: 10_000 }, () => make());
    expect(ids.every((id) => V7.test(id))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
    expect(millisecondsOf(ids[0] as string)).toBe(frozen);
    expect(millisecondsOf(ids.at(-1) as string)).toBeGreaterThan(frozen);
  });

  it('keeps counting up when the clock steps back', async () => {
    const make = await freshNewId();
    vi.useFakeTimers({ now: Date.parse('2030-01-01T00:00:01.000Z'), toFake: ['Date'] });
    const before = make();
    vi.setSystemTime(Date.parse('2030-01-01T00:00:00.000Z'));
    const after = make();
    expect(after > before).toBe(true);
  });
});
