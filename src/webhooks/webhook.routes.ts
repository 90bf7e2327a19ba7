import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { WebhookConfig } from '../config.js';
import type { Db } from '../db/database.js';
import { requireStaff } from '../http/auth.js';
import { problemResponses, Ref } from '../http/schemas.js';
import {
  CreateWebhookBody,
  DeliveryListQuery,
  DeliveryParams,
  UpdateWebhookBody,
  WebhookDelivery,
  WebhookDeliveryList,
  WebhookEndpoint,
  WebhookEndpointList,
  WebhookEndpointWithSecret,
  WebhookParams,
} from './webhook.schemas.js';
import {
  createWebhook,
  deleteWebhook,
  getWebhook,
  listWebhookDeliveries,
  listWebhooks,
  retryDelivery,
  rotateWebhookSecret,
  sendTestEvent,
  updateWebhook,
} from './webhook.service.js';

const security = [{ bearerClerk: [] }];
const tags = ['Webhooks (staff)'];
const BASE = '/admin/webhooks';

/** Signed webhook endpoints, managed by staff; deliveries are made from the events log (docs/WEBHOOKS.md). */
export const webhookRoutes: FastifyPluginAsyncTypebox<{ db: Db; config: WebhookConfig }> = async (app, { db, config }) => {
  app.addHook('onRequest', requireStaff);

  app.post(
    BASE,
    {
      schema: {
        operationId: 'create-webhook',
        summary: 'Add a webhook endpoint (staff)',
        description: 'The answer carries the signing secret; no other answer does. Save it now, or rotate it later.',
        tags,
        security,
        body: Ref(CreateWebhookBody),
        response: { 201: Ref(WebhookEndpointWithSecret), ...problemResponses(400, 401, 403, 413, 415, 422, 429, 500) },
      },
    },
    async (request, reply) => reply.code(201).send(await createWebhook(db, config, request.body)),
  );

  app.get(
    BASE,
    {
      schema: {
        operationId: 'list-webhooks',
        summary: 'List webhook endpoints (staff)',
        description: 'Every endpoint with its URL, subscribed event types, state and failure count; never a secret.',
        tags,
        security,
        response: { 200: Ref(WebhookEndpointList), ...problemResponses(401, 403, 429, 500) },
      },
    },
    async () => listWebhooks(db),
  );

  app.get(
    `${BASE}/:webhookId`,
    {
      schema: {
        operationId: 'get-webhook',
        summary: 'Get a webhook endpoint (staff)',
        description: 'One endpoint with its URL, subscribed event types, state and failure count; never its secret.',
        tags,
        security,
        params: WebhookParams,
        response: { 200: Ref(WebhookEndpoint), ...problemResponses(400, 401, 403, 404, 422, 429, 500) },
      },
    },
    async (request) => getWebhook(db, request.params.webhookId),
  );

  app.patch(
    `${BASE}/:webhookId`,
    {
      schema: {
        operationId: 'update-webhook',
        summary: 'Change a webhook endpoint, or disable or enable it (staff)',
        description: 'Changes the URL, event types or description, or disables (`disabled: true`) or re-enables the endpoint; deliveries waiting for a disabled endpoint wait until it is enabled.',
        tags,
        security,
        params: WebhookParams,
        body: Ref(UpdateWebhookBody),
        response: { 200: Ref(WebhookEndpoint), ...problemResponses(400, 401, 403, 404, 413, 415, 422, 429, 500) },
      },
    },
    async (request) => updateWebhook(db, config, request.params.webhookId, request.body),
  );

  app.delete(
    `${BASE}/:webhookId`,
    {
      schema: {
        operationId: 'delete-webhook',
        summary: 'Delete a webhook endpoint and its delivery log (staff)',
        description: 'Removes the endpoint, its pending deliveries and its delivery log.',
        tags,
        security,
        params: WebhookParams,
        response: { 204: Type.Null({ description: 'Deleted' }), ...problemResponses(400, 401, 403, 404, 413, 415, 422, 429, 500) },
      },
    },
    async (request, reply) => {
      await deleteWebhook(db, request.params.webhookId);
      return reply.code(204).send(null);
    },
  );

  app.post(
    `${BASE}/:webhookId/rotate-secret`,
    {
      schema: {
        operationId: 'rotate-webhook-secret',
        summary: 'Replace a webhook endpoint’s signing secret (staff)',
        description: 'Deliveries are signed with the new secret and, for 24 hours, with the old one as well (two signatures in `webhook-signature`).',
        tags,
        security,
        params: WebhookParams,
        response: { 200: Ref(WebhookEndpointWithSecret), ...problemResponses(400, 401, 403, 404, 413, 415, 422, 429, 500) },
      },
    },
    async (request) => rotateWebhookSecret(db, request.params.webhookId),
  );

  app.post(
    `${BASE}/:webhookId/test`,
    {
      schema: {
        operationId: 'test-webhook',
        summary: 'Send a webhook.test event to an endpoint now (staff)',
        description: 'Queues a signed `webhook.test` event for this endpoint alone; its delivery shows in the log like any other.',
        tags,
        security,
        params: WebhookParams,
        response: { 202: Ref(WebhookDelivery), ...problemResponses(400, 401, 403, 404, 409, 413, 415, 422, 429, 500) },
      },
    },
    async (request, reply) => reply.code(202).send(await sendTestEvent(db, request.params.webhookId)),
  );

  app.get(
    `${BASE}/:webhookId/deliveries`,
    {
      schema: {
        operationId: 'list-webhook-deliveries',
        summary: 'A webhook endpoint’s delivery log (staff)',
        description: 'Deliveries newest first, each with its attempts (status code, duration, the first 1 kB of the answer, error); filter by `status`, page with `after`.',
        tags,
        security,
        params: WebhookParams,
        querystring: DeliveryListQuery,
        response: { 200: Ref(WebhookDeliveryList), ...problemResponses(400, 401, 403, 404, 422, 429, 500) },
      },
    },
    async (request) => listWebhookDeliveries(db, request.params.webhookId, request.query),
  );

  app.post(
    `${BASE}/deliveries/:deliveryId/retry`,
    {
      schema: {
        operationId: 'retry-webhook-delivery',
        summary: 'Send a delivery again now (staff)',
        description: 'Makes a failed or pending delivery due now; it is sent by the next worker round.',
        tags,
        security,
        params: DeliveryParams,
        response: { 202: Ref(WebhookDelivery), ...problemResponses(400, 401, 403, 404, 409, 413, 415, 422, 429, 500) },
      },
    },
    async (request, reply) => reply.code(202).send(await retryDelivery(db, request.params.deliveryId)),
  );
};
