import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AuthConfig } from '../config.js';
import { signDevToken, type DevKeys } from '../http/dev-keys.js';
import { problemResponses, Ref, schemaUrl } from '../http/schemas.js';
import { CreateDevTokenBody, DevToken, type DevIdentity } from './web.schemas.js';

const TOKEN_TTL_SECONDS = 8 * 3600;

/** The people of the demo desk: the same ones the test suite uses (test/helpers.ts). */
export const DEV_IDENTITIES: readonly DevIdentity[] = [
  { id: 'customer-acme', name: 'Alice, a customer at Acme', user_id: 'user_alice', email: 'alice@acme.test', org_id: 'org_acme', is_staff: false },
  { id: 'customer-globex', name: 'Carol, a customer at Globex', user_id: 'user_carol', email: 'carol@globex.test', org_id: 'org_globex', is_staff: false },
  { id: 'staff', name: 'Sam, support staff', user_id: 'user_sam', email: 'sam@helpdesk.test', org_id: 'org_helpdesk', is_staff: true },
];

/**
 * POST /dev/tokens: a token for a demo identity, so the dashboard can be tried without Clerk.
 * Registered only in development mode; with Clerk configured the route does not exist.
 */
export const devSignInRoutes: FastifyPluginAsyncTypebox<{ auth: AuthConfig; keys: DevKeys }> = async (app, { auth, keys }) => {
  app.post(
    '/dev/tokens',
    {
      schema: {
        operationId: 'create-dev-token',
        summary: 'Sign in as a demo identity (development sign-in only; absent with Clerk)',
        tags: ['Development sign-in'],
        security: [],
        body: Ref(CreateDevTokenBody),
        response: { 201: Ref(DevToken), ...problemResponses(400, 415, 422, 500) },
      },
    },
    async (request, reply) => {
      const identity = DEV_IDENTITIES.find((i) => i.id === request.body.identity) as DevIdentity;
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
