import { Type, type Static } from '@sinclair/typebox';
import { InputSchemaLink, Nullable, Ref, SchemaLink } from '../http/schemas.js';
import { EVENT_TYPES } from '../events/event.table.js';
import { DELIVERY_STATUSES } from './webhook.table.js';

const Enum = <T extends readonly string[]>(values: T, description: string) => Type.Unsafe<T[number]>({ type: 'string', enum: [...values], description });

/** What an endpoint may subscribe to: event types, or `*` for every customer-audience type. */
export const SUBSCRIBABLE = [...EVENT_TYPES, '*'] as const;
export type Subscribable = (typeof SUBSCRIBABLE)[number];

const Url = Type.String({
  minLength: 1,
  maxLength: 2000,
  description: 'Where to POST events: an https:// URL (http:// only with HELPDESK_WEBHOOK_ALLOW_HTTP=1) whose host resolves to a public address',
});
const Events = Type.Array(
  Enum(
    SUBSCRIBABLE,
    'An event type, or `*` for every type the ticket’s customer may see. `note.created` (internal notes, staff audience) is sent only when listed by name',
  ),
  { minItems: 1, maxItems: SUBSCRIBABLE.length, uniqueItems: true, description: 'The event types to send' },
);
const Description = Type.String({ maxLength: 500, description: 'A note for the team: what the endpoint is for' });

export const CreateWebhookBody = Type.Object(
  { $schema: InputSchemaLink('CreateWebhookBody'), url: Url, events: Events, description: Type.Optional(Description) },
  { $id: 'CreateWebhookBody', additionalProperties: false },
);
export type CreateWebhookBody = Static<typeof CreateWebhookBody>;

export const UpdateWebhookBody = Type.Object(
  {
    $schema: InputSchemaLink('UpdateWebhookBody'),
    url: Type.Optional(Url),
    events: Type.Optional(Events),
    description: Type.Optional(Description),
    disabled: Type.Optional(Type.Boolean({ description: 'true stops deliveries (pending ones wait); false starts them again' })),
  },
  { $id: 'UpdateWebhookBody', additionalProperties: false },
);
export type UpdateWebhookBody = Static<typeof UpdateWebhookBody>;

const endpointFields = {
  id: Type.String({ format: 'uuid', description: 'The endpoint’s id' }),
  url: Type.String({ description: 'Where events are POSTed' }),
  events: Type.Array(Enum(SUBSCRIBABLE, 'An event type or `*`'), { description: 'The event types sent' }),
  description: Type.String({ description: 'A note for the team' }),
  disabled: Type.Boolean({ description: 'Whether deliveries are stopped' }),
  disabled_reason: Nullable(
    Type.String({ description: 'Why: `staff` (PATCH), `gone` (the receiver answered 410) or `failing` (every delivery failed for 5 days); null when enabled' }),
  ),
  failing_since: Nullable(Type.String({ format: 'date-time', description: 'The first failed attempt since the last success; null while healthy' })),
  previous_secret_expires_at: Nullable(
    Type.String({ format: 'date-time', description: 'Until when the secret before the last rotation still signs alongside the new one' }),
  ),
  created_at: Type.String({ format: 'date-time', description: 'When it was added' }),
  updated_at: Type.String({ format: 'date-time', description: 'When it was last changed' }),
};

export const WebhookEndpoint = Type.Object(
  { $schema: SchemaLink('WebhookEndpoint'), ...endpointFields },
  { $id: 'WebhookEndpoint', additionalProperties: false },
);
export type WebhookEndpoint = Static<typeof WebhookEndpoint>;

export const WebhookEndpointWithSecret = Type.Object(
  {
    $schema: SchemaLink('WebhookEndpointWithSecret'),
    ...endpointFields,
    secret: Type.String({
      pattern: '^whsec_[A-Za-z0-9+/]{43}=$',
      description: 'The signing secret (`whsec_` + base64 of 32 random bytes). Shown only in this answer: keep it now',
    }),
  },
  { $id: 'WebhookEndpointWithSecret', additionalProperties: false },
);
export type WebhookEndpointWithSecret = Static<typeof WebhookEndpointWithSecret>;

