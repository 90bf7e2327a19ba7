import { sql, type Insertable, type Updateable } from 'kysely';
import { dialectOf, type Db } from '../db/database.js';
import type {
  DeliveryStatus,
  WebhookAttemptRow,
  WebhookAttemptTable,
  WebhookDeliveryRow,
  WebhookDeliveryTable,
  WebhookEndpointRow,
  WebhookEndpointTable,
} from './webhook.table.js';

export async function insertEndpoint(db: Db, row: Insertable<WebhookEndpointTable>): Promise<void> {
  await db.insertInto('webhook_endpoints').values(row).execute();
}

export async function findEndpoint(db: Db, id: string): Promise<WebhookEndpointRow | undefined> {
  return db.selectFrom('webhook_endpoints').selectAll().where('id', '=', id).executeTakeFirst();
}

/** The endpoint's row, locked until the transaction ends (PostgreSQL; SQLite has one writer). */
export async function lockEndpoint(db: Db, id: string): Promise<WebhookEndpointRow | undefined> {
  const query = db.selectFrom('webhook_endpoints').selectAll().where('id', '=', id);
  return (dialectOf(db) === 'postgres' ? query.forUpdate() : query).executeTakeFirst();
}

export async function listEndpoints(db: Db): Promise<WebhookEndpointRow[]> {
  return db.selectFrom('webhook_endpoints').selectAll().orderBy('created_at').orderBy('id').execute();
}

/** Endpoints that take new deliveries. */
export async function enabledEndpoints(db: Db): Promise<WebhookEndpointRow[]> {
  return db.selectFrom('webhook_endpoints').selectAll().where('disabled_at', 'is', null).execute();
}

export async function updateEndpoint(db: Db, id: string, patch: Updateable<WebhookEndpointTable>): Promise<void> {
  await db.updateTable('webhook_endpoints').set(patch).where('id', '=', id).execute();
}

/** Clears endpoints' failure counts after a success (a no-op, and no write, while they are healthy). */
export async function markEndpointsHealthy(db: Db, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  await db.updateTable('webhook_endpoints').set({ failing_since: null }).where('id', 'in', ids).where('failing_since', 'is not', null).execute();
}

