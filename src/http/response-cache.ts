import type { FastifyReply } from 'fastify';

interface Entry {
  version: string;
  owner: string;
  body: string;
}

/** Where a response is cached: its key, whose it is, and the version of the data just read. */
export interface CacheSlot {
  key: string;
  /** Who may be served the entry: it goes to no one else, whatever the key says. */
  owner: string;
  /** The version just read from the database; undefined when it cannot be known (never served from cache). */
  version: string | undefined;
}

/** Turns a response body into JSON through the route's response schema. */
export type Serialize = (body: unknown) => string;

/**
 * Serialized response bodies, each kept with the version of the data it shows, least recently
 * used first out, bounded in bytes. A body is served only when the caller has just read the
 * same version from the database, so every instance stays exact however many run: the cache
 * saves the reads and the serialization, never the check.
 */
export class ResponseCache {
  readonly #entries = new Map<string, Entry>();
  readonly #loading = new Map<string, Promise<string>>();
  /** By key and owner: the load running now (at some version), and the one queued to follow it. */
  readonly #running = new Map<string, Promise<unknown>>();
  readonly #following = new Map<string, Promise<string>>();
  #bytes = 0;

  constructor(private readonly maxBytes: number) {}

  /** The body stored under the slot's key, if it was stored for its version and owner. */
  #get({ key, version, owner }: CacheSlot): string | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined || version === undefined || entry.version !== version || entry.owner !== owner) return undefined;
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    return entry.body;
  }

  /**
   * The serialized body from the cache when the slot's key was stored at its version for its
   * owner; otherwise loads the response, serializes it, keeps it under the version it was read
   * at, and returns it. Requests that miss at the same known version share one load: after a
   * change, every agent watching a view would otherwise send the same query to the database
   * at once, each waiting behind the others.
   */
  async serve(slot: CacheSlot, load: () => Promise<{ version: string | undefined; body: unknown }>, serialize: Serialize): Promise<string> {
    const cached = this.#get(slot);
    if (cached !== undefined) return cached;
    const flight = slot.version === undefined ? undefined : JSON.stringify([slot.key, slot.owner, slot.version]);
    let loading = flight === undefined ? undefined : this.#loading.get(flight);
    if (loading === undefined) {
      loading = load().then(({ version, body }) => {
        const serialized = serialize(body);
        this.#set(slot.key, slot.owner, version, serialized);
        return serialized;
      });
      if (flight !== undefined) {
        this.#loading.set(flight, loading);
        const done = () => this.#loading.delete(flight);
        loading.then(done, done);
      }
    }
    return loading;
  }

  /**
   * serve(), for data that changes faster than it loads (the staff queue on a busy desk): at most
   * one load per key and owner runs at a time. A request at the version of the running load
   * shares it, as in serve(). One at another version waits for the load queued to follow: it
   * starts once the running one ends, reads the version again then (`readVersion`), and so
   * shows everything committed before any request waiting for it arrived. Loads then follow
   * one another instead of piling up one per version, and no answer is older than its request.
   */
  async serveLatest(
    slot: CacheSlot,
    load: (version: string | undefined) => Promise<{ version: string | undefined; body: unknown }>,
    serialize: Serialize,
    readVersion: () => Promise<string | undefined>,
  ): Promise<string> {
    const cached = this.#get(slot);
    if (cached !== undefined) return cached;
    const flight = slot.version === undefined ? undefined : this.#loading.get(JSON.stringify([slot.key, slot.owner, slot.version]));
    if (flight !== undefined) return flight;
    const line = JSON.stringify([slot.key, slot.owner]);
    const running = this.#running.get(line);
    if (running === undefined) return this.#lead(line, slot, load, serialize);
    let following = this.#following.get(line);
    if (following === undefined) {
      following = running
        .catch(() => {})
        .then(async () => {
          this.#following.delete(line);
          const version = await readVersion();
          return this.#lead(line, { ...slot, version }, load, serialize);
        });
      this.#following.set(line, following);
    }
    return following;
  }

  /** Runs a load as the one running for its line (key and owner) until it ends. */
  #lead(line: string, slot: CacheSlot, load: (version: string | undefined) => Promise<{ version: string | undefined; body: unknown }>, serialize: Serialize): Promise<string> {
    const loading = this.serve(slot, () => load(slot.version), serialize);
    this.#running.set(line, loading);
    const done = () => {
      if (this.#running.get(line) === loading) this.#running.delete(line);
    };
    loading.then(done, done);
    return loading;
  }

  #set(key: string, owner: string, version: string | undefined, body: string): void {
    this.#drop(key);
    const size = bytesOf(key, body) + owner.length * 2;
    if (version === undefined || size > this.maxBytes) return;
    this.#entries.set(key, { version, owner, body });
    this.#bytes += size;
    for (const [oldest] of this.#entries) {
      if (this.#bytes <= this.maxBytes) break;
      this.#drop(oldest);
    }
  }

  #drop(key: string): void {
    const entry = this.#entries.get(key);
    if (entry === undefined) return;
    this.#bytes -= bytesOf(key, entry.body) + entry.owner.length * 2;
    this.#entries.delete(key);
  }
}

/** What an entry holds in memory: UTF-16, the key too (it may be long). */
const bytesOf = (key: string, body: string) => (key.length + body.length) * 2;

/**
 * Sends an already serialized JSON body. Fastify skips the preSerialization hook for a string,
 * so the `Link` header that hook adds is set here from the body's `$schema`.
 */
export function sendSerialized(reply: FastifyReply, body: string, schemaLink: string): FastifyReply {
  return reply.type('application/json; charset=utf-8').header('link', `<${schemaLink}>; rel="describedBy"`).send(body);
}
