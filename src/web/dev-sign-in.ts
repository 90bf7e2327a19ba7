import { isIPv4 } from 'node:net';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
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

// Headers a proxy, tunnel or mesh sidecar adds: a request carrying one came from somewhere else,
// whatever address its connection has.
const PROXY_HEADERS = ['forwarded', 'via', 'x-real-ip', 'x-client-ip', 'true-client-ip', 'cf-connecting-ip', 'fastly-client-ip', 'x-cluster-client-ip'];
const PROXY_HEADER_PREFIXES = ['x-forwarded-', 'x-original-forwarded-', 'x-envoy-'];

/** Whether a Host header (`localhost:8080`, `[::1]:5173`) names this machine, and nothing else. */
function isLoopbackHost(host: string): boolean {
  try {
    const url = new URL(`http://${host}`);
    // Read back as it was sent: no user info, path or other trick around the name.
    if (url.host !== host.toLowerCase() && `${url.host}:80` !== host.toLowerCase()) return false;
    return url.hostname === 'localhost' || url.hostname === '[::1]' || isLoopback(url.hostname);
  } catch {
    return false;
  }
}

function isLoopbackOrigin(origin: string): boolean {
  try {
    const url = new URL(origin);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.origin === origin.toLowerCase() && isLoopbackHost(url.host);
  } catch {
    return false;
  }
}

/**
 * Why a request is not from a browser or client on this machine, or undefined when it is: its
 * connection must come from a loopback address (never X-Forwarded-For: trustProxy stays off), it
 * must carry no header a proxy adds (nginx, Caddy, a tunnel or a mesh sidecar on this host
 * connects from loopback for everyone outside), and its Host and any Origin must name this
 * machine (a web page elsewhere cannot rebind its own name to 127.0.0.1 and read the answer).
 */
export function notFromThisMachine(request: FastifyRequest): string | undefined {
  if (!isLoopback(request.socket.remoteAddress)) return 'the connection comes from another machine';
  const proxied = Object.keys(request.headers).find((name) => PROXY_HEADERS.includes(name) || PROXY_HEADER_PREFIXES.some((prefix) => name.startsWith(prefix)));
  if (proxied) return `the request came through a proxy (${proxied})`;
  const host = request.headers.host;
  if (!host || !isLoopbackHost(host)) return 'its Host is not localhost or a loopback address';
  const origin = request.headers.origin;
  if (origin !== undefined && !isLoopbackOrigin(origin)) return 'its Origin is not localhost or a loopback address';
  return undefined;
}

/**
 * POST /dev/tokens: a token for a demo identity, so the dashboard can be tried without Clerk.
 * Registered only in development mode; with Clerk configured the route does not exist.
 * It answers only this machine (notFromThisMachine): a staff token opens every tenant's tickets.
 */
export const devSignInRoutes: FastifyPluginAsyncTypebox<{ auth: AuthConfig; keys: DevKeys }> = async (app, { auth, keys }) => {
  // Before the body is even read.
  app.addHook('onRequest', async (request) => {
    const reason = notFromThisMachine(request);
    if (reason) throw new AppError(403, `${LOOPBACK_ONLY_MESSAGE} (${reason})`);
  });
  app.post(
    '/dev/tokens',
    {
      schema: {
        operationId: 'create-dev-token',
        summary: 'Sign in as a demo identity (development sign-in only, from this machine only; absent with Clerk)',
        description:
          'Answers only requests from this machine: a loopback connection (127.0.0.0/8, ::1), a localhost or loopback Host and Origin, and no proxy headers (Forwarded, Via, X-Forwarded-*, X-Real-IP, …); anyone else gets a 403.',
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
        // The first configured staff role, so the demo agent is staff whatever HELPDESK_STAFF_ROLES says.
        role: identity.is_staff ? auth.staffRoles[0] : undefined,
        ttlSeconds: TOKEN_TTL_SECONDS,
        issuer: auth.issuer,
        authorizedParty: auth.authorizedParties[0],
      });
      const expiresAt = new Date(Date.now() + TOKEN_TTL_SECONDS * 1000).toISOString();
      return reply.code(201).send({ $schema: schemaUrl('DevToken'), token, expires_at: expiresAt, identity });
    },
  );
};
