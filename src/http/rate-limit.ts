import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from './problem.js';

const POLICY = 'user';
const MAX_TRACKED = 100_000;

/**
 * A fixed-window limit per verified user (never per IP: many customers share an office NAT),
 * announced with the IETF RateLimit and RateLimit-Policy fields
 * (draft-ietf-httpapi-ratelimit-headers): `RateLimit-Policy: "user";q=600;w=60` and
 * `RateLimit: "user";r=599;t=42`. Over the limit: 429 problem+json with Retry-After.
 * Counts live in this process; behind a load balancer each instance counts on its own.
 */
export function createRateLimiter(limit: { max: number; windowSeconds: number }) {
  const windows = new Map<string, { start: number; count: number }>();
  const policy = `"${POLICY}";q=${limit.max};w=${limit.windowSeconds}`;

  return async function rateLimit(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const key = request.actor?.userId;
    if (!key || limit.max === 0) return;
    const now = Date.now();
    const windowMs = limit.windowSeconds * 1000;
    let window = windows.get(key);
    if (!window || now - window.start >= windowMs) {
      if (windows.size >= MAX_TRACKED) sweep(windows, now, windowMs);
      window = { start: now, count: 0 };
      windows.set(key, window);
    }
    window.count++;
    const resetSeconds = Math.max(1, Math.ceil((window.start + windowMs - now) / 1000));
    const remaining = Math.max(0, limit.max - window.count);
    const headers = { 'ratelimit-policy': policy, ratelimit: `"${POLICY}";r=${remaining};t=${resetSeconds}` };
    if (window.count > limit.max) {
      throw new AppError(429, `rate limit of ${limit.max} requests per ${limit.windowSeconds} s exceeded; retry in ${resetSeconds} s`, undefined, {
        ...headers,
        'retry-after': String(resetSeconds),
      });
    }
    reply.headers(headers);
  };
}

function sweep(windows: Map<string, { start: number }>, now: number, windowMs: number): void {
  for (const [key, window] of windows) if (now - window.start >= windowMs) windows.delete(key);
  if (windows.size >= MAX_TRACKED) windows.clear();
}
