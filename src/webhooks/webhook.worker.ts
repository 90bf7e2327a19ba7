import { randomUUID } from 'node:crypto';
import type { WebhookConfig } from '../config.js';
import type { Db } from '../db/database.js';
import { newId } from '../db/ids.js';
import {
  claimDeliveries,
  insertAttempt,
  lockEndpoint,
  markEndpointHealthy,
  pruneDeliveries,
  updateDelivery,
  updateEndpoint,
  type ClaimedDelivery,
} from './webhook.repository.js';
import { sendOnce, type SendResult } from './webhook.sender.js';
import { signatureHeaders } from './webhook.signing.js';

/**
 * When to try again after the n-th failed attempt (the Standard Webhooks schedule: the first
 * attempt is immediate, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h); after the
 * tenth the delivery has failed.
 */
export const RETRY_SCHEDULE_MS = [5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 50_400_000, 72_000_000, 86_400_000];
export const MAX_ATTEMPTS = RETRY_SCHEDULE_MS.length + 1;
/** Up to this share of a delay is added at random, so receivers coming back are not hit by every retry at once. */
export const JITTER = 0.1;
/** An endpoint failing every delivery for this long is disabled. */
export const FAILING_DISABLE_MS = 5 * 86_400_000;
const RETRY_AFTER_MAX_MS = 86_400_000;
/** Answers whose Retry-After is followed instead of the schedule. */
const HONOURS_RETRY_AFTER = new Set([429, 502, 503, 504]);

export interface DeliveryOptions {
  allowPrivate: boolean;
  /** Deliveries in flight per endpoint, across instances. */
  concurrency: number;
  /** The clock that schedules retries and leases (tests move it); signatures use the real time. */
  now?: () => number;
  timeoutMs?: number;
  /** How long a claim lasts: past it, another instance takes the delivery over. */
  leaseMs?: number;
  /** This instance's name in the claims it makes. */
  worker?: string;
  /** Told when an endpoint is disabled by the worker. */
  onDisabled?: (endpointId: string, reason: 'gone' | 'failing') => void;
}

const clock = (options: DeliveryOptions) => options.now?.() ?? Date.now();
const iso = (ms: number) => new Date(ms).toISOString();

/** Claims up to `limit` due deliveries for this worker (a lease in the database). */
export function claimDue(db: Db, options: DeliveryOptions, limit: number): Promise<ClaimedDelivery[]> {
  const now = clock(options);
  // Past the send's own timeout, so a live worker's claim never runs out under it.
  const leaseMs = options.leaseMs ?? 2 * (options.timeoutMs ?? 15_000) + 5_000;
  return db.transaction().execute((trx) => claimDeliveries(trx, iso(now), iso(now + leaseMs), options.worker ?? 'worker', limit, options.concurrency));
}

/** Claims what is due and sends it, waiting for every attempt; how many were sent. For tests and tools. */
export async function deliverDue(db: Db, options: DeliveryOptions, limit = 50): Promise<number> {
  const claimed = await claimDue(db, options, limit);
  await Promise.all(claimed.map((delivery) => attemptDelivery(db, delivery, options)));
  return claimed.length;
}

type Outcome = { status: 'succeeded' } | { status: 'failed'; disable?: 'gone' } | { status: 'pending'; retryAt: number };

/** What an attempt's result means for the delivery. */
export function judge(result: SendResult, attempts: number, now: number, random = Math.random): Outcome {
  const code = result.statusCode;
  if (code !== undefined && code >= 200 && code < 300) return { status: 'succeeded' };
  if (code === 410) return { status: 'failed', disable: 'gone' };
  if (code !== undefined && HONOURS_RETRY_AFTER.has(code) && result.retryAfterSeconds !== undefined && attempts < MAX_ATTEMPTS) {
    return { status: 'pending', retryAt: now + Math.min(result.retryAfterSeconds * 1000, RETRY_AFTER_MAX_MS) };
  }
  const delay = RETRY_SCHEDULE_MS[attempts - 1];
  if (delay === undefined) return { status: 'failed' };
  return { status: 'pending', retryAt: now + Math.round(delay * (1 + JITTER * random())) };
}

