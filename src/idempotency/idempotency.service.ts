import { createHash } from 'node:crypto';
import { Type } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Db } from '../db/database.js';
import { nowIso } from '../db/ids.js';
import type { Actor } from '../http/auth.js';
import { AppError, conflict } from '../http/problem.js';
import { isNestedTooDeep, MAX_DEPTH } from '../http/validator.js';
import { deleteIdempotencyKey, findIdempotencyKey } from './idempotency.repository.js';
import type { IdempotencyKeyRow } from './idempotency.table.js';

const TTL_MS = 24 * 60 * 60 * 1000;

/** What a write needs to record its result under the caller's key, inside its own transaction. */
export interface Idempotency {
  tenantId: string;
  userId: string;
  key: string;
  requestHash: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    idempotency: Idempotency | null;
  }
}

const since = () => new Date(Date.now() - TTL_MS).toISOString();

/**
 * A preHandler for POSTs that honour `Idempotency-Key` (IETF draft, as Stripe does it): a key seen
 * before with the same request replays the stored status and body with `Idempotent-Replayed: true`;
 * with another request it is 422; while the first is still running, 409. Keys are per user in a
 * tenant and last 24 hours. Without the header, nothing changes.
 */
export function idempotencyHook(db: Db) {
  const inFlight = new Set<string>();
  return async function checkIdempotencyKey(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
    const key = request.headers['idempotency-key'];
    if (typeof key !== 'string') return undefined;
    const actor = request.actor as Actor;
    // A route without a body schema (close) never had its body checked: JSON.stringify would
    // overflow the stack on deep nesting, so it is refused as every validated body is.
    if (isNestedTooDeep(request.body)) {
      throw new AppError(422, 'validation failed', [{ location: 'body', message: `expected JSON nested at most ${MAX_DEPTH} levels deep` }]);
    }
    const requestHash = createHash('sha256')
      .update(`${request.method} ${request.url.split('?')[0]}\n${JSON.stringify(request.body ?? null)}`)
      .digest('hex');
    const scope = { tenantId: actor.tenantId, userId: actor.userId };
    let stored = await findIdempotencyKey(db, scope, key);
    if (stored && stored.created_at < since()) {
      // Expired: the key may be used again (the background pruning may not have got to it yet).
      await deleteIdempotencyKey(db, scope, key, stored.created_at);
      stored = undefined;
    }
    if (stored) {
      if (stored.request_hash !== requestHash) {
        throw new AppError(422, 'validation failed', [
          { location: 'header.Idempotency-Key', message: 'this key was already used with a different request', value: key },
        ]);
      }
      return reply
        .code(stored.status_code)
        .headers(JSON.parse(stored.response_headers) as Record<string, string>)
        .header('idempotent-replayed', 'true')
        .type('application/json; charset=utf-8')
        .send(stored.response_body);
    }
    const slot = JSON.stringify([actor.tenantId, actor.userId, key]);
    if (inFlight.has(slot)) throw conflict('a request with this Idempotency-Key is still being processed; retry later');
    inFlight.add(slot);
    request.idempotency = { tenantId: actor.tenantId, userId: actor.userId, key, requestHash };
    reply.raw.once('close', () => inFlight.delete(slot));
    return undefined;
  };
}

/**
 * The record of a write's result under its key, for the write to store with its own rows, so
 * that the result and the write land together or not at all (ticket.repository.ts).
 */
export function idempotencyRow(idempotency: Idempotency, result: { status: number; body: unknown; headers?: Record<string, string> | undefined }): IdempotencyKeyRow {
  return {
    tenant_id: idempotency.tenantId,
    user_id: idempotency.userId,
    key: idempotency.key,
    request_hash: idempotency.requestHash,
    status_code: result.status,
    response_body: JSON.stringify(result.body),
    response_headers: JSON.stringify({ ...result.headers, ...linkHeader(result.body) }),
    created_at: nowIso(),
  };
}

function linkHeader(body: unknown): Record<string, string> {
  const link = (body as { $schema?: unknown } | null)?.$schema;
  return typeof link === 'string' ? { link: `<${link}>; rel="describedBy"` } : {};
}

/**
 * Whether an error is a duplicate idempotency key: a concurrent request with the same key on
 * another instance. Any other duplicate (a constraint elsewhere) is not the client's retry.
 */
export function isDuplicateKey(error: unknown): boolean {
  const { code, constraint, message } = (error ?? {}) as { code?: unknown; constraint?: unknown; message?: unknown };
  if (code === '23505') return constraint === 'idempotency_keys_pk';
  return (code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE') && typeof message === 'string' && message.includes('idempotency_keys.');
}

/** The optional header, as route schemas declare it (validation and OpenAPI). */
export const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.Optional(
    Type.String({ minLength: 1, maxLength: 255, description: 'Makes retries safe: a repeat with the same key replays the first result for 24 h' }),
  ),
});

/** Maps a duplicate key at commit (the same request running on another instance) to 409. */
export function rethrowDuplicateAsConflict(error: unknown): never {
  throw isDuplicateKey(error) ? conflict('a request with this Idempotency-Key is still being processed; retry later') : error;
}
