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

/** Seconds from a Retry-After header: a number of seconds or an HTTP date. */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (value === undefined) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - now) / 1000));
}

/**
 * POSTs `body` to `url` once: no redirect followed, at most `timeoutMs` for the whole
 * exchange, only the first 1 kB of the answer kept (the rest is not read). Connects only to
 * addresses the SSRF guard allows, checked on the addresses actually connected to.
 */
export function sendOnce(url: string, headers: Record<string, string>, body: string, options: { timeoutMs: number; allowPrivate: boolean }): Promise<SendResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  return new Promise((resolve) => {
    let settled = false;
    const finish = (result: Omit<SendResult, 'durationMs'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      request?.destroy();
      resolve({ ...result, durationMs: elapsed() });
    };
    let request: http.ClientRequest | undefined = undefined;
    const timer = setTimeout(() => finish({ error: `no answer within ${options.timeoutMs / 1000} s` }), options.timeoutMs);
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      return finish({ error: 'the endpoint URL is not valid' });
    }
    // A literal IP is connected to without a lookup, so it is checked here.
    const host = hostOf(target);
    const literal = net.isIP(host) ? refusedAddress(host) : undefined;
    if (literal && !options.allowPrivate) return finish({ error: `refused: ${literal}` });
    const client = target.protocol === 'https:' ? https : http;
    request = client.request(target, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), 'user-agent': 'helpdesk-webhooks' },
      lookup: guardedLookup(options.allowPrivate),
      // One connection per attempt: no pooled socket outlives the check of its address.
      agent: false,
    });
    request.on('error', (error: NodeJS.ErrnoException) =>
      finish({ error: error.name === 'RefusedAddressError' ? `refused: ${error.message}` : `${error.code ?? error.name}: ${error.message}` }),
    );
    request.on('response', (response) => {
      const chunks: Buffer[] = [];
      let kept = 0;
      const done = () =>
        finish({
          statusCode: response.statusCode ?? 0,
          body: Buffer.concat(chunks).toString('utf8').slice(0, RESPONSE_KEEP),
          ...retryAfter(response),
        });
      response.on('data', (chunk: Buffer) => {
        if (kept < RESPONSE_KEEP) chunks.push(chunk.subarray(0, RESPONSE_KEEP - kept));
        kept += chunk.length;
        if (kept >= RESPONSE_KEEP) done();
      });
      response.on('end', done);
      response.on('error', done);
    });
    request.end(body);
  });
}

function retryAfter(response: http.IncomingMessage): { retryAfterSeconds?: number } {
  const seconds = parseRetryAfter(response.headers['retry-after'], Date.now());
  return seconds === undefined ? {} : { retryAfterSeconds: seconds };
}