export const WebhookEndpointList = Type.Object(
  { $schema: SchemaLink('WebhookEndpointList'), endpoints: Type.Array(Ref(WebhookEndpoint), { description: 'Every endpoint, oldest first' }) },
  { $id: 'WebhookEndpointList', additionalProperties: false },
);
export type WebhookEndpointList = Static<typeof WebhookEndpointList>;

export const WebhookAttempt = Type.Object(
  {
    attempted_at: Type.String({ format: 'date-time', description: 'When it was sent' }),
    status_code: Nullable(Type.Integer({ description: 'The receiver’s HTTP status; null when there was no answer' })),
    duration_ms: Type.Integer({ minimum: 0, description: 'From sending to the answer (or the failure), in milliseconds' }),
    response_body: Nullable(Type.String({ description: 'The first 1 kB of the answer’s body' })),
    error: Nullable(Type.String({ description: 'Why it failed without an answer: a timeout, a refused address, a connection error' })),
  },
  { $id: 'WebhookAttempt', additionalProperties: false },
);

export const WebhookDelivery = Type.Object(
  {
    $schema: SchemaLink('WebhookDelivery'),
    id: Type.String({ format: 'uuid', description: 'The delivery’s id' }),
    cursor: Type.String({ pattern: '^\\d{1,19}$', description: 'Pass as `after` to list the deliveries made before this one' }),
    endpoint_id: Type.String({ format: 'uuid', description: 'Its endpoint' }),
    event_id: Type.String({ description: 'The event’s id: the `webhook-id` header, the same on every attempt' }),
    event_type: Type.String({ description: 'The event’s type (`webhook.test` for a test)' }),
    ticket_id: Nullable(Type.String({ format: 'uuid', description: 'The ticket; null for a test' })),
    status: Enum(DELIVERY_STATUSES, '`pending` (not yet sent, or waiting for a retry), `succeeded` (a 2xx) or `failed` (every attempt failed)'),
    next_attempt_at: Nullable(Type.String({ format: 'date-time', description: 'When it is sent next, while pending' })),
    created_at: Type.String({ format: 'date-time', description: 'When the delivery was made' }),
    attempts: Type.Array(Ref(WebhookAttempt), { description: 'Each attempt, oldest first' }),
  },
  { $id: 'WebhookDelivery', additionalProperties: false },
);
export type WebhookDelivery = Static<typeof WebhookDelivery>;

export const WebhookDeliveryList = Type.Object(
  {
    $schema: SchemaLink('WebhookDeliveryList'),
    deliveries: Type.Array(Ref(WebhookDelivery), { description: 'Newest first' }),
    next_cursor: Nullable(Type.String({ pattern: '^\\d{1,19}$', description: 'Pass as `after` for the next (older) page; null at the end' })),
  },
  { $id: 'WebhookDeliveryList', additionalProperties: false },
);
export type WebhookDeliveryList = Static<typeof WebhookDeliveryList>;

export const WebhookParams = Type.Object({ webhookId: Type.String({ format: 'uuid', description: 'The endpoint’s id' }) });
export const DeliveryParams = Type.Object({ deliveryId: Type.String({ format: 'uuid', description: 'The delivery’s id' }) });

export const DeliveryListQuery = Type.Object({
  status: Type.Optional(Enum(DELIVERY_STATUSES, 'Only deliveries in this state')),
  after: Type.Optional(Type.String({ pattern: '^\\d{1,19}$', description: 'A `cursor` or `next_cursor`: list older deliveries than it' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20, description: 'Deliveries per page' })),
});
export type DeliveryListQuery = Static<typeof DeliveryListQuery>;

export const webhookSchemas = [
  CreateWebhookBody,
  UpdateWebhookBody,
  WebhookEndpoint,
  WebhookEndpointWithSecret,
  WebhookEndpointList,
  WebhookAttempt,
  WebhookDelivery,
  WebhookDeliveryList,
];
