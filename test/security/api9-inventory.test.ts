// OWASP API9:2023 Improper Inventory Management: no route the OpenAPI document does not describe.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dialects } from '../dialects.js';
import { buildTestApp, DEVELOPMENT_SIGN_IN, type TestApp } from '../helpers.js';

// The interactive documentation page and its static assets: a UI over the document, not API.
const DOCS_UI = /^\/api\/v1\/docs(\/|$)/;
// The web dashboard's routes, one by one (web/src/app.tsx's sections, Vite's hashed bundles, web/public's
// files): a UI over the API, not API. Listed exactly, so any other route outside /api still has to be documented.
const DASHBOARD_UI = ['/', '/tickets', '/tickets/*', '/staff', '/staff/*', '/assets/*', '/favicon.svg'];
const isApi = (url: string) => !DOCS_UI.test(url) && !DASHBOARD_UI.includes(url);

describe.each(dialects())('%s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp(dialect);
  });
  afterAll(async () => {
    await t.close();
  });

  async function expectInventoryMatches(app: TestApp['app']) {
    const doc = (await app.inject({ url: '/api/v1/openapi.json' })).json() as { paths: Record<string, Record<string, unknown>> };
    const documented = Object.entries(doc.paths)
      .flatMap(([path, operations]) => Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`))
      .sort();
    const registered = [
      ...new Set(
        app.routeTable
          .filter((r) => r.method !== 'HEAD' && r.method !== 'OPTIONS' && isApi(r.url))
          .map((r) => `${r.method} ${r.url.replace(/:(\w+)/g, '{$1}')}`),
      ),
    ].sort();
    expect(registered).toEqual(documented);
    expect(registered.length).toBeGreaterThanOrEqual(16);
    // HEAD mirrors GET only; nothing else hides behind it.
    for (const head of app.routeTable.filter((r) => r.method === 'HEAD' && isApi(r.url))) {
      expect(app.routeTable.some((r) => r.method === 'GET' && r.url === head.url), head.url).toBe(true);
    }
    return documented;
  }

  it('registers exactly the operations the OpenAPI document lists', async () => {
    expect(await expectInventoryMatches(t.app)).not.toContain('POST /api/v1/dev/tokens');
  });

  it('leaves out only dashboard routes the app registers for GET', async () => {
    for (const url of DASHBOARD_UI) {
      expect(t.app.routeTable.filter((r) => r.url === url).map((r) => r.method), url).toEqual(expect.arrayContaining(['GET']));
    }
  });

  it('documents development sign-in when (and only when) it exists', async () => {
    const dev = await buildTestApp(dialect, DEVELOPMENT_SIGN_IN);
    try {
      expect(await expectInventoryMatches(dev.app)).toContain('POST /api/v1/dev/tokens');
    } finally {
      await dev.close();
    }
  });

  it('requires the bearer token on every operation except health and documentation', async () => {
    const doc = (await t.app.inject({ url: '/api/v1/openapi.json' })).json() as {
      paths: Record<string, Record<string, { security?: unknown; tags: string[] }>>;
    };
    for (const [path, operations] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        // Health, documentation and what the dashboard needs before sign-in (its configuration).
        const isPublic = ['Operations', 'Documentation', 'Dashboard'].some((tag) => operation.tags.includes(tag));
        expect(operation.security, `${method} ${path}`).toEqual(isPublic ? [] : [{ bearerClerk: [] }]);
      }
    }
  });
});
