import fs from 'node:fs/promises';
import path from 'node:path';
import { exportJWK, generateKeyPair, importJWK, SignJWT, type CryptoKey, type JWK } from 'jose';

const KEY_FILE = 'dev-signing-key.json';
/** Issuer of development tokens; never accepted when Clerk is configured. */
export const DEV_ISSUER = 'helpdesk-dev';

export interface DevKeys {
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  kid: string;
}

/**
 * Loads the development signing key from the data directory, creating it on first use.
 * Two processes starting at once both end up with the file that was written first.
 */
export async function loadOrCreateDevKeys(dataDir: string): Promise<DevKeys> {
  const file = path.join(dataDir, KEY_FILE);
  let jwk: JWK;
  try {
    jwk = JSON.parse(await fs.readFile(file, 'utf8')) as JWK;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    const { privateKey } = await generateKeyPair('RS256', { extractable: true });
    jwk = { ...(await exportJWK(privateKey)), alg: 'RS256', kid: `dev-${Date.now().toString(36)}` };
    await fs.mkdir(dataDir, { recursive: true });
    try {
      await fs.writeFile(file, JSON.stringify(jwk), { mode: 0o600, flag: 'wx' });
    } catch (writeError) {
      if ((writeError as NodeJS.ErrnoException).code !== 'EEXIST') throw writeError;
      jwk = JSON.parse(await fs.readFile(file, 'utf8')) as JWK;
    }
  }
  const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...publicJwk } = jwk;
  return {
    privateKey: (await importJWK(jwk, 'RS256')) as CryptoKey,
    publicKey: (await importJWK(publicJwk, 'RS256')) as CryptoKey,
    kid: jwk.kid ?? 'dev',
  };
}

export interface DevTokenClaims {
  userId: string;
  email: string;
  orgId?: string | undefined;
  isStaff?: boolean | undefined;
  /** metadata.role; a staff token without one gets 'support', the default staff role. */
  role?: string | undefined;
  ttlSeconds?: number | undefined;
  issuer?: string | undefined;
  authorizedParty?: string | undefined;
}

/** Signs a token shaped like a Clerk v2 session token with the development key. */
export async function signDevToken(keys: DevKeys, claims: DevTokenClaims): Promise<string> {
  const payload: Record<string, unknown> = { v: 2, email: claims.email };
  if (claims.orgId) payload.o = { id: claims.orgId, rol: 'member' };
  if (claims.role || claims.isStaff) payload.metadata = { role: claims.role || 'support' };
  if (claims.authorizedParty) payload.azp = claims.authorizedParty;
  return new SignJWT(payload)
    .setProtectedHeader({ alg: 'RS256', kid: keys.kid, typ: 'JWT' })
    .setSubject(claims.userId)
    .setIssuer(claims.issuer ?? DEV_ISSUER)
    .setIssuedAt()
    .setNotBefore('0s')
    .setExpirationTime(`${claims.ttlSeconds ?? 86_400}s`)
    .sign(keys.privateKey);
}
