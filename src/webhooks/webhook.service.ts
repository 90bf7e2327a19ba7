import type { WebhookConfig } from '../config.js';
import type { Db } from '../db/database.js';
import { newId, nowIso } from '../db/ids.js';
import { AppError, conflict, notFound } from '../http/problem.js';
import { schemaUrl } from '../http/schemas.js';
import { hostOf, resolveAllowed } from './webhook.address.js';
import { presentDelivery, presentDeliveryList, presentEndpoint, presentEndpointWithSecret } from './webhook.presenter.js';
import {
  attemptsOf,
  deleteEndpoint,
  findDelivery,
  findEndpoint,
  insertDeliveries,
  insertEndpoint,
  listDeliveries,
  listEndpoints,
  lockEndpoint,
  updateDelivery,
  updateEndpoint,
} from './webhook.repository.js';
import type {
  CreateWebhookBody,
  DeliveryListQuery,
  UpdateWebhookBody,
  WebhookDelivery,
  WebhookDeliveryList,
  WebhookEndpoint,
  WebhookEndpointList,
  WebhookEndpointWithSecret,
} from './webhook.schemas.js';
import { newSecret } from './webhook.signing.js';

/** How long the secret before a rotation keeps signing alongside the new one. */
export const ROTATION_OVERLAP_MS = 24 * 3_600_000;

const endpointNotFound = () => notFound('webhook endpoint');
const invalidUrl = (url: string, message: string) => new AppError(422, 'validation failed', [{ location: 'body.url', message, value: url }]);

/**
 * Checks an endpoint URL: https (or http when allowed), no credentials, and a host that
 * resolves only to public addresses (unless private ones are allowed). Returns it normalized.
 */
async function checkUrl(url: string, config: WebhookConfig): Promise<string> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw invalidUrl(url, 'expected an absolute URL');
  }
  if (parsed.protocol !== 'https:' && !(parsed.protocol === 'http:' && config.allowHttp)) {
    throw invalidUrl(url, config.allowHttp ? 'expected an http:// or https:// URL' : 'expected an https:// URL');
  }
  if (parsed.username || parsed.password) throw invalidUrl(url, 'expected no user name or password in the URL: the signature authenticates');
  if (parsed.hash) throw invalidUrl(url, 'expected no #fragment');
  try {
    await resolveAllowed(hostOf(parsed), config.allowPrivate);
  } catch (error) {
    const message = error instanceof Error && error.name === 'RefusedAddressError' ? error.message : `${hostOf(parsed)} does not resolve`;
    throw invalidUrl(url, `refused: ${message}`);
  }
  return parsed.toString();
}

/** Adds an endpoint; the answer is the only one that shows its secret. */
export async function createWebhook(db: Db, config: WebhookConfig, body: CreateWebhookBody): Promise<WebhookEndpointWithSecret> {
  const url = await checkUrl(body.url, config);
  const now = nowIso();
  const row = {
    id: newId(),
    url,
    description: body.description ?? '',
    event_types: JSON.stringify(body.events),
    secret: newSecret(),
    previous_secret: null,
    previous_secret_expires_at: null,
    disabled_at: null,
    disabled_reason: null,
    failing_since: null,
    created_at: now,
    updated_at: now,
  };
  await insertEndpoint(db, row);
  return presentEndpointWithSecret(row, now);
}

export async function listWebhooks(db: Db): Promise<WebhookEndpointList> {
  const now = nowIso();
  return { $schema: schemaUrl('WebhookEndpointList'), endpoints: (await listEndpoints(db)).map((row) => presentEndpoint(row, now)) };
}

export async function getWebhook(db: Db, id: string): Promise<WebhookEndpoint> {
  const row = await findEndpoint(db, id);
  if (!row) throw endpointNotFound();
  return presentEndpoint(row, nowIso());
}

