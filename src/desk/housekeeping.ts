import { pruneAttachments } from '../attachments/attachment.service.js';
import type { BlobStore } from '../attachments/attachment.store.js';
import type { Db } from '../db/database.js';
import { pruneEvents } from '../events/event.repository.js';
import { pruneIdempotencyKeys } from '../idempotency/idempotency.repository.js';

const DAY_MS = 86_400_000;
/** Rows one delete removes: a few milliseconds of work, so writers barely wait. */
const BATCH = 1_000;

export interface HousekeepingOptions {
  /** Days an event stays in the feed. */
  eventRetentionDays: number;
  /** Hours an Idempotency-Key's result is replayed (24 h). */
  idempotencyHours?: number;
  /** How often to look, in ms. */
  everyMs?: number;
  /** Where attachments are kept: unattached uploads past their hour and unnamed blobs go. */
  attachments?: BlobStore;
  /** Told of a round that failed (the next is tried at the usual time). */
  onError?: (error: unknown) => void;
}

/**
 * One round of pruning: events past their retention and expired idempotency keys, each in
 * bounded batches until none is left. Returns how many rows went.
 */
export async function pruneOnce(
  db: Db,
  options: HousekeepingOptions,
  now = Date.now(),
  /** Check every stored blob, not only those of uploads deleted now (the first round after a start). */
  everyBlob = false,
): Promise<{ events: number; idempotencyKeys: number; uploads?: number }> {
  const drain = async (prune: () => Promise<number>) => {
    let total = 0;
    for (let n = BATCH; n >= BATCH; total += n) n = await prune();
    return total;
  };
  const eventsBefore = new Date(now - options.eventRetentionDays * DAY_MS).toISOString();
  const keysBefore = new Date(now - (options.idempotencyHours ?? 24) * 3_600_000).toISOString();
  return {
    events: await drain(() => pruneEvents(db, eventsBefore, BATCH)),
    idempotencyKeys: await drain(() => pruneIdempotencyKeys(db, keysBefore, BATCH)),
    ...(options.attachments ? { uploads: (await pruneAttachments(db, options.attachments, now, everyBlob)).uploads } : {}),
  };
}

/** Prunes in the background, off the request path, every `everyMs` (10 minutes). Returns a stop function. */
export function startHousekeeping(db: Db, options: HousekeepingOptions): () => void {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let first = true;
  const round = async () => {
    try {
      await pruneOnce(db, options, Date.now(), first);
      first = false;
    } catch (error) {
      options.onError?.(error);
    }
    if (!stopped) timer = setTimeout(() => void round(), options.everyMs ?? 600_000).unref();
  };
  timer = setTimeout(() => void round(), 1_000).unref();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
