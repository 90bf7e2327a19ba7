import { randomUUID } from 'node:crypto';
import type { WebhookConfig } from '../config.js';
import type { Db } from '../db/database.js';
import { newId } from '../db/ids.js';
import {
  claimDeliveries,
  lockEndpoint,
  markEndpointsHealthy,
  pruneDeliveries,
  recordAttempts,
  updateEndpoint,
  type ClaimedDelivery,
  type DeliveryAfterAttempt,
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

/** Claims up to `limit` due deliveries for this worker (a lease in the database), in `trx` if given. */
export function claimDue(db: Db, options: DeliveryOptions, limit: number, trx?: Db): Promise<ClaimedDelivery[]> {
  const now = clock(options);
  // Past the send's own timeout, so a live worker's claim never runs out under it.
  const leaseMs = options.leaseMs ?? 2 * (options.timeoutMs ?? 15_000) + 5_000;
  const claim = (t: Db) => claimDeliveries(t, iso(now), iso(now + leaseMs), options.worker ?? 'worker', limit, options.concurrency);
  return trx ? claim(trx) : db.transaction().execute(claim);
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

/** An attempt sent and judged, not yet recorded. */
export interface FinishedAttempt {
  delivery: ClaimedDelivery;
  attemptedAt: number;
  result: SendResult;
  outcome: Outcome;
}

/** Signs and sends one attempt, and judges the answer; records nothing. */
export async function sendAttempt(delivery: ClaimedDelivery, options: DeliveryOptions): Promise<FinishedAttempt> {
  const signedAt = new Date();
  const secrets = [delivery.secret];
  if (delivery.previous_secret && delivery.previous_secret_expires_at && delivery.previous_secret_expires_at > signedAt.toISOString()) {
    secrets.push(delivery.previous_secret);
  }
  const headers = signatureHeaders(delivery.event_id, delivery.payload, secrets, signedAt);
  const attemptedAt = clock(options);
  const result = await sendOnce(delivery.url, headers, delivery.payload, { timeoutMs: options.timeoutMs ?? 15_000, allowPrivate: options.allowPrivate });
  return { delivery, attemptedAt, result, outcome: judge(result, delivery.attempts + 1, clock(options)) };
}

/**
 * Records finished attempts in `trx`, in the order they finished: each attempt's row, its
 * delivery's next state (its lease ended), and what it says of its endpoint: a success clears
 * the endpoint's failure count; a failure starts it (or keeps its start), and a 410 or five days
 * of failures disables the endpoint. Returns the endpoints disabled.
 */
export async function recordFinished(trx: Db, finished: FinishedAttempt[]): Promise<Array<{ endpointId: string; reason: 'gone' | 'failing' }>> {
  const deliveries: DeliveryAfterAttempt[] = finished.map(({ delivery, attemptedAt, outcome }) => ({
    id: delivery.id,
    status: outcome.status,
    attempts: delivery.attempts + 1,
    next_attempt_at: outcome.status === 'pending' ? iso(outcome.retryAt) : iso(attemptedAt),
    last_attempt_at: iso(attemptedAt),
  }));
  await recordAttempts(
    trx,
    finished.map(({ delivery, attemptedAt, result }) => ({
      id: newId(),
      delivery_id: delivery.id,
      attempted_at: iso(attemptedAt),
      status_code: result.statusCode ?? null,
      duration_ms: result.durationMs,
      response_body: result.body ?? null,
      error: result.error ?? null,
    })),
    deliveries,
  );
  // Endpoints whose latest attempt here succeeded: their failure count is cleared at the end.
  const healthy = new Set<string>();
  const disabled: Array<{ endpointId: string; reason: 'gone' | 'failing' }> = [];
  // By endpoint (in the order they finished within each), so that instances lock endpoints in one order.
  const byEndpoint = [...finished].sort((a, b) => (a.delivery.endpoint_id < b.delivery.endpoint_id ? -1 : a.delivery.endpoint_id > b.delivery.endpoint_id ? 1 : 0));
  for (const { delivery, attemptedAt, outcome } of byEndpoint) {
    if (outcome.status === 'succeeded') {
      healthy.add(delivery.endpoint_id);
      continue;
    }
    const endpoint = await lockEndpoint(trx, delivery.endpoint_id);
    // Deleted meanwhile: its deliveries went with it.
    if (!endpoint) continue;
    // A success recorded here, before this failure, cleared the count: it starts again now.
    const failingSince = (healthy.delete(endpoint.id) ? null : endpoint.failing_since) ?? iso(attemptedAt);
    let reason: 'gone' | 'failing' | undefined;
    if (endpoint.disabled_at === null && outcome.status === 'failed' && outcome.disable === 'gone') reason = 'gone';
    else if (endpoint.disabled_at === null && Date.parse(failingSince) <= attemptedAt - FAILING_DISABLE_MS) reason = 'failing';
    await updateEndpoint(trx, endpoint.id, {
      failing_since: failingSince,
      ...(reason ? { disabled_at: iso(attemptedAt), disabled_reason: reason, updated_at: iso(attemptedAt) } : {}),
    });
    if (reason) disabled.push({ endpointId: endpoint.id, reason });
  }
  await markEndpointsHealthy(trx, [...healthy].sort());
  return disabled;
}

/** One attempt: signs, sends, records the attempt in a transaction of its own, and schedules what follows. */
export async function attemptDelivery(db: Db, delivery: ClaimedDelivery, options: DeliveryOptions): Promise<void> {
  const finished = await sendAttempt(delivery, options);
  const disabled = await db.transaction().execute((trx) => recordFinished(trx, [finished]));
  for (const { endpointId, reason } of disabled) options.onDisabled?.(endpointId, reason);
}

const PRUNE_BATCH = 1_000;
/** How long a finished attempt waits for others still being sent, to be recorded with them. */
const GATHER_MS = 5;

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
    /** Makes deliveries from new events; how many events it took. */
    fanOut?: () => Promise<number>;
    /** The most events `fanOut` takes at once: when it took that many, it is called again at once. */
    fanOutBatch?: number;
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
  const maxInFlight = options.maxInFlight ?? 64;
  // Attempts being sent, and those sent but not yet recorded (their leases still held).
  let inFlight = 0;
  const finished: FinishedAttempt[] = [];
  let stopped = false;
  let running = false;
  let again = false;
  let gathering = false;
  let timer: NodeJS.Timeout | undefined;
  const schedule = (ms: number) => {
    clearTimeout(timer);
    if (!stopped) timer = setTimeout(() => void round(), ms).unref();
  };
  const idleMs = options.idleMs ?? 200;
  const fanOutBatch = options.fanOutBatch ?? 200;
  let fannedOutAt = 0;
  let isFanOutBehind = false;
  /**
   * A round: makes deliveries from new events if it is time, then, in one transaction, records
   * every attempt finished since the last round and claims as many due deliveries as there is
   * room for, and starts sending them. One round at a time; attempts finishing meanwhile are
   * recorded by the next, which starts as soon as this one ends.
   */
  const round = async () => {
    gathering = false;
    if (running) {
      again = true;
      return;
    }
    running = true;
    let busy = false;
    do {
      again = false;
      busy = false;
      try {
        // New events are looked for on the timer (or at once while a full batch came back), not
        // on every round: each look is a transaction that would compete with the API's writes.
        if (options.fanOut && (isFanOutBehind || Date.now() - fannedOutAt >= idleMs)) {
          fannedOutAt = Date.now();
          isFanOutBehind = (await options.fanOut()) >= fanOutBatch;
          busy = isFanOutBehind;
        }
        const done = finished.splice(0);
        const room = stopped ? 0 : maxInFlight - inFlight;
        if (done.length === 0 && room === 0) continue;
        let disabled: Array<{ endpointId: string; reason: 'gone' | 'failing' }> = [];
        let claimed: ClaimedDelivery[];
        try {
          claimed = await db.transaction().execute(async (trx) => {
            if (done.length > 0) disabled = await recordFinished(trx, done);
            return room > 0 ? claimDue(db, delivery, room, trx) : [];
          });
        } catch (error) {
          // Recorded at the next round (their leases still hold them meanwhile).
          finished.unshift(...done);
          throw error;
        }
        inFlight -= done.length;
        for (const { endpointId, reason } of disabled) delivery.onDisabled?.(endpointId, reason);
        busy ||= claimed.length === room && room > 0;
        for (const d of claimed) {
          inFlight++;
          sendAttempt(d, delivery).then(
            (attempt) => {
              finished.push(attempt);
              // A finished attempt may free the next event of its ticket or a slot of its endpoint:
              // the next round starts at once when nothing else is being sent, else after a moment,
              // so that the attempts finishing together are recorded together.
              if (running) again = true;
              else if (finished.length === inFlight) schedule(0);
              else if (!gathering) {
                gathering = true;
                schedule(GATHER_MS);
              }
            },
            (error: unknown) => {
              // Not recorded: its lease runs out and it is tried again.
              inFlight--;
              options.onError?.(error);
            },
          );
        }
      } catch (error) {
        options.onError?.(error);
      }
    } while (again && !stopped);
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
