import { sql } from 'kysely';
import { dialectOf, type Db } from '../db/database.js';
import type { TicketCommentRow, TicketRow } from '../tickets/ticket.table.js';
import type { MailInboundTable, MailLevel, MailOutboxRow, MailOutboxTable } from './mail.table.js';

/** Adds outbox rows; one an event already has for that recipient is left as it is. */
export async function insertOutbox(db: Db, rows: MailOutboxTable[]): Promise<void> {
  if (rows.length === 0) return;
  await db
    .insertInto('mail_outbox')
    .values(rows)
    .onConflict((oc) => oc.columns(['event_id', 'recipient']).doNothing())
    .execute();
}

/**
 * Claims up to `limit` due messages until `leaseUntil`, counting the attempt. On PostgreSQL
 * rows another instance is claiming are skipped, not waited for.
 */
export async function claimDueMail(db: Db, now: string, leaseUntil: string, limit: number): Promise<MailOutboxRow[]> {
  const lock = dialectOf(db) === 'postgres' ? sql`for update skip locked` : sql``;
  const { rows } = await sql<MailOutboxRow>`update mail_outbox set locked_until = ${leaseUntil}, attempts = attempts + 1
    where id in (select id from mail_outbox
      where status = 'pending' and next_attempt_at <= ${now} and (locked_until is null or locked_until <= ${now})
      order by next_attempt_at, id limit ${limit} ${lock})
    returning *`.execute(db);
  // RETURNING keeps no order: a thread's messages go out in the order they were made.
  return rows.sort((a, b) => (a.next_attempt_at < b.next_attempt_at ? -1 : a.next_attempt_at > b.next_attempt_at ? 1 : a.id < b.id ? -1 : 1));
}

/** Records the end of an attempt on a row still held by the lease `leaseUntil`. */
export async function finishAttempt(
  db: Db,
  id: string,
  leaseUntil: string,
  outcome: { status: 'sent'; at: string } | { status: 'pending'; retryAt: string; error: string } | { status: 'failed'; error: string },
): Promise<void> {
  const patch =
    outcome.status === 'sent'
      ? { status: 'sent' as const, sent_at: outcome.at, last_error: null }
      : outcome.status === 'pending'
        ? { next_attempt_at: outcome.retryAt, last_error: outcome.error }
        : { status: 'failed' as const, last_error: outcome.error };
  await db.updateTable('mail_outbox').set({ ...patch, locked_until: null }).where('id', '=', id).where('locked_until', '=', leaseUntil).execute();
}

/** The ticket one of our Message-IDs (a notification's, or a thread root) belongs to. */
export async function ticketOfMessageIds(db: Db, messageIds: string[]): Promise<string | undefined> {
  if (messageIds.length === 0) return undefined;
  const row = await db.selectFrom('mail_outbox').select('ticket_id').where('message_id', 'in', messageIds).limit(1).executeTakeFirst();
  return row?.ticket_id;
}

/** Whether a Message-ID is one we sent. */
export async function isOurMessageId(db: Db, messageId: string): Promise<boolean> {
  return (await db.selectFrom('mail_outbox').select('id').where('message_id', '=', messageId).executeTakeFirst()) !== undefined;
}

/** The tickets with these ids, whatever their tenant, by id (one query for a batch of events). */
export async function findTicketsById(db: Db, ids: string[]): Promise<Map<string, TicketRow>> {
  if (ids.length === 0) return new Map();
  const rows = await db.selectFrom('tickets').selectAll().where('id', 'in', [...new Set(ids)]).execute();
  return new Map(rows.map((row) => [row.id, row]));
}

/** The comments with these ids, by id (one query for a batch of events). */
export async function findCommentsById(db: Db, ids: string[]): Promise<Map<string, TicketCommentRow>> {
  if (ids.length === 0) return new Map();
  const rows = await db.selectFrom('ticket_comments').selectAll().where('id', 'in', [...new Set(ids)]).execute();
  return new Map(rows.map((row) => [row.id, row]));
}

/** The ticket with a desk number. */
export async function findTicketByNumber(db: Db, number: number): Promise<TicketRow | undefined> {
  return db.selectFrom('tickets').selectAll().where('number', '=', number).executeTakeFirst();
}

/** A staff member with this address (as last seen with a verified token). */
export async function findStaffByEmail(db: Db, email: string): Promise<{ id: string; email: string } | undefined> {
  return db
    .selectFrom('users')
    .select(['id', 'email'])
    .where(sql<string>`lower(email)`, '=', email.toLowerCase())
    .where('is_staff', '=', 1)
    .orderBy('last_seen_at', 'desc')
    .limit(1)
    .executeTakeFirst();
}

