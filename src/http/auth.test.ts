import { createSign, generateKeyPairSync, KeyObject } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, exportPKCS8, SignJWT, type CryptoKey, type JWTPayload } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import {
  alice,
  AUTHORIZED_PARTY,
  buildTestApp,
  clerkClaims,
  createTestKeys,
  problem,
  sam,
  signClaims,
  TICKETS,
  type TestApp,
} from '../../test/helpers.js';
import { dialects } from '../../test/dialects.js';
import { createTokenVerifier } from './auth.js';

describe.each(dialects())('%s', (dialect) => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  const now = () => Math.floor(Date.now() / 1000);
  const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

  async function call(app: TestApp, token: string) {
    return app.app.inject({ url: TICKETS, headers: { authorization: `Bearer ${token}` } });
  }

  async function expectRejected(app: TestApp, token: string, detail: string | RegExp) {
    const res = await call(app, token);
    const body = problem(res, 401);
    expect(body.title).toBe('Unauthorized');
    expect(body.detail).toMatch(detail);
    expect(res.headers['www-authenticate']).toMatch(/^Bearer realm="helpdesk", error="invalid_token"/);
  }

  describe('bearer token verification (Clerk mode)', () => {
    it('accepts a valid Clerk session token', async () => {
      t = await buildTestApp(dialect);
      expect((await call(t, await t.tokenFor(alice))).statusCode).toBe(200);
    });

    it('asks for credentials when none are sent, and rejects other schemes', async () => {
      t = await buildTestApp(dialect);
      const none = await t.app.inject({ url: TICKETS });
      expect(problem(none, 401).detail).toBe('missing bearer token');
      expect(none.headers['www-authenticate']).toBe('Bearer realm="helpdesk"');
      const basic = await t.app.inject({ url: TICKETS, headers: { authorization: 'Basic YWxpY2U6c2VjcmV0' } });
      expect(problem(basic, 401).detail).toContain('Bearer');
      const empty = await t.app.inject({ url: TICKETS, headers: { authorization: 'Bearer ' } });
      problem(empty, 401);
    });

    it('rejects expired, not-yet-valid and future-issued tokens, allowing 5 s of clock skew', async () => {
      const app = await buildTestApp(dialect);
      t = app;
      const sign = (extra: JWTPayload) => signClaims(app.keys.privateKey, clerkClaims(alice, extra));
      await expectRejected(t, await sign({ exp: now() - 30 }), 'token has expired');
      await expectRejected(t, await sign({ nbf: now() + 60 }), 'token is not valid yet');
      await expectRejected(t, await sign({ iat: now() + 60 }), 'token was issued in the future');
      expect((await call(t, await sign({ exp: now() - 2 }))).statusCode).toBe(200);
      expect((await call(t, await sign({ nbf: now() + 2, iat: now() + 2 }))).statusCode).toBe(200);
    });

    it('never takes a token from the query string', async () => {
      t = await buildTestApp(dialect);
      const token = await t.tokenFor(alice);
      for (const name of ['token', 'access_token', 'authorization', 'jwt']) {
        problem(await t.app.inject({ url: `${TICKETS}?${name}=${token}` }), 401);
      }
    });

    it('stops accepting a token the moment it expires, even after it was verified once', async () => {
      const app = await buildTestApp(dialect);
      t = app;
      // Expired 2 s ago: still inside the 5 s skew, so accepted (and remembered)...
      const token = await signClaims(app.keys.privateKey, clerkClaims(alice, { exp: now() - 2 }));
      expect((await call(app, token)).statusCode).toBe(200);
      expect((await call(app, token)).statusCode).toBe(200);
      // ...and refused once the skew has run out, remembered or not.
      await new Promise((resolve) => setTimeout(resolve, 4_500));
      await expectRejected(app, token, 'token has expired');
    });

    it('rejects a token without exp', async () => {
      t = await buildTestApp(dialect);
      const { exp: _exp, ...claims } = clerkClaims(alice);
      await expectRejected(t, await signClaims(t.keys.privateKey, claims), 'token claim "exp" is invalid');
    });

    it('rejects alg "none", HS256 signed with the public key, another key, and a tampered payload', async () => {
      t = await buildTestApp(dialect);
      const claims = clerkClaims(alice);
      await expectRejected(t, `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`, /invalid|malformed|algorithm/);
      const hs256 = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(t.keys.publicPem));
      await expectRejected(t, hs256, 'token algorithm is not accepted');
      const other = await createTestKeys();
      await expectRejected(t, await signClaims(other.privateKey, claims), 'token signature is invalid');
      const [header, , signature] = (await t.tokenFor(alice)).split('.');
      await expectRejected(t, `${header}.${b64({ ...claims, sub: 'user_mallory' })}.${signature}`, 'token signature is invalid');
      await expectRejected(t, 'not.a.jwt', /malformed|invalid/);
    });

    it('verifies only a canonical compact RS256 token: no padding or foreign characters, no extension, three parts', async () => {
      t = await buildTestApp(dialect);
      const claims = clerkClaims(alice);
      // Signed with the right key, by hand, so that the header can say anything.
      const signed = (header: Record<string, unknown>, payload = b64(claims)) => {
        const input = `${b64(header)}.${payload}`;
        return `${input}.${createSign('sha256').update(input).sign(KeyObject.from(t?.keys.privateKey as CryptoKey)).toString('base64url')}`;
      };
      expect((await call(t, signed({ alg: 'RS256', typ: 'JWT' }))).statusCode).toBe(200);
      await expectRejected(t, signed({ alg: 'RS256', crit: ['exp'], exp: 1 }), 'token is malformed or invalid');
      await expectRejected(t, signed({ alg: 'RS256', b64: false, crit: ['b64'] }), 'token is malformed or invalid');
      await expectRejected(t, signed({ alg: 'RS512' }), 'token algorithm is not accepted');
      await expectRejected(t, signed({ alg: 'RS256' }, `${b64(claims)}==`), 'token is malformed or invalid');
      const [header, payload, signature] = (await t.tokenFor(alice)).split('.') as [string, string, string];
      // The same bytes, spelled another way: Node's decoder would skip what is not base64url.
      await expectRejected(t, `${header}.${payload}.${signature.slice(0, 10)}!${signature.slice(10)}`, 'token is malformed or invalid');
      await expectRejected(t, `${header}.${payload}.${Buffer.from(signature, 'base64url').toString('base64')}`, /malformed|signature/);
      await expectRejected(t, `${header}.${payload}`, 'token is malformed or invalid');
      await expectRejected(t, `${header}.${payload}.${signature}.${signature}`, 'token is malformed or invalid');
      await expectRejected(t, `${b64('RS256')}.${payload}.${signature}`, 'token is malformed or invalid');
      // The last character's unused bits set: the same signature bytes, another spelling.
      const last = signature.at(-1) as string;
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
      const respelled = `${signature.slice(0, -1)}${alphabet[alphabet.indexOf(last) ^ 1]}`;
      expect(Buffer.from(respelled, 'base64url')).toEqual(Buffer.from(signature, 'base64url'));
      await expectRejected(t, `${header}.${payload}.${respelled}`, 'token is malformed or invalid');
      // A header that is not valid UTF-8.
      const badHeader = Buffer.concat([Buffer.from('{"alg":"RS256","x":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]).toString('base64url');
      const input = `${badHeader}.${payload}`;
      const badSigned = `${input}.${createSign('sha256').update(input).sign(KeyObject.from(t.keys.privateKey)).toString('base64url')}`;
      await expectRejected(t, badSigned, 'token is malformed or invalid');
      // Claims that are not a JSON object, under a good signature.
      await expectRejected(t, signed({ alg: 'RS256' }, Buffer.from('[1,2]').toString('base64url')), /malformed|invalid/);
    });

    it('rejects a wrong issuer, a wrong or missing authorized party, and a pending session', async () => {
      const app = await buildTestApp(dialect);
      t = app;
      const sign = (extra: JWTPayload) => signClaims(app.keys.privateKey, clerkClaims(alice, extra));
      await expectRejected(t, await sign({ iss: 'https://evil.example' }), 'token claim "iss" is invalid');
      await expectRejected(t, await sign({ azp: 'https://evil.example' }), 'authorized party');
      await expectRejected(t, await sign({ azp: undefined }), 'authorized party');
      await expectRejected(t, await sign({ sts: 'pending' }), 'pending');
      await expectRejected(t, await sign({ email: undefined }), 'no "email" claim');
    });

    it('refuses a token carrying an audience (aud) unless that audience is configured', async () => {
      const app = await buildTestApp(dialect);
      t = app;
      const sign = (extra: JWTPayload) => signClaims(app.keys.privateKey, clerkClaims(alice, extra));
      // A Clerk JWT template minted for another service, replayed here.
      await expectRejected(t, await sign({ aud: 'https://api.other-service.example' }), 'token has an audience (aud) this server does not accept');
      await expectRejected(t, await sign({ aud: ['helpdesk'] }), 'audience');
      const configured = await buildTestApp(dialect, { CLERK_AUDIENCE: 'helpdesk, helpdesk-staging' });
      try {
        const signAt = (extra: JWTPayload) => signClaims(configured.keys.privateKey, clerkClaims(alice, extra));
        expect((await call(configured, await signAt({ aud: 'helpdesk' }))).statusCode).toBe(200);
        expect((await call(configured, await signAt({ aud: ['x', 'helpdesk-staging'] }))).statusCode).toBe(200);
        await expectRejected(configured, await signAt({ aud: 'https://api.other-service.example' }), 'token claim "aud" is invalid');
        await expectRejected(configured, await signAt({}), 'token claim "aud" is invalid');
      } finally {
        await configured.close();
      }
    });

    it('makes only `support` staff by default: an app’s own `admin` customers stay customers', async () => {
      const admin = { id: 'user_admin', email: 'admin@acme.test', org: 'org_acme', role: 'admin' };
      const queue = (app: TestApp, token: string) => app.app.inject({ url: '/api/v1/admin/support/tickets', headers: { authorization: `Bearer ${token}` } });
      t = await buildTestApp(dialect);
      problem(await queue(t, await t.tokenFor(admin)), 403);
      expect((await queue(t, await t.tokenFor(sam))).statusCode).toBe(200);
      const widened = await buildTestApp(dialect, { HELPDESK_STAFF_ROLES: 'admin,support' });
      try {
        expect((await queue(widened, await widened.tokenFor(admin))).statusCode).toBe(200);
      } finally {
        await widened.close();
      }
    });

    it('reads the tenant from o.id (v2), org_id (v1), or the user (personal workspace)', async () => {
      const app = await buildTestApp(dialect);
      t = app;
      const create = async (claims: JWTPayload) =>
        (
          await app.app.inject({
            method: 'POST',
            url: TICKETS,
            headers: { authorization: `Bearer ${await signClaims(app.keys.privateKey, claims)}` },
            payload: { title: 't', description: 'd', type: 'bug' },
          })
        ).json().tenant_id;
      expect(await create(clerkClaims(alice))).toBe('org_acme');
      expect(await create(clerkClaims({ ...alice, org: undefined }, { org_id: 'org_v1', v: undefined }))).toBe('org_v1');
      expect(await create(clerkClaims({ ...alice, org: undefined }))).toBe(alice.id);
    });

    it('uses the configured email claim', async () => {
      t = await buildTestApp(dialect, { CLERK_EMAIL_CLAIM: 'primary_email' });
      const token = await signClaims(t.keys.privateKey, clerkClaims(alice, { email: undefined, primary_email: 'alice@work.test' }));
      const res = await t.app.inject({
        method: 'POST',
        url: TICKETS,
        headers: { authorization: `Bearer ${token}` },
        payload: { title: 't', description: 'd', type: 'bug' },
      });
      expect(res.json().created_by_email).toBe('alice@work.test');
    });

    it('records users from verified tokens; staff only from metadata.role, never from an org role', async () => {
      t = await buildTestApp(dialect);
      await call(t, await t.tokenFor(sam));
      await call(t, await t.tokenFor(alice, { o: { id: 'org_acme', rol: 'admin' } }));
      await call(t, await t.tokenFor({ id: 'user_eve', email: 'eve@x.test', role: 'customer' }));
      const users = await t.db.selectFrom('users').select(['id', 'email', 'is_staff']).orderBy('id').execute();
      expect(users).toEqual([
        { id: alice.id, email: alice.email, is_staff: 0 },
        { id: 'user_eve', email: 'eve@x.test', is_staff: 0 },
        { id: sam.id, email: sam.email, is_staff: 1 },
      ]);
      // A rejected token records nobody.
      await call(t, await signClaims((await createTestKeys()).privateKey, clerkClaims({ id: 'user_x', email: 'x@x.test' })));
      expect(await t.db.selectFrom('users').select('id').where('id', '=', 'user_x').execute()).toEqual([]);
    });

    it('never writes a token to the log, even one sent in the URL', async () => {
      t = await buildTestApp(dialect);
      const token = await t.tokenFor(alice);
      await call(t, token);
      await call(t, `${token}x`);
      await t.app.inject({ url: `${TICKETS}?access_token=${token}`, headers: { authorization: `Bearer ${token}` } });
      const log = t.logs.join('');
      expect(log).toContain('request completed');
      expect(log).not.toContain(token.split('.')[2]);
      expect(log).not.toContain(token.split('.')[1]);
    });
  });

  describe('the configured key', () => {
    const clerk = (jwtKey: string) =>
      createTokenVerifier({ mode: 'clerk', publishableKey: undefined, jwtKey, jwksUrl: undefined, issuer: undefined, authorizedParties: [], audience: [], emailClaim: 'email', staffRoles: ['support'] });
    it('must be an RSA public key (SPKI PEM) of at least 2048 bits: a private key pasted in its place is refused at start', async () => {
      const keys = await createTestKeys();
      await expect(clerk(keys.publicPem)).resolves.toBeTypeOf('function');
      await expect(clerk(await exportPKCS8(keys.privateKey))).rejects.toThrow();
      const small = generateKeyPairSync('rsa', { modulusLength: 1024 });
      await expect(clerk(small.publicKey.export({ type: 'spki', format: 'pem' }).toString())).rejects.toThrow();
    });
  });

  describe('bearer token verification with a JWKS URL', () => {
    it('finds the key by kid, and rejects an unknown kid', async () => {
      const keys = await createTestKeys();
      const jwk = { ...(await exportJWK(keys.publicKey)), kid: 'ins_key_1', alg: 'RS256', use: 'sig' };
      const server = http.createServer((_req, res) => {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ keys: [jwk] }));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      try {
        const { port } = server.address() as AddressInfo;
        t = await buildTestApp(dialect, { CLERK_JWT_KEY: undefined, CLERK_JWKS_URL: `http://127.0.0.1:${port}/.well-known/jwks.json` });
        const good = await signClaims(keys.privateKey, clerkClaims(alice), { kid: 'ins_key_1' });
        expect((await call(t, good)).statusCode).toBe(200);
        const unknown = await signClaims(keys.privateKey, clerkClaims(alice), { kid: 'ins_key_2' });
        await expectRejected(t, unknown, 'token signing key is not known');
      } finally {
        server.close();
      }
    });

    it('answers 503, not 401, when the signing keys cannot be fetched', async () => {
      const closed = http.createServer();
      await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
      const { port } = closed.address() as AddressInfo;
      closed.close();
      t = await buildTestApp(dialect, { CLERK_JWT_KEY: undefined, CLERK_JWKS_URL: `http://127.0.0.1:${port}/.well-known/jwks.json` });
      const res = await call(t, await t.tokenFor(alice));
      expect(problem(res, 503).detail).toContain('signing keys are unreachable');
      expect(res.headers['retry-after']).toBe('5');
      expect(t.logs.join('')).toContain('signing keys are unreachable');
    });

    it('answers 503, not 401, when the key set answers an error or serves a key it cannot use', async () => {
      const small = generateKeyPairSync('rsa', { modulusLength: 1024 });
      let answer: 'error' | 'small key' = 'error';
      const server = http.createServer((_req, res) => {
        if (answer === 'error') return res.writeHead(502).end('bad gateway');
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ keys: [{ ...small.publicKey.export({ format: 'jwk' }), kid: 'ins_small', alg: 'RS256', use: 'sig' }] }));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      try {
        const { port } = server.address() as AddressInfo;
        t = await buildTestApp(dialect, { CLERK_JWT_KEY: undefined, CLERK_JWKS_URL: `http://127.0.0.1:${port}/.well-known/jwks.json` });
        const keys = await createTestKeys();
        const res = await call(t, await signClaims(keys.privateKey, clerkClaims(alice), { kid: 'ins_key_1' }));
        expect(problem(res, 503).detail).toContain('signing keys are unreachable');
        answer = 'small key';
        const input = `${b64({ alg: 'RS256', kid: 'ins_small' })}.${b64(clerkClaims(alice))}`;
        const token = `${input}.${createSign('sha256').update(input).sign(small.privateKey).toString('base64url')}`;
        expect(problem(await call(t, token), 503).detail).toContain('signing keys are unreachable');
      } finally {
        server.close();
      }
    });

    it('checks azp against every configured party', async () => {
      t = await buildTestApp(dialect, { CLERK_AUTHORIZED_PARTIES: `https://other.test, ${AUTHORIZED_PARTY}` });
      expect((await call(t, await t.tokenFor(alice))).statusCode).toBe(200);
    });
  });
});