/** One attempt: signs, sends, records the attempt, and schedules what follows. */
export async function attemptDelivery(db: Db, delivery: ClaimedDelivery, options: DeliveryOptions): Promise<void> {
  const signedAt = new Date();
  const secrets = [delivery.secret];
  if (delivery.previous_secret && delivery.previous_secret_expires_at && delivery.previous_secret_expires_at > signedAt.toISOString()) {
    secrets.push(delivery.previous_secret);
  }
  const headers = signatureHeaders(delivery.event_id, delivery.payload, secrets, signedAt);
  const attemptedAt = clock(options);
  const result = await sendOnce(delivery.url, headers, delivery.payload, { timeoutMs: options.timeoutMs ?? 15_000, allowPrivate: options.allowPrivate });
  const attempts = delivery.attempts + 1;
  const outcome = judge(result, attempts, clock(options));
  let disabled: 'gone' | 'failing' | undefined;
  await db.transaction().execute(async (trx) => {
    await insertAttempt(trx, {
      id: newId(),
      delivery_id: delivery.id,
      attempted_at: iso(attemptedAt),
      status_code: result.statusCode ?? null,
      duration_ms: result.durationMs,
      response_body: result.body ?? null,
      error: result.error ?? null,
    });
    await updateDelivery(trx, delivery.id, {
      status: outcome.status,
      attempts,
      next_attempt_at: outcome.status === 'pending' ? iso(outcome.retryAt) : iso(attemptedAt),
      locked_until: null,
      locked_by: null,
      last_attempt_at: iso(attemptedAt),
    });
    if (outcome.status === 'succeeded') {
      await markEndpointHealthy(trx, delivery.endpoint_id);
      return;
    }
    const endpoint = await lockEndpoint(trx, delivery.endpoint_id);
    // Deleted meanwhile: its deliveries went with it.
    if (!endpoint) return;
    const failingSince = endpoint.failing_since ?? iso(attemptedAt);
    if (endpoint.disabled_at === null && outcome.status === 'failed' && outcome.disable === 'gone') disabled = 'gone';
    else if (endpoint.disabled_at === null && Date.parse(failingSince) <= attemptedAt - FAILING_DISABLE_MS) disabled = 'failing';
    await updateEndpoint(trx, endpoint.id, {
      failing_since: failingSince,
      ...(disabled ? { disabled_at: iso(attemptedAt), disabled_reason: disabled, updated_at: iso(attemptedAt) } : {}),
    });
  });
  if (disabled) options.onDisabled?.(delivery.endpoint_id, disabled);
}

const PRUNE_BATCH = 1_000;

/**
 * Deletes succeeded and failed deliveries (and their attempts) last tried more than
 * `retentionDays` before `now`, in bounded batches; pending ones stay. Returns how many went.
 */
export async function pruneOldDeliveries(db: Db, retentionDays: number, now = Date.now()): Promise<number> {
  const before = iso(now - retentionDays * 86_400_000);
  let total = 0;
  for (let n = PRUNE_BATCH; n >= PRUNE_BATCH; total += n) n = await pruneDeliveries(db, before, PRUNE_BATCH);
  return total;
}

export interface WebhookWorker {
  /** Stops claiming; attempts in flight finish on their own (or their leases expire). */
  stop(): void;
}

/**
 * The delivery worker every instance runs: makes deliveries from new events (`fanOut`), claims
 * due ones and sends them, at most `maxInFlight` at once, so a slow or dead receiver holds a
 * few slots (its endpoint's concurrency) and never memory without bound. Off the request path.
 */
export function startWebhookWorker(
  db: Db,
  config: WebhookConfig,
  options: {
    fanOut?: () => Promise<number>;
    idleMs?: number;
    maxInFlight?: number;
    /** Days a finished delivery stays in the log (pruned every 10 minutes); undefined: kept. */
    retentionDays?: number;
    onError?: (error: unknown) => void;
    onDisabled?: DeliveryOptions['onDisabled'];
  } = {},
): WebhookWorker {
  const delivery: DeliveryOptions = {
    allowPrivate: config.allowPrivate,
    concurrency: config.concurrency,
    timeoutMs: config.timeoutSeconds * 1000,
    worker: randomUUID(),
    onDisabled: options.onDisabled,
  };
  const maxInFlight = options.maxInFlight ?? 32;
  let inFlight = 0;
  let stopped = false;
  let running = false;
  let timer: NodeJS.Timeout | undefined;
  const schedule = (ms: number) => {
    clearTimeout(timer);
    if (!stopped) timer = setTimeout(() => void round(), ms).unref();
  };
  const idleMs = options.idleMs ?? 200;
  let fannedOutAt = 0;
  let isFanOutBehind = false;
  const round = async () => {
    if (running) return;
    running = true;
    let busy = false;
    try {
      // New events are looked for on the timer (or at once while a backlog remains), not on every
      // finished attempt: each look is a transaction that would compete with the API's writes.
      if (options.fanOut && (isFanOutBehind || Date.now() - fannedOutAt >= idleMs)) {
        fannedOutAt = Date.now();
        isFanOutBehind = (await options.fanOut()) > 0;
        busy = isFanOutBehind;
      }
      const room = maxInFlight - inFlight;
      if (room > 0 && !stopped) {
        const claimed = await claimDue(db, delivery, room);
        busy ||= claimed.length === room;
        for (const d of claimed) {
          inFlight++;
          attemptDelivery(db, d, delivery)
            .catch((error: unknown) => options.onError?.(error))
            .finally(() => {
              inFlight--;
              // A finished attempt may free the next event of its ticket or a slot of its endpoint.
              if (!running) schedule(0);
            });
        }
      }
    } catch (error) {
      options.onError?.(error);
    }
    running = false;
    schedule(busy ? 0 : idleMs);
  };
  schedule(0);
  const { retentionDays } = options;
  const pruner =
    retentionDays === undefined
      ? undefined
      : setInterval(() => void pruneOldDeliveries(db, retentionDays).catch((error: unknown) => options.onError?.(error)), 600_000).unref();
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
      clearInterval(pruner);
    },
  };
}
