import { schemaUrl } from '../http/schemas.js';
import type { Subscribable, WebhookDelivery, WebhookDeliveryList, WebhookEndpoint, WebhookEndpointWithSecret } from './webhook.schemas.js';
import type { WebhookAttemptRow, WebhookDeliveryRow, WebhookEndpointRow } from './webhook.table.js';

function endpointFields(row: WebhookEndpointRow, now: string) {
  return {
    id: row.id,
    url: row.url,
    events: JSON.parse(row.event_types) as Subscribable[],
    description: row.description,
    disabled: row.disabled_at !== null,
    disabled_reason: row.disabled_reason,
    failing_since: row.failing_since,
    previous_secret_expires_at: row.previous_secret_expires_at !== null && row.previous_secret_expires_at > now ? row.previous_secret_expires_at : null,
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

/** An endpoint without its secrets: every answer but the create and rotate ones. */
export function presentEndpoint(row: WebhookEndpointRow, now: string): WebhookEndpoint {
  return { $schema: schemaUrl('WebhookEndpoint'), ...endpointFields(row, now) };
}

/** An endpoint with its current secret, shown once. */
export function presentEndpointWithSecret(row: WebhookEndpointRow, now: string): WebhookEndpointWithSecret {
  return { $schema: schemaUrl('WebhookEndpointWithSecret'), ...endpointFields(row, now), secret: row.secret };
}

export function presentDelivery(row: WebhookDeliveryRow, attempts: WebhookAttemptRow[]): WebhookDelivery {
  return {
    $schema: schemaUrl('WebhookDelivery'),
    id: row.id,
    cursor: String(row.seq),
    endpoint_id: row.endpoint_id,
    event_id: row.event_id,
    event_type: row.event_type,
    ticket_id: row.ticket_id,
    status: row.status,
    next_attempt_at: row.status === 'pending' ? row.next_attempt_at : null,
    created_at: row.created_at,
    attempts: attempts.map((a) => ({
      attempted_at: a.attempted_at,
      status_code: a.status_code,
      duration_ms: a.duration_ms,
      response_body: a.response_body,
      error: a.error,
    })),
  };
}

export function presentDeliveryList(rows: WebhookDeliveryRow[], attempts: WebhookAttemptRow[], hasMore: boolean): WebhookDeliveryList {
  const byDelivery = new Map<string, WebhookAttemptRow[]>();
  for (const a of attempts) byDelivery.set(a.delivery_id, [...(byDelivery.get(a.delivery_id) ?? []), a]);
  return {
    $schema: schemaUrl('WebhookDeliveryList'),
    deliveries: rows.map((row) => presentDelivery(row, byDelivery.get(row.id) ?? [])),
    next_cursor: hasMore ? String(rows[rows.length - 1]?.seq) : null,
  };
}
