import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from './helpers.js';
import { dialects } from './dialects.js';

describe.each(dialects())('%s', (dialect) => {
  // The API contract: ../shared/seed/*.txt beside the project (the seed the issue names).
  const here = path.dirname(fileURLToPath(import.meta.url));
  const SEED = fs.readFileSync(path.resolve(here, '../../shared/seed/000_eb3fc449ec80098d.txt'), 'utf8');

  type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
  type Schema = { [key: string]: unknown };

  /** Every top-level JSON object in the seed text, in order. */
  function seedObjects(text: string): Array<{ [key: string]: Json }> {
    const out: Array<{ [key: string]: Json }> = [];
    for (let i = 0; i < text.length; i++) {
      if (text[i] !== '{') continue;
      let depth = 0;
      let inString = false;
      for (let j = i; j < text.length; j++) {
        const c = text[j];
        if (inString) {
          if (c === '\\') j++;
          else if (c === '"') inString = false;
        } else if (c === '"') inString = true;
        else if (c === '{') depth++;
        else if (c === '}' && --depth === 0) {
          try {
            out.push(JSON.parse(text.slice(i, j + 1)));
            i = j;
          } catch {
            // Not JSON (e.g. prose with a brace): keep scanning.
          }
          break;
        }
      }
    }
    return out;
  }

  let t: TestApp;
  let doc: { paths: Record<string, Record<string, Schema>>; components: { schemas: Record<string, Schema>; securitySchemes: Record<string, Schema> } };

  beforeAll(async () => {
    t = await buildTestApp(dialect);
    doc = (await t.app.inject({ url: '/api/v1/openapi.json' })).json();
  });
  afterAll(async () => {
    await t.close();
  });

  function resolve(schema: Schema): Schema {
    const ref = schema.$ref;
    if (typeof ref !== 'string') return schema;
    const name = ref.replace('#/components/schemas/', '');
    const target = doc.components.schemas[name];
    if (!target) throw new Error(`dangling $ref ${ref}`);
    return target;
  }

  function typesOf(schema: Schema): string[] {
    const type = schema.type;
    return Array.isArray(type) ? (type as string[]) : [type as string];
  }

  /** Asserts a seed example value is described by the schema, field by field, recursively. */
  function expectMatches(example: Json, schema: Schema, where: string): void {
    const s = resolve(schema);
    if (s.type === undefined) return; // an unconstrained schema (ErrorDetail.value) takes any value
    if (example === null) return expect(typesOf(s), where).toContain('null');
    if (Array.isArray(example)) {
      expect(typesOf(s), where).toContain('array');
      for (const item of example) expectMatches(item, s.items as Schema, `${where}[]`);
      return;
    }
    switch (typeof example) {
      case 'string':
        expect(typesOf(s), where).toContain('string');
        if (/^\d{4}-\d{2}-\d{2}T/.test(example)) expect(s.format, where).toBe('date-time');
        return;
      case 'number':
        expect(typesOf(s).some((x) => x === 'integer' || x === 'number'), where).toBe(true);
        return;
      case 'boolean':
        return expect(typesOf(s), where).toContain('boolean');
      default: {
        expect(typesOf(s), where).toContain('object');
        const properties = s.properties as Record<string, Schema>;
        for (const [key, value] of Object.entries(example)) {
          expect(properties, `${where} has no field ${key}`).toHaveProperty([key]);
          expectMatches(value, properties[key] as Schema, `${where}.${key}`);
        }
      }
    }
  }

  const schemaName = (example: { [key: string]: Json }) => String(example.$schema).match(/schemas\/(\w+)\.json$/)?.[1];

  describe('the served OpenAPI document against the seed', () => {
    it('is OpenAPI 3.1 with the bearerClerk scheme on every seed operation', () => {
      expect(doc).toMatchObject({ openapi: '3.1.0' });
      expect(doc.components.securitySchemes.bearerClerk).toMatchObject({ type: 'http', scheme: 'bearer' });
      const operations = [...SEED.matchAll(/curl -X (\w+) "https:\/\/loading(\/api\/v1\/[^"]+)"/g)].map(([, method, url]) => ({
        method: (method as string).toLowerCase(),
        path: (url as string).replace('/tickets/string', '/tickets/{ticketId}'),
      }));
      expect(operations).toHaveLength(5);
      for (const { method, path: p } of operations) {
        const operation = doc.paths[p]?.[method];
        expect(operation, `${method} ${p}`).toBeDefined();
        expect(operation?.security).toEqual([{ bearerClerk: [] }]);
        const responses = operation?.responses as Record<string, { content: Record<string, unknown> }>;
        const errors = Object.entries(responses).filter(([status]) => Number(status) >= 400);
        expect(errors.length, `${method} ${p} documents its errors`).toBeGreaterThan(0);
        for (const [, response] of errors) expect(Object.keys(response.content)).toEqual(['application/problem+json']);
      }
    });

    it('has every field of every seed example, with the seed’s types', () => {
      const examples = seedObjects(SEED).filter((o) => typeof o.$schema === 'string');
      const names = new Set(examples.map(schemaName));
      expect([...names].sort()).toEqual(['ErrorModel', 'SupportTicket', 'SupportTicketComment', 'TicketDetailResponse', 'TicketListResponse']);
      for (const example of examples) {
        const name = schemaName(example) as string;
        const schema = doc.components.schemas[name];
        expect(schema, name).toBeDefined();
        expectMatches(example, schema as Schema, name);
      }
    });

    it('has the seed’s request bodies, every field required', () => {
      const bodies = [...SEED.matchAll(/curl -X POST "https:\/\/loading(\/api\/v1\/[^"]+)"[^\n]*?-d '([^']+)'/g)];
      expect(bodies).toHaveLength(2);
      for (const [, url, json] of bodies) {
        const p = (url as string).replace('/tickets/string', '/tickets/{ticketId}');
        const body = resolve(
          (doc.paths[p]?.post?.requestBody as { content: Record<string, { schema: Schema }> }).content['application/json']?.schema as Schema,
        );
        const example = JSON.parse(json as string) as Record<string, Json>;
        expectMatches(example, body, `${p} body`);
        expect((body.required as string[]).sort()).toEqual(Object.keys(example).sort());
      }
    });

    it('has the seed’s query and path parameters', () => {
      const params = doc.paths['/api/v1/support/tickets']?.get?.parameters as Array<{ name: string; in: string; schema: Schema }>;
      const byName = Object.fromEntries(params.map((p) => [p.name, p]));
      expect(byName.limit?.schema).toMatchObject({ type: 'integer', format: 'int64', default: 20, maximum: 100 });
      expect(byName.offset?.schema).toMatchObject({ type: 'integer', format: 'int64', default: 0 });
      expect(byName.status?.schema.enum).toEqual(['open', 'in_progress', 'resolved', 'closed']);
      expect(byName.type?.schema.enum).toEqual(expect.arrayContaining(['support', 'bug', 'feature_request', 'billing']));
      for (const p of ['/api/v1/support/tickets/{ticketId}', '/api/v1/support/tickets/{ticketId}/close', '/api/v1/support/tickets/{ticketId}/comments']) {
        const operation = Object.values(doc.paths[p] ?? {})[0] as { parameters: Array<{ name: string; in: string; schema: Schema }> };
        expect(operation.parameters.filter((p) => p.in === 'path')).toEqual([
          expect.objectContaining({ name: 'ticketId', in: 'path', schema: expect.objectContaining({ format: 'uuid' }) }),
        ]);
      }
    });
  });

  describe('the staff operations in the OpenAPI document', () => {
    it('documents each one with the bearerClerk requirement and its 403', () => {
      const expected = [
        ['get', '/api/v1/admin/support/tickets'],
        ['get', '/api/v1/admin/support/tickets/{ticketId}'],
        ['patch', '/api/v1/admin/support/tickets/{ticketId}'],
        ['post', '/api/v1/admin/support/tickets/{ticketId}/comments'],
        ['get', '/api/v1/admin/support/stats'],
        ['get', '/api/v1/admin/support/agents'],
      ] as const;
      for (const [method, p] of expected) {
        const operation = doc.paths[p]?.[method] as { security: unknown; responses: Record<string, unknown>; tags: string[] } | undefined;
        expect(operation, `${method} ${p}`).toBeDefined();
        expect(operation?.security).toEqual([{ bearerClerk: [] }]);
        expect(operation?.responses).toHaveProperty('403');
        expect(operation?.tags).toEqual(['Support (staff)']);
      }
      const patch = doc.paths['/api/v1/admin/support/tickets/{ticketId}']?.patch as { parameters: Array<{ in: string; name: string }> };
      expect(patch.parameters).toContainEqual(expect.objectContaining({ in: 'header', name: 'if-match' }));
    });
  });

  describe('schema links and documentation', () => {
    it('serves each named schema at its $schema URL, linking its neighbours by URL', async () => {
      const res = await t.app.inject({ url: '/api/v1/schemas/SupportTicket.json' });
      expect(res.statusCode).toBe(200);
      const schema = res.json();
      expect(schema.$id).toBe('/api/v1/schemas/SupportTicket.json');
      expect(schema.properties.comments.items.$ref).toBe('/api/v1/schemas/SupportTicketComment.json');
      for (const name of ['TicketListResponse', 'TicketDetailResponse', 'SupportTicketComment', 'ErrorModel']) {
        expect((await t.app.inject({ url: `/api/v1/schemas/${name}.json` })).statusCode).toBe(200);
      }
      expect((await t.app.inject({ url: '/api/v1/schemas/Nope.json' })).statusCode).toBe(404);
    });

    it('serves the same document as YAML', async () => {
      const res = await t.app.inject({ url: '/api/v1/openapi.yaml' });
      expect(res.statusCode).toBe(200);
      // Key order inside `required` carries no meaning; compare the documents without it.
      const normalize = (value: unknown): unknown =>
        JSON.parse(JSON.stringify(value, (key, v) => (key === 'required' && Array.isArray(v) ? [...v].sort() : v)));
      expect(normalize(parseYaml(res.body))).toEqual(normalize(doc));
    });

    it('serves interactive docs from the installed package, with no external script', async () => {
      const page = await t.app.inject({ url: '/api/v1/docs/' });
      expect(page.statusCode).toBe(200);
      expect(page.headers['content-type']).toContain('text/html');
      expect(page.body).not.toMatch(/<script[^>]+src="https?:/);
      const scripts = [...page.body.matchAll(/<script[^>]+src="\.\/([^"]+)"/g)].map((m) => m[1]);
      expect(scripts.length).toBeGreaterThan(0);
      for (const script of scripts) expect((await t.app.inject({ url: `/api/v1/docs/${script}` })).statusCode, script).toBe(200);
    });
  });
});
