import { KeyObject, verify } from 'node:crypto';
import { createRemoteJWKSet, errors as joseErrors, importSPKI, UnsecuredJWT, type CryptoKey, type JWSHeaderParameters, type JWTPayload, type JWTVerifyOptions } from 'jose';
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
  let keyFor: (header: JWSHeaderParameters, parts: CompactParts) => Promise<KeyObject> | KeyObject;
  if (auth.mode === 'clerk') {
    if (auth.jwtKey) {
      const key = rsaKey(KeyObject.from(await importSPKI(auth.jwtKey, 'RS256')));
      keyFor = () => key;
    } else if (auth.jwksUrl) {
      const jwks = createRemoteJWKSet(new URL(auth.jwksUrl), { cooldownDuration: 30_000, cacheMaxAge: 3_600_000 });
      // The set hands out the WebCrypto key of the token's kid; its KeyObject is made once per key.
      const converted = new WeakMap<CryptoKey, KeyObject>();
      keyFor = async (header, parts) => {
        let found: CryptoKey;
        try {
          found = await jwks(header, { protected: parts.header, payload: parts.payload, signature: parts.signature });
        } catch (error) {
          // No key for the token's kid is the token's fault; anything else (no answer, an error
          // status, a set that is not JSON) says nothing about the token.
          if (error instanceof joseErrors.JWKSNoMatchingKey || error instanceof joseErrors.JWKSMultipleMatchingKeys) throw error;
          throw new KeysUnavailable(error);
        }
        let key = converted.get(found);
        if (!key) {
          try {
            key = rsaKey(KeyObject.from(found));
          } catch (error) {
            throw new KeysUnavailable(error);
          }
          converted.set(found, key);
        }
        return key;
      };
    } else throw new Error('Clerk mode needs CLERK_JWT_KEY or CLERK_JWKS_URL');
  } else {
    if (!devKeys) throw new Error('development sign-in needs its key pair');
    const key = rsaKey(KeyObject.from(devKeys.publicKey));
    keyFor = () => key;
  }
  const staffRoles = new Set(auth.staffRoles);
  const authorizedParties = new Set(auth.authorizedParties);
  const claims: JWTVerifyOptions = {
    clockTolerance: CLOCK_SKEW_SECONDS,
    requiredClaims: ['exp', 'sub'],
    ...(auth.issuer ? { issuer: auth.issuer } : {}),
    ...(auth.audience.length > 0 ? { audience: [...auth.audience] } : {}),
  };

  return cached(async function verifyToken(token: string): Promise<{ actor: Actor; exp: number }> {
    let payload: JWTPayload;
    try {
      payload = await verifyRs256(token, keyFor, claims);
    } catch (error) {
      // Unreachable or unusable signing keys say nothing about the token: that is our outage, not a bad token.
      if (error instanceof KeysUnavailable) {
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

interface CompactParts {
  header: string;
  payload: string;
  signature: string;
}

const BASE64URL = /^[A-Za-z0-9_-]+$/;
/** `{"alg":"none"}`: the header under which jose reads the claims of a payload verified here. */
const CLAIMS_ONLY_HEADER = 'eyJhbGciOiJub25lIn0';

/** The signing keys could not be had (a JWKS not answering, answering an error, or serving an unusable key). */
class KeysUnavailable extends Error {
  constructor(cause: unknown) {
    super('the signing keys are unavailable', { cause });
  }
}

/** An RSA public key of at least 2048 bits (what RS256 requires, as jose checks), or an error. */
function rsaKey(key: KeyObject): KeyObject {
  if (key.type !== 'public' || key.asymmetricKeyType !== 'rsa' || (key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) {
    throw new Error('the signing key must be an RSA public key of at least 2048 bits');
  }
  return key;
}

/** Bytes of a base64url part, only if it is their one spelling (no padding, no stray character, no unused bits set). */
function canonicalBase64url(part: string): Buffer | undefined {
  if (!BASE64URL.test(part)) return undefined;
  const bytes = Buffer.from(part, 'base64url');
  return bytes.toString('base64url') === part ? bytes : undefined;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Verifies a compact RS256 JWS with Node's own RSA (one synchronous call, about 30 µs) and
 * returns its claims as jose validates them (exp, nbf, iss, aud, the required claims, the skew).
 * jose's jwtVerify does the same through WebCrypto, whose every call is a job on libuv's thread
 * pool and a promise: 1,000 new tokens cost a cold process 157–172 ms of CPU that way, 82–107 ms
 * this way (docs/PERFORMANCE.md). What it accepts is what jwtVerify accepted, a little stricter:
 * the header must be a JSON object in valid UTF-8 naming RS256 and no extension (crit, b64);
 * every part must be the one base64url spelling of its bytes (the verified-token cache is keyed
 * by the token's text); the claims are read only once the signature over the header and
 * payload holds.
 */
async function verifyRs256(
  token: string,
  keyFor: (header: JWSHeaderParameters, parts: CompactParts) => Promise<KeyObject> | KeyObject,
  claims: JWTVerifyOptions,
): Promise<JWTPayload> {
  const split = token.split('.');
  const [header, payload, signature] = split;
  const bytes = split.map(canonicalBase64url);
  const [headerBytes, , signatureBytes] = bytes;
  if (split.length !== 3 || header === undefined || payload === undefined || signature === undefined || !headerBytes || !signatureBytes || !bytes[1]) {
    throw new joseErrors.JWSInvalid('Invalid Compact JWS');
  }
  let protectedHeader: unknown;
  try {
    protectedHeader = JSON.parse(strictUtf8.decode(headerBytes));
  } catch {
    throw new joseErrors.JWSInvalid('JWS Protected Header is invalid');
  }
  if (typeof protectedHeader !== 'object' || protectedHeader === null || Array.isArray(protectedHeader)) throw new joseErrors.JWSInvalid('JWS Protected Header is invalid');
  const parsed = protectedHeader as JWSHeaderParameters;
  if (parsed.crit !== undefined || parsed.b64 !== undefined) throw new joseErrors.JWSInvalid('JWS extensions are not accepted');
  if (parsed.alg !== 'RS256') throw new joseErrors.JOSEAlgNotAllowed('"alg" (Algorithm) Header Parameter value not allowed');
  const key = await keyFor(parsed, { header, payload, signature });
  if (!verify('sha256', Buffer.from(`${header}.${payload}`), key, signatureBytes)) {
    throw new joseErrors.JWSSignatureVerificationFailed();
  }
  return UnsecuredJWT.decode(`${CLAIMS_ONLY_HEADER}.${payload}.`, claims).payload;
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