/** A customer with this address who signed in (with a verified token) but may never have opened a ticket. */
export async function findSignedInCustomerByEmail(db: Db, email: string): Promise<string | undefined> {
  const row = await db
    .selectFrom('users')
    .select('id')
    .where(sql<string>`lower(email)`, '=', email.toLowerCase())
    .where('is_staff', '=', 0)
    .orderBy('last_seen_at', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row?.id;
}

/** The customer behind an address: who opened the latest ticket from it, and in which tenant. */
export async function findCustomerByEmail(db: Db, email: string): Promise<{ userId: string; tenantId: string; email: string } | undefined> {
  const row = await db
    .selectFrom('tickets')
    .select(['created_by', 'tenant_id', 'created_by_email'])
    .where(sql<string>`lower(created_by_email)`, '=', email.toLowerCase())
    .orderBy('created_at', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row && { userId: row.created_by, tenantId: row.tenant_id, email: row.created_by_email };
}

/** Records a received message. */
export async function insertInbound(db: Db, row: MailInboundTable): Promise<void> {
  await db.insertInto('mail_inbound').values(row).execute();
}

/** Messages received from `sender` since `since`. */
export async function countInboundSince(db: Db, sender: string, since: string): Promise<number> {
  const row = await db
    .selectFrom('mail_inbound')
    .select(sql<number | string>`count(*)`.as('n'))
    .where('sender', '=', sender)
    .where('received_at', '>=', since)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Whether a message with this Message-ID was already taken in (a relay delivering it twice). */
export async function wasTakenIn(db: Db, messageId: string): Promise<boolean> {
  const row = await db
    .selectFrom('mail_inbound')
    .select('id')
    .where('message_id', '=', messageId)
    .where('outcome', 'in', ['comment', 'note', 'ticket'])
    .executeTakeFirst();
  return row !== undefined;
}

/**
 * Deletes up to `limit` of the oldest finished outbox rows (sent or failed) and received
 * messages from before `before`; returns how many went. Pending rows stay whatever their age.
 */
export async function pruneMail(db: Db, before: string, limit: number): Promise<number> {
  const lock = dialectOf(db) === 'postgres' ? sql`for update skip locked` : sql``;
  const outbox = await sql`delete from mail_outbox where id in (select id from mail_outbox
    where created_at < ${before} and status <> 'pending' order by created_at limit ${limit} ${lock})`.execute(db);
  const inbound = await sql`delete from mail_inbound where id in (select id from mail_inbound
    where received_at < ${before} order by received_at limit ${limit} ${lock})`.execute(db);
  return Number(outbox.numAffectedRows ?? 0) + Number(inbound.numAffectedRows ?? 0);
}

/** A customer's mail level in a tenant; undefined when they never chose. */
export async function findMailLevel(db: Db, tenantId: string, userId: string): Promise<MailLevel | undefined> {
  const row = await db.selectFrom('mail_preferences').select('level').where('tenant_id', '=', tenantId).where('user_id', '=', userId).executeTakeFirst();
  return row?.level;
}

/** The mail levels chosen by these customers, keyed by mailLevelKey(tenant, user); no entry: never chose. */
export async function findMailLevels(db: Db, owners: Array<{ tenantId: string; userId: string }>): Promise<Map<string, MailLevel>> {
  if (owners.length === 0) return new Map();
  const rows = await db
    .selectFrom('mail_preferences')
    .select(['tenant_id', 'user_id', 'level'])
    .where('user_id', 'in', [...new Set(owners.map((o) => o.userId))])
    .execute();
  return new Map(rows.map((row) => [mailLevelKey(row.tenant_id, row.user_id), row.level]));
}

/** The key of a customer's level in findMailLevels' answer. */
export const mailLevelKey = (tenantId: string, userId: string) => JSON.stringify([tenantId, userId]);

/** Sets a customer's mail level in a tenant. */
export async function saveMailLevel(db: Db, tenantId: string, userId: string, level: MailLevel, at: string): Promise<void> {
  await db
    .insertInto('mail_preferences')
    .values({ tenant_id: tenantId, user_id: userId, level, updated_at: at })
    .onConflict((oc) => oc.columns(['tenant_id', 'user_id']).doUpdateSet({ level, updated_at: at }))
    .execute();
}
