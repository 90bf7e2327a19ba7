import type { Insertable } from 'kysely';
import type { Db } from '../db/database.js';
import { newId } from '../db/ids.js';
import { consumeEvents } from '../events/event.consumer.js';
import type { FeedRow } from '../events/event.repository.js';
import { API_PREFIX } from '../http/schemas.js';
import { enabledEndpoints, insertDeliveries } from './webhook.repository.js';
import type { WebhookDeliveryTable, WebhookEndpointRow } from './webhook.table.js';

/** Whether an endpoint takes an event: listed by type, or `*` and the customer may see it. */
export function subscribes(endpoint: WebhookEndpointRow, event: Pick<FeedRow, 'type' | 'audience'>): boolean {
  const types = JSON.parse(endpoint.event_types) as string[];
  return types.includes(event.type) || (types.includes('*') && event.audience === 'customer');
}

/**
 * The body sent for an event (Standard Webhooks: `{type, timestamp, data}`): the event's thin
 * data (never a comment's text) with the ticket, tenant, audience, who did it and a link to
 * the ticket in the API (the customer's route for customer-audience events, staff's for the rest).
 */
export function payloadOf(event: FeedRow, publicUrl: string | undefined): string {
  const path = event.audience === 'customer' ? `${API_PREFIX}/support/tickets/${event.ticket_id}` : `${API_PREFIX}/admin/support/tickets/${event.ticket_id}`;
  return JSON.stringify({
    type: event.type,
    timestamp: event.occurred_at,
    data: {
      ...(JSON.parse(event.data) as Record<string, unknown>),
      ticket_id: event.ticket_id,
      tenant_id: event.tenant_id,
      audience: event.audience,
      actor: { id: event.actor_id, type: event.actor_type },
      url: `${publicUrl ?? ''}${path}`,
    },
  });
}

/**
 * Writes, in the events consumer's transaction, one delivery per event and subscribed enabled
 * endpoint, due now: the consumer's cursor moves in the same commit, so each event is fanned
 * out exactly once, even across kill -9.
 */
export async function fanOutEvents(trx: Db, events: FeedRow[], publicUrl: string | undefined, now = new Date().toISOString()): Promise<void> {
  if (events.length === 0) return;
  const endpoints = await enabledEndpoints(trx);
  const rows: Insertable<WebhookDeliveryTable>[] = [];
  for (const event of events) {
    for (const endpoint of endpoints) {
      if (!subscribes(endpoint, event)) continue;
      rows.push({
        id: newId(),
        endpoint_id: endpoint.id,
        event_id: event.event_id,
        event_type: event.type,
        ticket_id: event.ticket_id,
        payload: payloadOf(event, publicUrl),
        status: 'pending',
        next_attempt_at: now,
        created_at: now,
      });
    }
  }
  await insertDeliveries(trx, rows);
}

/** The events consumer webhooks read through (events/event.consumer.ts). */
export const WEBHOOK_CONSUMER = 'webhooks';

/** Makes deliveries from the next batch of new events; how many events it took. */
export function fanOutNewEvents(db: Db, publicUrl: string | undefined, batch = 200): Promise<number> {
  return consumeEvents(db, WEBHOOK_CONSUMER, (trx, rows) => fanOutEvents(trx, rows, publicUrl), { batch });
}
