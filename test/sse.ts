import http from 'node:http';

/** One message of a Server-Sent Events stream as a client parses it. */
export interface SseMessage {
  id: string | undefined;
  event: string;
  data: Record<string, unknown>;
}

/**
 * A Server-Sent Events client that sends the bearer token in the Authorization header, as the
 * dashboard's fetch-based one does. Collects every message until closed.
 */
export class SseStream {
  readonly messages: SseMessage[] = [];
  ended = false;
  private waiters: Array<() => void> = [];

  private constructor(
    readonly status: number,
    readonly headers: http.IncomingHttpHeaders,
    private readonly controller: AbortController,
  ) {}

  /** Opens a stream; a refused one (any status but 200) comes back with its problem in `problem`. */
  static async open(url: string, token: string | null, headers: Record<string, string> = {}): Promise<SseStream & { problem?: Record<string, unknown> }> {
    const controller = new AbortController();
    // A connection of its own (no agent): nothing pooled or opened ahead outlives the stream.
    const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
      const request = http.get(url, {
        agent: false,
        signal: controller.signal,
        headers: { accept: 'text/event-stream', ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
      });
      request.on('response', resolve).on('error', reject);
    });
    const stream = new SseStream(res.statusCode ?? 0, res.headers, controller) as SseStream & { problem?: Record<string, unknown> };
    if (res.statusCode !== 200) {
      let text = '';
      for await (const chunk of res) text += String(chunk);
      stream.problem = JSON.parse(text) as Record<string, unknown>;
      stream.ended = true;
      return stream;
    }
    void stream.read(res);
    return stream;
  }

  private async read(body: AsyncIterable<Buffer>): Promise<void> {
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of body) {
        buffer += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const fields = new Map<string, string>();
          for (const line of block.split('\n')) {
            if (line.startsWith(':') || line === '') continue;
            const colon = line.indexOf(':');
            fields.set(line.slice(0, colon), line.slice(colon + 1).replace(/^ /, ''));
          }
          if (!fields.has('data')) continue;
          this.messages.push({ id: fields.get('id'), event: fields.get('event') ?? 'message', data: JSON.parse(fields.get('data') as string) as Record<string, unknown> });
        }
        this.notify();
      }
    } catch {
      // aborted by close()
    }
    this.ended = true;
    this.notify();
  }

  private notify() {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  /** Waits until `done` holds for the messages so far (or the stream ended); fails after `ms`. */
  async until(done: (messages: SseMessage[]) => boolean, ms = 20_000): Promise<SseMessage[]> {
    const deadline = Date.now() + ms;
    while (!done(this.messages)) {
      if (this.ended) throw new Error(`stream ended before the condition held; got ${JSON.stringify(this.messages.map((m) => m.event))}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`condition not met within ${ms} ms; got ${this.messages.length} messages`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.messages;
  }

  /** Events of the feed (messages with an id), not presence. */
  get events(): SseMessage[] {
    return this.messages.filter((m) => m.id !== undefined);
  }

  close(): void {
    this.controller.abort();
  }
}
