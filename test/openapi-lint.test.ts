// The served OpenAPI document under a strict linter, as generated clients and API tools read it: Redocly's
// recommended rules report no error; Spectral's `oas` expectations Redocly does not cover
// (a description on every operation, info.contact, info.license, servers) are checked beside it.
import { createConfig, lintFromString } from '@redocly/openapi-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from './helpers.js';

let t: TestApp;
let source: string;
beforeAll(async () => {
  t = await buildTestApp('sqlite');
  source = (await t.app.inject({ url: '/api/v1/openapi.json' })).body;
});
afterAll(async () => {
  await t.close();
});

it('passes Redocly’s recommended rules with no error, and only the warnings that are true to the API', async () => {
  const config = await createConfig({ extends: ['recommended'] });
  const problems = await lintFromString({ source, absoluteRef: '/api/v1/openapi.json', config });
  const described = problems.map((p) => `${p.severity} ${p.ruleId}: ${p.message} at ${p.location.map((l) => l.pointer).join(', ')}`);
  expect(described.filter((p) => p.startsWith('error'))).toEqual([]);
  const warnings = problems.filter((p) => p.severity === 'warn').map((p) => `${p.ruleId} ${p.location.map((l) => l.pointer).join(', ')}`);
  // Health checks, this document and the dashboard's config take no input and answer no 4xx; documenting one
  // would be false (test/fuzz.test.ts holds every answer to its documented statuses). The development sign-in
  // schemas are named in every document, and used by a route only in development sign-in.
  expect(warnings.sort()).toEqual([
    'no-unused-components #/components/schemas/CreateDevTokenBody',
    'no-unused-components #/components/schemas/DevToken',
    'operation-4xx-response #/paths/~1api~1v1~1dashboard~1config/get/responses',
    'operation-4xx-response #/paths/~1api~1v1~1openapi.json/get/responses',
    'operation-4xx-response #/paths/~1api~1v1~1openapi.yaml/get/responses',
    'operation-4xx-response #/paths/~1healthz/get/responses',
    'operation-4xx-response #/paths/~1readyz/get/responses',
  ]);
});

it('describes every operation and names its servers, contact and license', () => {
  const doc = JSON.parse(source) as {
    info: { contact?: { name?: string }; license?: { name?: string } };
    servers?: Array<{ url: string }>;
    paths: Record<string, Record<string, { description?: string; operationId?: string }>>;
  };
  expect(doc.info.contact?.name).toBeTruthy();
  expect(doc.info.license?.name).toBe('MIT');
  expect(doc.servers?.length).toBeGreaterThan(0);
  const undescribed = Object.entries(doc.paths).flatMap(([p, item]) =>
    Object.entries(item)
      .filter(([, op]) => !op.description?.trim())
      .map(([method]) => `${method} ${p}`),
  );
  expect(undescribed).toEqual([]);
});
