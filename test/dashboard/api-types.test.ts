import fs from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { API_LIMITS_FILE, API_TYPES_FILE, renderApiLimits, renderApiTypes, servedOpenApiDocument } from '../../web/api/generate.js';

describe('the dashboard’s typed API client', () => {
  it('is generated from the OpenAPI document the server serves now (else: npm run generate:api)', async () => {
    const doc = await servedOpenApiDocument();
    expect(await fs.readFile(API_TYPES_FILE, 'utf8'), 'web/src/api/schema.d.ts is stale: run npm run generate:api').toBe(await renderApiTypes(doc));
    expect(await fs.readFile(API_LIMITS_FILE, 'utf8'), 'web/src/api/limits.ts is stale: run npm run generate:api').toBe(renderApiLimits(doc));
  });
});
