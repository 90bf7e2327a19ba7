import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dialects } from '../../test/dialects.js';
import { alice, buildTestApp, DEVELOPMENT_SIGN_IN, problem, type TestApp } from '../../test/helpers.js';

// pk_test_ + base64("clerk.helpdesk.test$"): the Frontend API host a publishable key carries.
const PUBLISHABLE_KEY = `pk_test_${Buffer.from('clerk.helpdesk.test$').toString('base64')}`;
const html = { accept: 'text/html,application/xhtml+xml' };

describe.each(dialects())('%s', (dialect) => {
  describe('in development sign-in', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await buildTestApp(dialect, DEVELOPMENT_SIGN_IN);
    });
    afterAll(async () => {
      await t.close();
    });

    it('serves the dashboard at / and at client routes, under a CSP without inline scripts', async () => {
      for (const url of ['/', '/tickets/0b0e0a4e-9f1c-4a53-9a4e-7d3c3f6f2b11', '/staff/queue?view=mine']) {
        const res = await t.app.inject({ url, headers: html });
        expect(res.statusCode, url).toBe(200);
        expect(res.headers['content-type']).toContain('text/html');
        expect(res.body).toContain('<div id="root"></div>');
        expect(res.headers['content-security-policy']).toContain("script-src 'self';");
        // Not in production: over plain HTTP on a LAN address the upgrade would point every request at a dead https://.
        expect(res.headers['content-security-policy']).not.toContain('upgrade-insecure-requests');
      }
      const index = (await t.app.inject({ url: '/', headers: html })).body;
      expect(index).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
      const script = /<script[^>]+src="([^"]+)"/.exec(index)?.[1] as string;
      const asset = await t.app.inject({ url: script });
      expect(asset.statusCode).toBe(200);
      expect(asset.headers['cache-control']).toContain('immutable');
      // Precompressed at build time: brotli to a browser that accepts it, gzip to one that only takes gzip, else plain.
      const encodings = { chrome: 'gzip, deflate, br, zstd', old: 'gzip', none: 'identity' };
      const br = await t.app.inject({ url: script, headers: { 'accept-encoding': encodings.chrome } });
      expect(br.headers['content-encoding']).toBe('br');
      expect(br.rawPayload.length).toBeLessThan(asset.rawPayload.length / 2);
      expect(br.headers['content-type']).toContain('javascript');
      expect(br.headers.vary).toMatch(/accept-encoding/i);
      expect(zlib.brotliDecompressSync(br.rawPayload).equals(asset.rawPayload)).toBe(true);
      const gz = await t.app.inject({ url: script, headers: { 'accept-encoding': encodings.old } });
      expect(gz.headers['content-encoding']).toBe('gzip');
      expect(zlib.gunzipSync(gz.rawPayload).equals(asset.rawPayload)).toBe(true);
      expect((await t.app.inject({ url: script, headers: { 'accept-encoding': encodings.none } })).headers['content-encoding']).toBeUndefined();
      // The compressed copies are not URLs of their own.
      expect((await t.app.inject({ url: `${script}.br` })).statusCode).toBe(404);
    });

    it('answers the first thing a person types, `curl localhost:8080/`, with the page', async () => {
      const res = await t.app.inject({ url: '/', headers: { accept: '*/*' } });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toContain('text/html');
      expect(res.body).toContain('<div id="root"></div>');
    });

    it('keeps problem+json for unknown API paths, wrong methods and missing assets', async () => {
      expect(problem(await t.app.inject({ url: '/api/v1/nope', headers: html }), 404).detail).toBe('no route for GET /api/v1/nope');
      const wrongMethod = problem(await t.app.inject({ url: '/api/v1/support/tickets/x/close', headers: html }), 405);
      expect(wrongMethod.detail).toContain('allowed: POST');
      problem(await t.app.inject({ url: '/assets/gone-1234.js', headers: html }), 404);
      problem(await t.app.inject({ url: '/tickets', headers: { accept: 'application/json' } }), 404);
      expect(problem(await t.app.inject({ method: 'POST', url: '/tickets', headers: html }), 405).detail).toContain('allowed: GET, HEAD');
      // A path parameter over the router's limit is still the router's 422, not a page.
      problem(await t.app.inject({ url: `/api/v1/support/tickets/${'a'.repeat(300)}`, headers: html }), 422);
    });

    it('answers a browser at an unknown address with the app, which says so, as a 404; anything else still gets problem+json', async () => {
      for (const url of ['/nowhere', '/staf/queue', '/tickets-old/12?x=1']) {
        const res = await t.app.inject({ url, headers: html });
        expect(res.statusCode, url).toBe(404);
        expect(res.headers['content-type'], url).toContain('text/html');
        expect(res.body, url).toContain('<div id="root"></div>');
        expect(res.headers['content-security-policy'], url).toContain("script-src 'self';");
      }
      expect(problem(await t.app.inject({ url: '/nowhere' }), 404).detail).toBe('no route for GET /nowhere');
      problem(await t.app.inject({ url: '/nowhere', headers: { accept: 'application/json' } }), 404);
      problem(await t.app.inject({ method: 'POST', url: '/nowhere', headers: html }), 404);
      problem(await t.app.inject({ url: '/api/v2/tickets', headers: html }), 404);
    });

    it('offers the demo identities and mints tokens the API accepts', async () => {
      const config = (await t.app.inject({ url: '/api/v1/dashboard/config' })).json();
      expect(config).toMatchObject({ auth_mode: 'development', clerk_publishable_key: null });
      expect(config.dev_identities.map((i: { id: string }) => i.id)).toEqual(['customer-acme', 'customer-globex', 'staff']);

      const minted = await t.app.inject({ method: 'POST', url: '/api/v1/dev/tokens', payload: { identity: 'customer-acme' } });
      expect(minted.statusCode).toBe(201);
      const { token, identity } = minted.json();
      expect(identity).toMatchObject({ user_id: alice.id, org_id: alice.org, is_staff: false });
      const mine = await t.app.inject({ url: '/api/v1/support/tickets', headers: { authorization: `Bearer ${token}` } });
      expect(mine.statusCode).toBe(200);

      const staff = (await t.app.inject({ method: 'POST', url: '/api/v1/dev/tokens', payload: { identity: 'staff' } })).json();
      const queue = await t.app.inject({ url: '/api/v1/admin/support/tickets', headers: { authorization: `Bearer ${staff.token}` } });
      expect(queue.statusCode).toBe(200);
      // A customer token stays a customer token.
      expect((await t.app.inject({ url: '/api/v1/admin/support/tickets', headers: { authorization: `Bearer ${token}` } })).statusCode).toBe(403);
    });

    it('mints no token for anyone but this machine, whatever X-Forwarded-For claims', async () => {
      for (const remoteAddress of ['10.1.2.3', '192.168.1.20', 'fe80::1', '::ffff:10.1.2.3']) {
        const res = await t.app.inject({
          method: 'POST',
          url: '/api/v1/dev/tokens',
          remoteAddress,
          headers: { 'x-forwarded-for': '127.0.0.1' },
          payload: { identity: 'staff' },
        });
        expect(problem(res, 403).detail, remoteAddress).toMatch(/^development sign-in works only from this machine/);
        expect(res.json()).not.toHaveProperty('token');
      }
      // The loopback addresses a local browser may come from still get one.
      for (const remoteAddress of ['127.0.0.1', '127.8.9.10', '::1', '::ffff:127.0.0.1']) {
        const res = await t.app.inject({ method: 'POST', url: '/api/v1/dev/tokens', remoteAddress, payload: { identity: 'staff' } });
        expect(res.statusCode, remoteAddress).toBe(201);
      }
      const doc = (await t.app.inject({ url: '/api/v1/openapi.json' })).json();
      expect(doc.paths['/api/v1/dev/tokens'].post.responses).toHaveProperty('403');
    });

    it('mints no token for a request that came through a proxy, even over loopback', async () => {
      // nginx, Caddy, cloudflared, ngrok or a mesh sidecar on the same host connect from loopback for everyone.
      const proxied = {
        forwarded: 'for=203.0.113.9;proto=https',
        'x-forwarded-for': '203.0.113.9',
        'x-forwarded-host': 'helpdesk.example.com',
        'x-forwarded-proto': 'https',
        'x-real-ip': '203.0.113.9',
        via: '1.1 caddy',
        'cf-connecting-ip': '203.0.113.9',
        'x-envoy-external-address': '203.0.113.9',
      };
      for (const [name, value] of Object.entries(proxied)) {
        const res = await t.app.inject({ method: 'POST', url: '/api/v1/dev/tokens', remoteAddress: '127.0.0.1', headers: { [name]: value }, payload: { identity: 'staff' } });
        expect(problem(res, 403).detail, name).toMatch(new RegExp(`^development sign-in works only from this machine.*came through a proxy \\(${name}\\)`));
        expect(res.json(), name).not.toHaveProperty('token');
      }
    });

    it('mints no token for a Host or Origin that is not this machine (a proxy passing Host, DNS rebinding)', async () => {
      const hosts = ['helpdesk.example.com', 'evil.test:8080', '127.0.0.1.nip.io', 'localhost.evil.test', 'x@localhost', '10.0.0.5:8080'];
      for (const host of hosts) {
        const res = await t.app.inject({ method: 'POST', url: '/api/v1/dev/tokens', remoteAddress: '127.0.0.1', headers: { host }, payload: { identity: 'staff' } });
        expect(problem(res, 403).detail, host).toContain('its Host is not localhost or a loopback address');
      }
      for (const origin of ['https://evil.example', 'null', 'http://localhost.evil.test:8080', 'file://']) {
        const res = await t.app.inject({
          method: 'POST',
          url: '/api/v1/dev/tokens',
          remoteAddress: '127.0.0.1',
          headers: { host: 'localhost:8080', origin },
          payload: { identity: 'staff' },
        });
        expect(problem(res, 403).detail, origin).toContain('its Origin is not localhost or a loopback address');
      }
      // This machine by every name a local browser or the dashboard's dev server uses.
      const local: Array<Record<string, string>> = [
        { host: 'localhost:8080' },
        { host: '127.0.0.1:8080', origin: 'http://127.0.0.1:8080' },
        { host: '[::1]:8080', origin: 'http://[::1]:8080' },
        { host: 'localhost:5173', origin: 'http://localhost:5173' },
      ];
      for (const headers of local) {
        const res = await t.app.inject({ method: 'POST', url: '/api/v1/dev/tokens', remoteAddress: '127.0.0.1', headers, payload: { identity: 'staff' } });
        expect(res.statusCode, JSON.stringify(headers)).toBe(201);
      }
    });

    it('offers the demo identities only to whoever may sign in as them', async () => {
      const config = async (headers: Record<string, string>, remoteAddress = '127.0.0.1') =>
        (await t.app.inject({ url: '/api/v1/dashboard/config', remoteAddress, headers })).json();
      expect((await config({ host: 'localhost:8080' })).dev_identities).toHaveLength(3);
      for (const [headers, remoteAddress] of [
        [{ host: 'helpdesk.example.com' }, '127.0.0.1'],
        [{ host: 'localhost:8080', 'x-forwarded-for': '203.0.113.9' }, '127.0.0.1'],
        [{ host: 'localhost:8080' }, '192.168.1.20'],
      ] as const) {
        expect(await config(headers, remoteAddress)).toEqual({
          $schema: '/api/v1/schemas/DashboardConfig.json',
          auth_mode: 'development',
          clerk_publishable_key: null,
          dev_identities: [],
          dev_outbox: true,
        });
      }
    });

    it('refuses an identity it does not offer', async () => {
      const res = problem(await t.app.inject({ method: 'POST', url: '/api/v1/dev/tokens', payload: { identity: 'admin' } }), 422);
      expect(res.errors?.[0]?.location).toBe('body.identity');
    });
  });

  describe('in Clerk mode', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await buildTestApp(dialect, { CLERK_PUBLISHABLE_KEY: PUBLISHABLE_KEY });
    });
    afterAll(async () => {
      await t.close();
    });

    it('has no development sign-in at all', async () => {
      problem(await t.app.inject({ method: 'POST', url: '/api/v1/dev/tokens', payload: { identity: 'staff' } }), 404);
      const doc = (await t.app.inject({ url: '/api/v1/openapi.json' })).json();
      expect(doc.paths).not.toHaveProperty('/api/v1/dev/tokens');
      const config = (await t.app.inject({ url: '/api/v1/dashboard/config' })).json();
      expect(config).toMatchObject({ auth_mode: 'clerk', clerk_publishable_key: PUBLISHABLE_KEY, dev_identities: [] });
    });

    it('lets the page load Clerk’s SDK from the key’s Frontend API, and still no inline script', async () => {
      const csp = (await t.app.inject({ url: '/', headers: html })).headers['content-security-policy'] as string;
      expect(csp).toContain("script-src 'self' https://clerk.helpdesk.test https://challenges.cloudflare.com;");
      expect(csp).toContain("connect-src 'self' https://clerk.helpdesk.test;");
      expect(csp).not.toContain("'unsafe-eval'");
      expect(csp).not.toMatch(/script-src[^;]*'unsafe-inline'/);
    });

    it('asks the browser to upgrade to HTTPS in production, and only there', async () => {
      expect((await t.app.inject({ url: '/', headers: html })).headers['content-security-policy']).not.toContain('upgrade-insecure-requests');
      const production = await buildTestApp(dialect, { CLERK_PUBLISHABLE_KEY: PUBLISHABLE_KEY, NODE_ENV: 'production' });
      try {
        const csp = (await production.app.inject({ url: '/', headers: html })).headers['content-security-policy'] as string;
        expect(csp).toContain('upgrade-insecure-requests');
        expect(csp).toContain("script-src 'self' https://clerk.helpdesk.test https://challenges.cloudflare.com;");
      } finally {
        await production.close();
      }
    });
  });
});
