// OWASP API8:2023 Security Misconfiguration.
import { afterEach, describe, expect, it } from 'vitest';
import { dialects } from '../dialects.js';
import { alice, buildTestApp, createTicketAs, sam, TICKETS, type TestApp } from '../helpers.js';

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

  it('lets an allowed origin call every documented operation: preflight and request, a staff PATCH included', async () => {
    t = await buildTestApp(dialect, { HELPDESK_CORS_ORIGINS: 'https://app.example.com' });
    const origin = 'https://app.example.com';
    const doc = (await t.app.inject({ url: '/api/v1/openapi.json' })).json() as { paths: Record<string, Record<string, unknown>> };
    const operations = Object.entries(doc.paths).flatMap(([p, item]) => Object.keys(item).map((method) => [method.toUpperCase(), p] as const));
    expect(operations.map(([method]) => method)).toContain('PATCH');
    for (const [method, p] of operations) {
      const url = p.replace(/\{[^}]+\}/g, '00000000-0000-4000-8000-000000000000');
      const res = await t.app.inject({
        method: 'OPTIONS',
        url,
        headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': 'authorization,content-type,if-match,idempotency-key' },
      });
      expect(res.statusCode, `${method} ${p}`).toBe(204);
      expect(res.headers['access-control-allow-origin'], `${method} ${p}`).toBe(origin);
      expect(String(res.headers['access-control-allow-methods']).split(/,\s*/), `${method} ${p}`).toContain(method);
      expect(String(res.headers['access-control-allow-headers']).split(/,\s*/)).toEqual(expect.arrayContaining(['authorization', 'content-type', 'if-match', 'idempotency-key', 'last-event-id']));
    }
    // The request itself, as Chromium sends it after the preflight: a staff triage change.
    const ticket = await createTicketAs(t, alice);
    const current = await t.as(sam, { url: `/api/v1/admin/support/tickets/${ticket.ticket_id}`, headers: { origin } });
    const patched = await t.as(sam, {
      method: 'PATCH',
      url: `/api/v1/admin/support/tickets/${ticket.ticket_id}`,
      payload: { priority: 'high' },
      headers: { origin, 'if-match': current.headers.etag as string },
    });
    expect(patched.statusCode).toBe(200);
    expect(patched.headers['access-control-allow-origin']).toBe(origin);
    expect(patched.headers['access-control-expose-headers']).toContain('etag');
  });

  it('sends no CORS headers at all when no origin is configured', async () => {
    t = await buildTestApp(dialect);
    const res = await t.as(alice, { url: TICKETS, headers: { origin: 'https://app.example.com' } });
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
  });
});