/** Changes an endpoint's URL, events, description or whether it is disabled. */
export async function updateWebhook(db: Db, config: WebhookConfig, id: string, body: UpdateWebhookBody): Promise<WebhookEndpoint> {
  const url = body.url === undefined ? undefined : await checkUrl(body.url, config);
  return db.transaction().execute(async (trx) => {
    const row = await lockEndpoint(trx, id);
    if (!row) throw endpointNotFound();
    const now = nowIso();
    const patch = {
      ...(url === undefined ? {} : { url }),
      ...(body.events === undefined ? {} : { event_types: JSON.stringify(body.events) }),
      ...(body.description === undefined ? {} : { description: body.description }),
      // Enabling starts afresh: the five days of failures count again from the next one.
      ...(body.disabled === false ? { disabled_at: null, disabled_reason: null, failing_since: null } : {}),
      ...(body.disabled === true && row.disabled_at === null ? { disabled_at: now, disabled_reason: 'staff' } : {}),
      updated_at: now,
    };
    await updateEndpoint(trx, id, patch);
    return presentEndpoint({ ...row, ...patch }, now);
  });
}

/** Deletes an endpoint with its delivery log; deliveries in flight finish, none is retried. */
export async function deleteWebhook(db: Db, id: string): Promise<void> {
  if (!(await deleteEndpoint(db, id))) throw endpointNotFound();
}

/** A new secret; the old one signs alongside it for 24 hours, so receivers can switch without a gap. */
export async function rotateWebhookSecret(db: Db, id: string): Promise<WebhookEndpointWithSecret> {
  return db.transaction().execute(async (trx) => {
    const row = await lockEndpoint(trx, id);
    if (!row) throw endpointNotFound();
    const now = nowIso();
    const patch = {
      secret: newSecret(),
      previous_secret: row.secret,
      previous_secret_expires_at: new Date(Date.parse(now) + ROTATION_OVERLAP_MS).toISOString(),
      updated_at: now,
    };
    await updateEndpoint(trx, id, patch);
    return presentEndpointWithSecret({ ...row, ...patch }, now);
  });
}

/** Queues a `webhook.test` event to the endpoint, sent by the next worker round. */
export async function sendTestEvent(db: Db, id: string): Promise<WebhookDelivery> {
  const endpoint = await findEndpoint(db, id);
  if (!endpoint) throw endpointNotFound();
  if (endpoint.disabled_at !== null) throw conflict('the endpoint is disabled: enable it first');
  const now = nowIso();
  const eventId = newId();
  const row = {
    id: newId(),
    endpoint_id: id,
    event_id: eventId,
    event_type: 'webhook.test',
    ticket_id: null,
    payload: JSON.stringify({ type: 'webhook.test', timestamp: now, data: { endpoint_id: id } }),
    status: 'pending' as const,
    next_attempt_at: now,
    locked_until: null,
    locked_by: null,
    last_attempt_at: null,
    created_at: now,
  };
  await insertDeliveries(db, [row]);
  const stored = await findDelivery(db, row.id);
  return presentDelivery(stored ?? { ...row, seq: '0', attempts: 0 }, []);
}

/** An endpoint's deliveries, newest first, each with its attempts. */
export async function listWebhookDeliveries(db: Db, id: string, query: DeliveryListQuery): Promise<WebhookDeliveryList> {
  if (!(await findEndpoint(db, id))) throw endpointNotFound();
  const limit = query.limit ?? 20;
  const rows = await listDeliveries(db, id, { status: query.status, beforeSeq: query.after }, limit + 1);
  const page = rows.slice(0, limit);
  return presentDeliveryList(page, await attemptsOf(db, page.map((r) => r.id)), rows.length > limit);
}

/** Sends a delivery again now (one more attempt), whatever its state, unless it is being sent. */
export async function retryDelivery(db: Db, deliveryId: string): Promise<WebhookDelivery> {
  return db.transaction().execute(async (trx) => {
    const delivery = await findDelivery(trx, deliveryId);
    if (!delivery) throw notFound('delivery');
    const endpoint = await lockEndpoint(trx, delivery.endpoint_id);
    if (!endpoint) throw notFound('delivery');
    if (endpoint.disabled_at !== null) throw conflict('the endpoint is disabled: enable it first');
    const now = nowIso();
    if (delivery.locked_until !== null && delivery.locked_until >= now) throw conflict('the delivery is being sent right now');
    const patch = { status: 'pending' as const, next_attempt_at: now, locked_until: null, locked_by: null };
    await updateDelivery(trx, deliveryId, patch);
    return presentDelivery({ ...delivery, ...patch }, await attemptsOf(trx, [deliveryId]));
  });
}
