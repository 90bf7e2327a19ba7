import { createRemoteJWKSet, errors as joseErrors, importSPKI, jwtVerify, type CryptoKey, type JWTPayload } from 'jose';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AuthConfig } from '../config.js';
import { AppError } from './problem.js';
import type { DevKeys } from './dev-keys.js';

/** Who is calling, as proven by a verified token. Everything tenant-scoped starts here. */
export interface Actor {
  userId: string;
  tenantId: string;
  email: string;
  isStaff: boolean;
}

declare module 'fastify' {
  interface FastifyRequest {
    actor: Actor | null;
  }
}

const CLOCK_SKEW_SECONDS = 5;

export type VerifyToken = (token: string) => Promise<Actor>;

/**
 * Builds the bearer-token verifier: RS256 only, `exp` required, 5 s skew, optional `iss` and
 * `azp` checks, `aud` refused unless configured, Clerk's claim layout (v2 `o.id`, v1 `org_id`). No network call per request:
 * a PEM key is local, a JWKS is fetched once and cached by kid.
 */
export async function createTokenVerifier(auth: AuthConfig, devKeys?: DevKeys): Promise<VerifyToken> {
  let key: CryptoKey | ReturnType<typeof createRemoteJWKSet>;
  if (auth.mode === 'clerk') {
    if (auth.jwtKey) key = await importSPKI(auth.jwtKey, 'RS256');
    else if (auth.jwksUrl) key = createRemoteJWKSet(new URL(auth.jwksUrl), { cooldownDuration: 30_000, cacheMaxAge: 3_600_000 });
    else throw new Error('Clerk mode needs CLERK_JWT_KEY or CLERK_JWKS_URL');
  } else {
    if (!devKeys) throw new Error('development sign-in needs its key pair');
    key = devKeys.publicKey;
  }
  const usesJwks = auth.mode === 'clerk' && !auth.jwtKey;
  const staffRoles = new Set(auth.staffRoles);
  const authorizedParties = new Set(auth.authorizedParties);

  return cached(async function verifyToken(token: string): Promise<{ actor: Actor; exp: number }> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, key as CryptoKey, {
        algorithms: ['RS256'],
        clockTolerance: CLOCK_SKEW_SECONDS,
        requiredClaims: ['exp', 'sub'],
        ...(auth.issuer ? { issuer: auth.issuer } : {}),
        ...(auth.audience.length > 0 ? { audience: [...auth.audience] } : {}),
      }));
    } catch (error) {
      // Unreachable signing keys say nothing about the token: that is our outage, not a bad token.
      if (usesJwks && (error instanceof joseErrors.JWKSTimeout || !(error instanceof joseErrors.JOSEError))) {
        throw new AppError(503, 'tokens cannot be verified right now: the signing keys are unreachable', undefined, { 'retry-after': '5' }, error);
      }
      throw invalidToken(describeJoseError(error));
    }
    if (typeof payload.iat === 'number' && payload.iat > Date.now() / 1000 + CLOCK_SKEW_SECONDS) {
      throw invalidToken('token was issued in the future');
    }
    if (authorizedParties.size > 0 && (typeof payload.azp !== 'string' || !authorizedParties.has(payload.azp))) {
      throw invalidToken('token authorized party (azp) is not accepted');
    }
    // Clerk's session tokens carry no aud; one that does was minted for something else (a JWT
    // template for another service) and is not replayed here unless that audience is configured.
    if (auth.audience.length === 0 && payload.aud !== undefined) {
      throw invalidToken('token has an audience (aud) this server does not accept');
    }
    if (payload.sts === 'pending') throw invalidToken('session is pending and cannot be used yet');
    const sub = payload.sub;
    if (typeof sub !== 'string' || sub === '') throw invalidToken('token has no subject');
    const email = payload[auth.emailClaim];
    if (typeof email !== 'string' || email === '') {
      throw invalidToken(`token has no "${auth.emailClaim}" claim; add it to the Clerk session token template`);
    }
    const org = payload.o as { id?: unknown } | undefined;
    const orgId = typeof org?.id === 'string' ? org.id : typeof payload.org_id === 'string' ? payload.org_id : undefined;
    const role = (payload.metadata as { role?: unknown } | undefined)?.role;
    const actor = { userId: sub, tenantId: orgId || sub, email, isStaff: typeof role === 'string' && staffRoles.has(role) };
    return { actor, exp: payload.exp as number };
  });
}

const CACHE_SIZE = 10_000;

/**
 * Remembers verified tokens until they expire (with the same skew verification allows), so a
 * dashboard sending the same session token many times a second pays for one RS256 check.
 * Bounded: the oldest entry goes when it is full. Failures are never cached.
 */
function cached(verify: (token: string) => Promise<{ actor: Actor; exp: number }>): VerifyToken {
  const verified = new Map<string, { actor: Actor; validUntilMs: number }>();
  return async function verifyToken(token: string): Promise<Actor> {
    const hit = verified.get(token);
    if (hit && Date.now() < hit.validUntilMs) return hit.actor;
    if (hit) verified.delete(token);
    const { actor, exp } = await verify(token);
    if (verified.size >= CACHE_SIZE) verified.delete(verified.keys().next().value as string);
    verified.set(token, { actor, validUntilMs: (exp + CLOCK_SKEW_SECONDS) * 1000 });
    return actor;
  };
}

function describeJoseError(error: unknown): string {
  if (error instanceof joseErrors.JWTExpired) return 'token has expired';
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    if (error.claim === 'nbf') return 'token is not valid yet';
    return `token claim "${error.claim}" is invalid`;
  }
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return 'token algorithm is not accepted';
  if (error instanceof joseErrors.JWKSNoMatchingKey) return 'token signing key is not known';
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return 'token signature is invalid';
  return 'token is malformed or invalid';
}

function invalidToken(detail: string): AppError {
  return new AppError(401, detail, undefined, {
    'www-authenticate': `Bearer realm="helpdesk", error="invalid_token", error_description="${detail.replace(/"/g, "'")}"`,
  });
}

/** An onRequest hook that requires a valid bearer token and sets request.actor. */
export function requireActor(verify: VerifyToken) {
  return async function authenticate(request: FastifyRequest, _reply: FastifyReply): Promise<void> {
    const header = request.headers.authorization;
    const match = header === undefined ? null : /^Bearer[ ]+([^\s]+)\s*$/i.exec(header);
    if (!match?.[1]) {
      // RFC 6750 §3.1: no error code when the request carried no credentials at all.
      throw new AppError(401, header === undefined ? 'missing bearer token' : 'authorization header must be "Bearer <token>"', undefined, {
        'www-authenticate':
          header === undefined ? 'Bearer realm="helpdesk"' : 'Bearer realm="helpdesk", error="invalid_request"',
      });
    }
    request.actor = await verify(match[1]);
  };
}

/** An onRequest hook for staff-only routes: a verified token with a staff role, or 403. */
export async function requireStaff(request: FastifyRequest): Promise<void> {
  if (!request.actor?.isStaff) throw new AppError(403, 'this operation is for support staff only');
}
