import type { FastifyReply } from 'fastify';

interface Entry {
  version: string;
  body: string;
}

/**
 * Serialized response bodies, each kept with the version of the data it shows, least recently
 * used first out, bounded in bytes. A body is served only when the caller has just read the
 * same version from the database, so every instance stays exact however many run: the cache
 * saves the reads and the serialization, never the check.
 */
export class ResponseCache {
  readonly #entries = new Map<string, Entry>();
  readonly #loading = new Map<string, Promise<string>>();
  #bytes = 0;

  constructor(private readonly maxBytes: number) {}

  /** The body stored under `key`, if it was stored for `version`. */
  #get(key: string, version: string | undefined): string | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined || version === undefined || entry.version !== version) return undefined;
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    return entry.body;
  }

  /**
   * Answers from the cache when `key` was stored at `current` (the version just read);
   * otherwise loads the response, serializes it through the route's schema, keeps it under
   * the version it was read at, and sends it. Requests that miss at the same known version
   * share one load: after a change, every agent watching a view would otherwise send the same
   * query to the database at once, each waiting behind the others.
   */
  async reply(
    reply: FastifyReply,
    key: string,
    current: string | undefined,
    schemaLink: string,
    load: () => Promise<{ version: string | undefined; body: unknown }>,
  ): Promise<FastifyReply> {
    const cached = this.#get(key, current);
    if (cached !== undefined) return sendSerialized(reply, cached, schemaLink);
    const flight = current === undefined ? undefined : `${key}\u0000${current}`;
    let loading = flight === undefined ? undefined : this.#loading.get(flight);
    if (loading === undefined) {
      loading = load().then(({ version, body }) => {
        const serialized = String(reply.serialize(body));
        this.#set(key, version, serialized);
        return serialized;
      });
      if (flight !== undefined) {
        this.#loading.set(flight, loading);
        const done = () => this.#loading.delete(flight);
        loading.then(done, done);
      }
    }
    return sendSerialized(reply, await loading, schemaLink);
  }

  #set(key: string, version: string | undefined, body: string): void {
    this.#drop(key);
    const size = bytesOf(key, body);
    if (version === undefined || size > this.maxBytes) return;
    this.#entries.set(key, { version, body });
    this.#bytes += size;
    for (const [oldest] of this.#entries) {
      if (this.#bytes <= this.maxBytes) break;
      this.#drop(oldest);
    }
  }

  #drop(key: string): void {
    const entry = this.#entries.get(key);
    if (entry === undefined) return;
    this.#bytes -= bytesOf(key, entry.body);
    this.#entries.delete(key);
  }
}

/** What an entry holds in memory: UTF-16, the key too (it may be long). */
const bytesOf = (key: string, body: string) => (key.length + body.length) * 2;

/**
 * Sends an already serialized JSON body. Fastify skips the preSerialization hook for a string,
 * so the `Link` header that hook adds is set here from the body's `$schema`.
 */
function sendSerialized(reply: FastifyReply, body: string, schemaLink: string): FastifyReply {
  return reply.type('application/json; charset=utf-8').header('link', `<${schemaLink}>; rel="describedBy"`).send(body);
}
