import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { guardedLookup, hostOf, refusedAddress } from './webhook.address.js';

/** What one POST to a receiver came to. */
export interface SendResult {
  /** The HTTP status, undefined when there was no answer. */
  statusCode?: number;
  /** Seconds a 429/503-style answer asked to wait (Retry-After), if it said. */
  retryAfterSeconds?: number;
  /** The first 1 kB of the body. */
  body?: string;
  /** Why there was no answer. */
  error?: string;
  durationMs: number;
}

const RESPONSE_KEEP = 1024;
/** An idle kept-alive connection is closed after this long (a busy one is reused as long as it stays busy). */
const IDLE_CONNECTION_MS = 30_000;

/**
 * Connections are kept alive and reused: a delivery to a healthy receiver costs one request,
 * not a TCP (and TLS) handshake and a name lookup. The SSRF guard runs on every new connection,
 * on the address connected to, as before; a reused one goes to the address checked when it was
 * made. One pool per protocol and per allowPrivate, so that a connection made with the guard
 * lifted never serves a request that must have it.
 */
const agents = new Map<string, http.Agent>();
function agentFor(protocol: string, allowPrivate: boolean): http.Agent {
  const key = `${protocol}${allowPrivate}`;
  let agent = agents.get(key);
  if (!agent) {
    const options = { keepAlive: true, timeout: IDLE_CONNECTION_MS, scheduling: 'lifo' as const };
    agent = protocol === 'https:' ? new https.Agent(options) : new http.Agent(options);
    agents.set(key, agent);
  }
  return agent;
}

/** Seconds from a Retry-After header: a number of seconds or an HTTP date. */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (value === undefined) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - now) / 1000));
}

/**
 * POSTs `body` to `url` once: no redirect followed, at most `timeoutMs` for the whole
 * exchange, only the first 1 kB of the answer kept (the rest is not read, and its connection
 * is closed). Connects only to addresses the SSRF guard allows, checked on the addresses
 * actually connected to. A kept-alive connection the receiver closed just as it was reused is
 * retried once on a new one (the receiver may then hear the event twice, as at-least-once allows).
 */
export function sendOnce(url: string, headers: Record<string, string>, body: string, options: { timeoutMs: number; allowPrivate: boolean }): Promise<SendResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  return new Promise((resolve) => {
    let settled = false;
    let request: http.ClientRequest | undefined = undefined;
    const finish = (result: Omit<SendResult, 'durationMs'>, keepConnection = false) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      // A connection is reused only after an answer read to its end.
      if (!keepConnection) request?.destroy();
      resolve({ ...result, durationMs: elapsed() });
    };
    const timer = setTimeout(() => finish({ error: `no answer within ${options.timeoutMs / 1000} s` }), options.timeoutMs);
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      return finish({ error: 'the endpoint URL is not valid' });
    }
    // A literal IP is connected to without a lookup, so it is checked here.
    const host = hostOf(target);
    const literal = !options.allowPrivate && net.isIP(host) ? refusedAddress(host) : undefined;
    if (literal) return finish({ error: `refused: ${literal}` });
    const client = target.protocol === 'https:' ? https : http;
    const agent = agentFor(target.protocol, options.allowPrivate);
    const lookup = guardedLookup(options.allowPrivate);
    const send = (retried: boolean) => {
      const sent = client.request(target, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), 'user-agent': 'helpdesk-webhooks' },
        lookup,
        agent,
      });
      request = sent;
      let answered = false;
      sent.on('error', (error: NodeJS.ErrnoException) => {
        if (!answered && !retried && !settled && sent.reusedSocket && (error.code === 'ECONNRESET' || error.code === 'EPIPE')) return send(true);
        finish({ error: error.name === 'RefusedAddressError' ? `refused: ${error.message}` : `${error.code ?? error.name}: ${error.message}` });
      });
      sent.on('response', (response) => {
        answered = true;
        const chunks: Buffer[] = [];
        let kept = 0;
        const done = (whole: boolean) =>
          finish(
            {
              statusCode: response.statusCode ?? 0,
              body: Buffer.concat(chunks).toString('utf8').slice(0, RESPONSE_KEEP),
              ...retryAfter(response),
            },
            whole,
          );
        response.on('data', (chunk: Buffer) => {
          if (kept < RESPONSE_KEEP) chunks.push(chunk.subarray(0, RESPONSE_KEEP - kept));
          kept += chunk.length;
          if (kept > RESPONSE_KEEP) done(false);
        });
        response.on('end', () => done(true));
        response.on('error', () => done(false));
      });
      sent.end(body);
    };
    send(false);
  });
}

function retryAfter(response: http.IncomingMessage): { retryAfterSeconds?: number } {
  const seconds = parseRetryAfter(response.headers['retry-after'], Date.now());
  return seconds === undefined ? {} : { retryAfterSeconds: seconds };
}
