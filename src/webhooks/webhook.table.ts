import type { Generated, Selectable } from 'kysely';

/** A receiver of signed webhooks, managed by staff (migration 020). */
export interface WebhookEndpointTable {
  id: string;
  url: string;
  description: string;
  /** JSON array of event types, or ["*"]. */
  event_types: string;
  /** `whsec_` + base64 of 32 random bytes. Never logged, shown only when created or rotated. */
  secret: string;
  /** The secret before the last rotation, still signing alongside the new one until it expires. */
  previous_secret: string | null;
  previous_secret_expires_at: string | null;
  disabled_at: string | null;
  disabled_reason: string | null;
  /** The first failure since the last success; null while healthy. */
  failing_since: string | null;
  created_at: string;
  updated_at: string;
}
export type WebhookEndpointRow = Selectable<WebhookEndpointTable>;

export const DELIVERY_STATUSES = ['pending', 'succeeded', 'failed'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** One event to send to one endpoint, with its lease while a worker sends it. */
export interface WebhookDeliveryTable {
  /** Creation order (bigint on PostgreSQL: a string). */
  seq: Generated<number | string>;
  id: string;
  endpoint_id: string;
  /** The `webhook-id` header: the event's id, the same on every retry. */
  event_id: string;
  event_type: string;
  ticket_id: string | null;
  /** The exact body sent, fixed when the delivery is made. */
  payload: string;
  status: DeliveryStatus;
  attempts: Generated<number>;
  next_attempt_at: string;
  locked_until: string | null;
  locked_by: string | null;
  last_attempt_at: string | null;
  created_at: string;
}
export type WebhookDeliveryRow = Selectable<WebhookDeliveryTable>;

/** One try of a delivery: what the receiver answered, or why it could not. */
export interface WebhookAttemptTable {
  id: string;
  delivery_id: string;
  attempted_at: string;
  status_code: number | null;
  duration_ms: number;
  /** The first 1 kB of the response body. */
  response_body: string | null;
  error: string | null;
}
export type WebhookAttemptRow = Selectable<WebhookAttemptTable>;
