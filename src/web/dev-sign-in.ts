import { isIPv4 } from 'node:net';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AuthConfig } from '../config.js';
import { signDevToken, type DevKeys } from '../http/dev-keys.js';
import { AppError } from '../http/problem.js';
import { problemResponses, Ref, schemaUrl } from '../http/schemas.js';
import { DEV_IDENTITIES } from './dev-identities.js';
import { CreateDevTokenBody, DevToken } from './web.schemas.js';

const TOKEN_TTL_SECONDS = 8 * 3600;

export const LOOPBACK_ONLY_MESSAGE =
  'development sign-in works only from this machine: open the dashboard at http://localhost (or 127.0.0.1) on the server itself, or configure Clerk to sign in from elsewhere';

/** Whether a socket's peer address is this machine: 127.0.0.0/8, ::1, or 127.x mapped into IPv6. */
export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  if (address === '::1') return true;
  const v4 = address.toLowerCase().startsWith('::ffff:') ? address.slice('::ffff:'.length) : address;
  return isIPv4(v4) && v4.startsWith('127.');
}

/**
 * POST /dev/tokens: a token for a demo identity, so the dashboard can be tried without Clerk.
 * Registered only in development mode; with Clerk configured the route does not exist.
 * It answers only this machine: the server listens on every interface by default, and a staff
 * token for anyone on the network would open every tenant's tickets.
 */
export const devSignInRoutes: FastifyPluginAsyncTypebox<{ auth: AuthConfig; keys: DevKeys }> = async (app, { auth, keys }) => {
  // The socket's own peer, never X-Forwarded-For (trustProxy stays off), and before the body is even read.
  app.addHook('onRequest', async (request) => {
    if (!isLoopback(request.socket.remoteAddress)) throw new AppError(403, LOOPBACK_ONLY_MESSAGE);
  });
  app.post(
    '/dev/tokens',
    {
      schema: {
        operationId: 'create-dev-token',
        summary: 'Sign in as a demo identity (development sign-in only, from this machine only; absent with Clerk)',
        description: 'Answers only requests from a loopback address (127.0.0.0/8, ::1); anyone else gets a 403.',
        tags: ['Development sign-in'],
        security: [],
        body: Ref(CreateDevTokenBody),
        response: { 201: Ref(DevToken), ...problemResponses(400, 403, 415, 422, 500) },
      },
    },
    async (request, reply) => {
      const identity = DEV_IDENTITIES.find((i) => i.id === request.body.identity);
      if (!identity) throw new AppError(422, `no demo identity ${request.body.identity}`);
      const token = await signDevToken(keys, {
        userId: identity.user_id,
        email: identity.email,
        orgId: identity.org_id,
        isStaff: identity.is_staff,
        ttlSeconds: TOKEN_TTL_SECONDS,
        issuer: auth.issuer,
        authorizedParty: auth.authorizedParties[0],
      });
      const expiresAt = new Date(Date.now() + TOKEN_TTL_SECONDS * 1000).toISOString();
      return reply.code(201).send({ $schema: schemaUrl('DevToken'), token, expires_at: expiresAt, identity });
    },
  );
};
