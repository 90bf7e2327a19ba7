import fs from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { API_TYPES_FILE, renderApiTypes, servedOpenApiDocument } from '../../web/api/generate.js';

describe('the dashboard’s typed API client', () => {
  it('is generated from the OpenAPI document the server serves now (else: npm run generate:api)', async () => {
    const fresh = await renderApiTypes(await servedOpenApiDocument());
    expect(await fs.readFile(API_TYPES_FILE, 'utf8'), 'web/src/api/schema.d.ts is stale: run npm run generate:api').toBe(fresh);
  });
});