/** Deletes an endpoint and (by cascade) its deliveries and their attempts; whether it was there. */
export async function deleteEndpoint(db: Db, id: string): Promise<boolean> {
  const result = await db.deleteFrom('webhook_endpoints').where('id', '=', id).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

/** Adds deliveries; one already made for the same event and endpoint is left as it is. */
export async function insertDeliveries(db: Db, rows: Insertable<WebhookDeliveryTable>[]): Promise<void> {
  // Bounded statements: SQLite allows 32,766 parameters, each row takes 10.
  for (let i = 0; i < rows.length; i += 500) {
    await db
      .insertInto('webhook_deliveries')
      .values(rows.slice(i, i + 500))
      .onConflict((oc) => oc.columns(['endpoint_id', 'event_id']).doNothing())
      .execute();
  }
}

export async function findDelivery(db: Db, id: string): Promise<WebhookDeliveryRow | undefined> {
  return db.selectFrom('webhook_deliveries').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function updateDelivery(db: Db, id: string, patch: Updateable<WebhookDeliveryTable>): Promise<void> {
  await db.updateTable('webhook_deliveries').set(patch).where('id', '=', id).execute();
}

/** One page of an endpoint's deliveries, newest first, older than `beforeSeq` if given. */
export async function listDeliveries(
  db: Db,
  endpointId: string,
  filter: { status?: DeliveryStatus | undefined; beforeSeq?: string | undefined },
  limit: number,
): Promise<WebhookDeliveryRow[]> {
  let query = db.selectFrom('webhook_deliveries').selectAll().where('endpoint_id', '=', endpointId);
  if (filter.status) query = query.where('status', '=', filter.status);
  if (filter.beforeSeq !== undefined) query = query.where('seq', '<', filter.beforeSeq);
  return query.orderBy('seq', 'desc').limit(limit).execute();
}

export async function attemptsOf(db: Db, deliveryIds: string[]): Promise<WebhookAttemptRow[]> {
  if (deliveryIds.length === 0) return [];
  return db.selectFrom('webhook_attempts').selectAll().where('delivery_id', 'in', deliveryIds).orderBy('attempted_at').orderBy('id').execute();
}

/** A delivery's state after an attempt; its lease ends. */
export interface DeliveryAfterAttempt {
  id: string;
  status: DeliveryStatus;
  attempts: number;
  next_attempt_at: string;
  last_attempt_at: string;
}

/**
 * Records finished attempts: their rows in one statement, and their deliveries' new states
 * (each lease ended) in another, however many there are (bounded statements).
 */
export async function recordAttempts(trx: Db, attempts: Insertable<WebhookAttemptTable>[], deliveries: DeliveryAfterAttempt[]): Promise<void> {
  // SQLite allows 32,766 parameters: an attempt takes 7, a delivery 5.
  for (let i = 0; i < attempts.length; i += 500) await trx.insertInto('webhook_attempts').values(attempts.slice(i, i + 500)).execute();
  for (let i = 0; i < deliveries.length; i += 500) {
    const values = deliveries.slice(i, i + 500).map((d) => sql`(${d.id}, ${d.status}, ${d.attempts}, ${d.next_attempt_at}, ${d.last_attempt_at})`);
    await sql`with v (id, status, attempts, next_attempt_at, last_attempt_at) as (values ${sql.join(values)})
      update webhook_deliveries set status = v.status, attempts = cast(v.attempts as integer), next_attempt_at = v.next_attempt_at,
        locked_until = null, locked_by = null, last_attempt_at = v.last_attempt_at
      from v where webhook_deliveries.id = v.id`.execute(trx);
  }
}

/**
 * How many of each endpoint's earliest due deliveries a claim looks at: first four per slot,
 * then, only when that window was full and too few of it were free, this many (see claimDeliveries).
 */
const CLAIM_WINDOW = 128;

/** A claimed delivery, with what sending it needs from its endpoint. */
export type ClaimedDelivery = WebhookDeliveryRow & Pick<WebhookEndpointRow, 'url' | 'secret' | 'previous_secret' | 'previous_secret_expires_at'>;

type Due = { id: string; endpoint_id: string; seq: number | string; held_from: number | string | null };

/**
 * Claims up to `limit` due deliveries for `worker` until `leaseUntil`, at most `perEndpoint` in
 * flight per endpoint counting every instance's, and none while an earlier delivery of the
 * same ticket to the same endpoint has not been tried yet or is being sent (per-ticket order
 * while the endpoint is healthy). On PostgreSQL candidates are locked with SKIP LOCKED, so
 * instances claiming at once take different rows, and the endpoints' rows are locked so their
 * in-flight counts are read one claim at a time. Run it in a transaction.
 */
export async function claimDeliveries(trx: Db, now: string, leaseUntil: string, worker: string, limit: number, perEndpoint: number): Promise<ClaimedDelivery[]> {
  const postgres = dialectOf(trx) === 'postgres';
  const { rows: enabled } = await sql<{ id: string }>`select id from webhook_endpoints where disabled_at is null order by id`.execute(trx);
  if (enabled.length === 0 || limit <= 0) return [];
  // Each endpoint's earliest due deliveries, in claim order (migration 031): a claim reads at most
  // so many rows per endpoint whatever the backlog. The one query that found the free deliveries
  // in the whole backlog walked all of it whenever fewer were free than it asked for (a ticket's
  // later deliveries wait behind its earlier one): 8-19 ms a claim at 3,000-5,000 pending on
  // PostgreSQL. An endpoint's deliveries past its window wait while all of the window is held
  // back, until those tickets' earlier deliveries are done.
  const dueIn = async (window: number): Promise<Due[]> => {
    const windows = enabled.map(
      ({ id }) => sql`select * from (select id, endpoint_id, ticket_id, seq, next_attempt_at from webhook_deliveries
        where endpoint_id = ${id} and status = 'pending' and next_attempt_at <= ${now} and (locked_until is null or locked_until < ${now})
        order by next_attempt_at, seq limit ${window}) as w`,
    );
    // Held back: a delivery with an earlier one of the same ticket and endpoint not tried yet or
    // being sent. For each delivery in the windows, the first such of its ticket in the whole
    // backlog: one probe of the ticket's pending deliveries each (a subquery per row, which no
    // plan turns into a pass over the backlog).
    const { rows } = await sql<Due>`
      select w.id, w.endpoint_id, w.seq, (select p.seq from webhook_deliveries p
          where p.endpoint_id = w.endpoint_id and p.ticket_id = w.ticket_id and p.status = 'pending'
            and (p.attempts = 0 or p.locked_until >= ${now})
          order by p.seq limit 1) as held_from
      from (${sql.join(windows, sql` union all `)}) as w
      order by w.next_attempt_at, w.seq`.execute(trx);
    return rows;
  };
  // Up to four times its slots from each endpoint, so that one endpoint's backlog (a slow
  // receiver's, at its cap) never fills the candidates and keeps another endpoint waiting.
  const pick = (due: Due[]): Due[] => {
    const taken = new Map<string, number>();
    return due.filter((d) => {
      if (d.held_from !== null && BigInt(d.held_from) < BigInt(d.seq)) return false;
      const n = taken.get(d.endpoint_id) ?? 0;
      taken.set(d.endpoint_id, n + 1);
      return n < perEndpoint * 4;
    });
  };
  // The window a claim needs is its slots' four times over. Only when an endpoint's window came
  // back full with fewer free than one per slot (the rest held back behind their tickets'
  // earlier deliveries) is the wide one read. Each row of a window costs a probe: with a
  // backlog, reading 128 to fill four slots made the claim most of a delivery's database work.
  const narrow = Math.min(CLAIM_WINDOW, perEndpoint * 4);
  const due = await dueIn(narrow);
  let free = pick(due);
  if (narrow < CLAIM_WINDOW) {
    const count = (rows: Due[]) => rows.reduce((n, d) => n.set(d.endpoint_id, (n.get(d.endpoint_id) ?? 0) + 1), new Map<string, number>());
    const read = count(due);
    const found = count(free);
    if ([...read].some(([endpoint, n]) => n >= narrow && (found.get(endpoint) ?? 0) < perEndpoint)) free = pick(await dueIn(CLAIM_WINDOW));
  }
  if (free.length === 0) return [];
  // On PostgreSQL the candidates are locked, skipping those another instance is claiming, and
  // checked again once locked (a lease committed since our reads takes one out).
  const order = new Map(free.map((d, i) => [d.id, i]));
  const candidates = postgres
    ? (
        await sql<{ id: string; endpoint_id: string }>`select id, endpoint_id from webhook_deliveries
          where id in (${sql.join(free.map((d) => d.id))}) and status = 'pending' and (locked_until is null or locked_until < ${now})
          for update skip locked`.execute(trx)
      ).rows.sort((a, b) => (order.get(a.id) ?? 0) - (order.get(b.id) ?? 0))
    : free;
  if (candidates.length === 0) return [];
  const endpointIds = [...new Set(candidates.map((c) => c.endpoint_id))].sort();
  if (postgres) await sql`select id from webhook_endpoints where id in (${sql.join(endpointIds)}) order by id for update`.execute(trx);
  const { rows: busy } = await sql<{ endpoint_id: string; n: number | string }>`
    select endpoint_id, count(*) as n from webhook_deliveries
    where endpoint_id in (${sql.join(endpointIds)}) and status = 'pending' and locked_until >= ${now}
    group by endpoint_id`.execute(trx);
  const room = new Map(endpointIds.map((id) => [id, perEndpoint]));
  for (const { endpoint_id: id, n } of busy) room.set(id, perEndpoint - Number(n));
  const chosen: string[] = [];
  for (const { id, endpoint_id: endpoint } of candidates) {
    const left = room.get(endpoint) ?? 0;
    if (left <= 0 || chosen.length >= limit) continue;
    room.set(endpoint, left - 1);
    chosen.push(id);
  }
  if (chosen.length === 0) return [];
  await trx.updateTable('webhook_deliveries').set({ locked_until: leaseUntil, locked_by: worker }).where('id', 'in', chosen).execute();
  return trx
    .selectFrom('webhook_deliveries as d')
    .innerJoin('webhook_endpoints as e', 'e.id', 'd.endpoint_id')
    .selectAll('d')
    .select(['e.url', 'e.secret', 'e.previous_secret', 'e.previous_secret_expires_at'])
    .where('d.id', 'in', chosen)
    .orderBy('d.seq')
    .execute();
}

/** Deletes up to `limit` finished deliveries last tried before `before` (their attempts go by cascade); how many went. */
export async function pruneDeliveries(db: Db, before: string, limit: number): Promise<number> {
  // Several instances may prune at once: on PostgreSQL each skips the rows another is deleting.
  const lock = dialectOf(db) === 'postgres' ? sql`for update skip locked` : sql``;
  const result = await sql`delete from webhook_deliveries where seq in (
    select seq from webhook_deliveries where status <> 'pending' and last_attempt_at < ${before} limit ${limit} ${lock})`.execute(db);
  return Number(result.numAffectedRows ?? 0);
}
