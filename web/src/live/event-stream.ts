/** A message of a Server-Sent Events stream. */
export interface StreamMessage {
  id: string | undefined;
  event: string;
  data: unknown;
}

export type StreamStatus = 'connecting' | 'live' | 'down';

export interface StreamOptions {
  url: string;
  /** The bearer token for each (re)connection; a fresh one after the last expired. */
  getToken: () => Promise<string | null>;
  onMessage: (message: StreamMessage) => void;
  onStatus: (status: StreamStatus) => void;
  /** The server refused the token (401): reconnecting would not help. */
  onUnauthorized?: () => void;
}

const MAX_BACKOFF_MS = 30_000;

/**
 * Follows a Server-Sent Events stream with fetch, so that the token goes in the Authorization
 * header (EventSource cannot send one, and the API takes no token from a URL). Reconnects with
 * exponential backoff and jitter, resuming with Last-Event-ID so nothing is missed; a stream
 * ended by `event: expired` reconnects at once with a fresh token. Returns a function that stops it.
 */
export function followEventStream(options: StreamOptions): () => void {
  const controller = new AbortController();
  let lastEventId: string | undefined;
  let failures = 0;

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      controller.signal.addEventListener('abort', () => clearTimeout(timer), { once: true });
    });

  async function connectOnce(): Promise<'again' | 'stop'> {
    options.onStatus('connecting');
    const token = await options.getToken();
    if (!token) return 'stop';
    const headers: Record<string, string> = { accept: 'text/event-stream', authorization: `Bearer ${token}` };
    if (lastEventId) headers['last-event-id'] = lastEventId;
    const response = await fetch(options.url, { headers, signal: controller.signal, cache: 'no-store' });
    if (response.status === 401) {
      options.onUnauthorized?.();
      return 'stop';
    }
    if (!response.ok || !response.body) throw new Error(`stream answered ${response.status}`);
    options.onStatus('live');
    failures = 0;
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    let expired = false;
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value.replace(/\r\n?/g, '\n');
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const message = parse(buffer.slice(0, end));
        buffer = buffer.slice(end + 2);
        if (!message) continue;
        if (message.id !== undefined) lastEventId = message.id;
        if (message.event === 'expired') expired = true;
        else options.onMessage(message);
      }
    }
    // An expired token reconnects at once; a stream the server ended (a restart) after a pause.
    if (!expired) failures++;
    return 'again';
  }

  void (async () => {
    while (!controller.signal.aborted) {
      let outcome: 'again' | 'stop' = 'again';
      try {
        outcome = await connectOnce();
      } catch {
        failures++;
      }
      if (controller.signal.aborted || outcome === 'stop') break;
      options.onStatus('down');
      if (failures > 0) {
        const backoff = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** (failures - 1));
        await sleep(backoff / 2 + Math.random() * (backoff / 2));
      }
    }
  })();
  return () => controller.abort();
}

function parse(block: string): StreamMessage | undefined {
  let id: string | undefined;
  let event = 'message';
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (line === '' || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'id') id = value;
    else if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
  }
  if (data.length === 0) return undefined;
  try {
    return { id, event, data: JSON.parse(data.join('\n')) as unknown };
  } catch {
    return undefined;
  }
}
