import { randomUUID } from 'node:crypto';

let lastMs = 0;
let sequence = 0;

/**
 * A new time-ordered UUID (v7, RFC 9562): sorts by creation and keeps B-tree inserts at the
 * right edge. Ids made in the same millisecond count up in the 12 bits after the version
 * (the RFC's "fixed-length dedicated counter"), so they sort in the order they were made; past
 * 4,096 in one millisecond the timestamp moves on a millisecond. The other 62 bits are
 * random, taken from `randomUUID`, whose variant bits are v7's too: Node draws its random bytes
 * from a pool, where a `crypto.getRandomValues` call per id (the uuid package) costs several
 * times as much.
 */
export function newId(): string {
  const now = Date.now();
  if (now > lastMs) {
    lastMs = now;
    // Starts low in the counter's range, leaving room to count up within the millisecond.
    sequence = Math.floor(Math.random() * 0x400);
  } else if (++sequence > 0xfff) {
    lastMs++;
    sequence = 0;
  }
  const time = lastMs.toString(16).padStart(12, '0');
  return `${time.slice(0, 8)}-${time.slice(8)}-7${sequence.toString(16).padStart(3, '0')}${randomUUID().slice(18)}`;
}

/** The current time as RFC 3339 UTC with milliseconds, the one timestamp format stored. */
export function nowIso(): string {
  return new Date().toISOString();
}

/** The stored spelling of a UUID a client sent: RFC 9562 allows upper case and a urn:uuid: prefix. */
export function canonicalUuid(id: string): string {
  return id.toLowerCase().replace(/^urn:uuid:/, '');
}
