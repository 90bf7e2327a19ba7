import { v7 as uuidv7 } from 'uuid';

/** A new time-ordered UUID (v7): sorts by creation and keeps B-tree inserts at the right edge. */
export function newId(): string {
  return uuidv7();
}

/** The current time as RFC 3339 UTC with milliseconds, the one timestamp format stored. */
export function nowIso(): string {
  return new Date().toISOString();
}

/** The stored spelling of a UUID a client sent: RFC 9562 allows upper case and a urn:uuid: prefix. */
export function canonicalUuid(id: string): string {
  return id.toLowerCase().replace(/^urn:uuid:/, '');
}
