/**
 * Customers drawn like a SaaS's (issue #32): most have never filed a ticket, some have a few,
 * few have many. Each gets a token of their own, so that every request of a load is a
 * different user's, as a reconnect storm or a busy Monday morning sends them.
 */
import { signDevToken, type DevKeys } from '../src/http/dev-keys.js';

export interface Population {
  /** Every customer's Authorization header, in a shuffled order. */
  all: Array<Record<string, string>>;
  /** Customers with no tickets. */
  none: Array<Record<string, string>>;
  /** Customers with exactly one ticket. */
  one: Array<Record<string, string>>;
  /** How many tickets the population holds. */
  tickets: number;
}

/** Shares of the population: none, a few (1-3), many (10-30). */
const SHARES = { none: 0.9, few: 0.09 } as const;

type Call = (method: string, path: string, who: Record<string, string>, body?: unknown) => Promise<unknown>;

/**
 * Makes `size` customers spread over 500 organizations, and their tickets through the API.
 * `tag` keeps one run's people apart from another's on a reused bench database.
 */
export async function makePopulation(keys: DevKeys, call: Call, api: string, size: number, tag: string): Promise<Population> {
  let seed = 42;
  const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
  const people: Array<{ header: Record<string, string>; tickets: number }> = [];
  for (let i = 0; i < size; i++) {
    const roll = i / size;
    const tickets = roll < SHARES.none ? 0 : roll < SHARES.none + SHARES.few ? 1 + Math.floor(random() * 3) : 10 + Math.floor(random() * 21);
    const token = await signDevToken(keys, { userId: `pop_${tag}_${i}`, email: `person${i}@pop${i % 500}.example`, orgId: `pop_${tag}_org_${i % 500}` });
    people.push({ header: { authorization: `Bearer ${token}` }, tickets });
  }
  let made = 0;
  const body = { title: 'Cannot invite a teammate', description: 'The invite email never arrives.', type: 'account' };
  for (const person of people) {
    for (let n = 0; n < person.tickets; n++) await call('POST', api, person.header, body);
    made += person.tickets;
  }
  const all = people.map((p) => p.header);
  // A fixed shuffle, so that the load does not walk the groups in order.
  for (let i = all.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [all[i], all[j]] = [all[j] as Record<string, string>, all[i] as Record<string, string>];
  }
  return {
    all,
    none: people.filter((p) => p.tickets === 0).map((p) => p.header),
    one: people.filter((p) => p.tickets === 1).map((p) => p.header),
    tickets: made,
  };
}

/** Tokens of `count` customers nobody has seen, for the memory bound (no tickets, no API calls). */
export async function strangers(keys: DevKeys, count: number, tag: string): Promise<Array<Record<string, string>>> {
  const headers: Array<Record<string, string>> = [];
  for (let i = 0; i < count; i++) {
    const token = await signDevToken(keys, { userId: `stranger_${tag}_${i}`, email: `stranger${i}@example.com`, orgId: `stranger_org_${i % 1000}` });
    headers.push({ authorization: `Bearer ${token}` });
  }
  return headers;
}
