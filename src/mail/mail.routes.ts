import { timingSafeEqual, createHash } from 'node:crypto';
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { AppError } from '../http/problem.js';
import { requireStaff } from '../http/auth.js';
import { problemResponses, Ref } from '../http/schemas.js';
import { listDevOutbox } from './mail.outbox.js';
import { DevOutboxResponse, MailPreference, UpdateMailPreferenceBody } from './mail.schemas.js';
import type { Db } from '../db/database.js';
import type { Actor } from '../http/auth.js';
import { getMyMailPreference, receiveInboundOverHttp, setMyMailPreference } from './mail.service.js';
import type { InboundContext } from './mail.inbound.js';

/** The header carrying the shared secret of the inbound endpoint. */
export const INBOUND_SECRET_HEADER = 'x-helpdesk-inbound-secret';

const InboundEmailResult = Type.Object(
  {
    outcome: Type.Union([Type.Literal('comment'), Type.Literal('note'), Type.Literal('ticket'), Type.Literal('refused'), Type.Literal('ignored')], {
      description: 'What became of the message: a comment or note on a ticket, a new ticket, refused (recorded, nothing created) or ignored (a loop or a duplicate)',
    }),
    reason: Type.Optional(Type.String({ description: 'Why it was refused or ignored' })),
    ticket_id: Type.Optional(Type.String({ description: 'The ticket it was matched to or opened' })),
  },
  { additionalProperties: false },
);

// Compared as digests, so the comparison takes the same time whatever the lengths.
const digest = (text: string) => createHash('sha256').update(text).digest();

/**
 * POST /inbound/email: a raw RFC 822 message forwarded by a mail provider, authenticated by a
 * shared secret header (no user token: the provider is the caller). Exists only when
 * HELPDESK_MAIL_INBOUND_SECRET is set.
 */
export const inboundMailRoutes: FastifyPluginAsyncTypebox<{ context: InboundContext; secret: string }> = async (app, { context, secret }) => {
  const expected = digest(secret);
  app.addContentTypeParser('message/rfc822', { parseAs: 'buffer', bodyLimit: context.config.maxMessageBytes }, (_request, body, done) => done(null, body));
  app.addHook('onRequest', async (request) => {
    const given = request.headers[INBOUND_SECRET_HEADER];
    if (typeof given !== 'string' || !timingSafeEqual(digest(given), expected)) throw new AppError(401, `missing or wrong ${INBOUND_SECRET_HEADER} header`);
  });
  app.post(
    '/inbound/email',
    {
      schema: {
        operationId: 'receive-email',
        summary: 'Take in a reply or a new ticket by e-mail (mail providers)',
        description: `The raw message as \`message/rfc822\`, with the shared secret in \`${INBOUND_SECRET_HEADER}\`.`,
        tags: ['E-mail'],
        security: [],
        response: { 202: InboundEmailResult, ...problemResponses(400, 401, 413, 415, 422, 500) },
      },
    },
    async (request, reply) => reply.code(202).send(await receiveInboundOverHttp(context, request.body)),
  );
};

/**
 * GET /admin/mail/outbox: the development outbox, for staff. Exists only while no SMTP server is
 * configured (messages are then files in the data directory).
 */
export const devOutboxRoutes: FastifyPluginAsyncTypebox<{ dataDir: string }> = async (app, { dataDir }) => {
  app.addHook('onRequest', requireStaff);
  app.get(
    '/admin/mail/outbox',
    {
      schema: {
        operationId: 'list-dev-outbox',
        summary: 'Read the development outbox (staff; only without SMTP)',
        description: 'The notifications written as `.eml` files because no SMTP server is configured, newest first; the route does not exist once `HELPDESK_SMTP_URL` is set.',
        tags: ['E-mail'],
        security: [{ bearerClerk: [] }],
        response: { 200: Ref(DevOutboxResponse), ...problemResponses(401, 403, 429, 500) },
      },
    },
    async () => listDevOutbox(dataDir),
  );
};

/** GET and PUT /me/mail: what the caller is mailed about, per tenant. */
export const mailPreferenceRoutes: FastifyPluginAsyncTypebox<{ db: Db }> = async (app, { db }) => {
  const actorOf = (request: { actor: Actor | null }): Actor => request.actor as Actor;
  const security = [{ bearerClerk: [] }];
  const tags = ['E-mail'];
  app.get(
    '/me/mail',
    {
      schema: {
        operationId: 'get-my-mail-preference',
        summary: 'What I am sent by e-mail',
        description: 'Which notifications the caller receives by e-mail in their current organization: `all`, `replies` (staff replies only) or `none`.',
        tags,
        security,
        response: { 200: Ref(MailPreference), ...problemResponses(401, 429, 500) },
      },
    },
    async (request) => getMyMailPreference(db, actorOf(request)),
  );
  app.put(
    '/me/mail',
    {
      schema: {
        operationId: 'set-my-mail-preference',
        summary: 'Choose what I am sent by e-mail',
        description: 'Applies to the caller in their current organization.',
        tags,
        security,
        body: Ref(UpdateMailPreferenceBody),
        response: { 200: Ref(MailPreference), ...problemResponses(400, 401, 413, 415, 422, 429, 500) },
      },
    },
    async (request) => setMyMailPreference(db, actorOf(request), request.body),
  );
};
