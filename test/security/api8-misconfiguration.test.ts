// OWASP API8:2023 Security Misconfiguration.
import { afterEach, describe, expect, it } from 'vitest';
import { dialects } from '../dialects.js';
import { alice, buildTestApp, TICKETS, type TestApp } from '../helpers.js';

describe.each(dialects())('%s', (dialect) => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('sends security headers on API responses and errors', async () => {
    t = await buildTestApp(dialect);
    for (const res of [await t.as(alice, { url: TICKETS }), await t.as(null, { url: TICKETS }), await t.as(alice, { url: '/nope' })]) {
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['x-frame-options']).toBe('SAMEORIGIN');
      expect(res.headers['content-security-policy']).toContain("default-src 'self'");
      expect(res.headers['referrer-policy']).toBe('no-referrer');
      expect(res.headers['x-powered-by']).toBeUndefined();
    }
  });

  it('answers CORS only for configured origins', async () => {
    t = await buildTestApp(dialect, { HELPDESK_CORS_ORIGINS: 'https://app.example.com' });
    const preflight = (origin: string) =>
      t?.app.inject({
        method: 'OPTIONS',
        url: TICKETS,
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
      });
    const allowed = await preflight('https://app.example.com');
    expect(allowed?.headers['access-control-allow-origin']).toBe('https://app.example.com');
    const denied = await preflight('https://evil.example');
    expect(denied?.headers['access-control-allow-origin']).toBeUndefined();
    const simple = await t.as(alice, { url: TICKETS, headers: { origin: 'https://app.example.com' } });
    expect(simple.headers['access-control-allow-origin']).toBe('https://app.example.com');
    expect(simple.headers['access-control-expose-headers']).toContain('ratelimit');
  });

  it('sends no CORS headers at all when no origin is configured', async () => {
    t = await buildTestApp(dialect);
    const res = await t.as(alice, { url: TICKETS, headers: { origin: 'https://app.example.com' } });
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
  });
});
