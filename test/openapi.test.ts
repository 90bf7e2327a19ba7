import fs from 'node:fs';
import zlib from 'node:zlib';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from './helpers.js';
import { dialects } from './dialects.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Schema = { [key: string]: unknown };

/** The customer API as its documentation gives it, kept in the repository (test/contract/). */
interface Contract {
  security: { name: string; scheme: Schema };
  errorMediaType: string;
  operations: Array<{
    summary: string;
    method: string;
    path: string;
    query?: Record<string, { schema?: Schema; enum?: string[]; enumIncludes?: string[] }>;
    pathParameters?: Record<string, { format: string }>;
    body?: { [key: string]: Json };
    response: { [key: string]: Json };
    error: { [key: string]: Json };
  }>;
}
const CONTRACT = JSON.parse(fs.readFileSync(new URL('./contract/support-api.json', import.meta.url), 'utf8')) as Contract;

describe.each(dialects())('%s', (dialect) => {
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

  /** Every example body the contract gives, with the examples nested in it (a ticket's comments, a detail's ticket). */
  function examplesIn(value: Json, out: Array<{ [key: string]: Json }> = []): Array<{ [key: string]: Json }> {
    if (Array.isArray(value)) for (const item of value) examplesIn(item, out);
    else if (value !== null && typeof value === 'object') {
      if (typeof value.$schema === 'string') out.push(value);
      for (const item of Object.values(value)) examplesIn(item, out);
    }
    return out;
  }

  describe('the served OpenAPI document against the API documentation (test/contract/)', () => {
    it('is OpenAPI 3.1 with the bearerClerk scheme on every documented operation', () => {
      expect(doc).toMatchObject({ openapi: '3.1.0' });
      expect(doc.components.securitySchemes[CONTRACT.security.name]).toMatchObject(CONTRACT.security.scheme);
      expect(CONTRACT.operations).toHaveLength(5);
      for (const { method, path: p } of CONTRACT.operations) {
        const operation = doc.paths[p]?.[method];
        expect(operation, `${method} ${p}`).toBeDefined();
        expect(operation?.security).toEqual([{ [CONTRACT.security.name]: [] }]);
        const responses = operation?.responses as Record<string, { content: Record<string, unknown> }>;
        const errors = Object.entries(responses).filter(([status]) => Number(status) >= 400);
        expect(errors.length, `${method} ${p} documents its errors`).toBeGreaterThan(0);
        for (const [, response] of errors) expect(Object.keys(response.content)).toEqual([CONTRACT.errorMediaType]);
      }
    });

    it('has every field of every documented example, with the documented types', () => {
      const examples = CONTRACT.operations.flatMap((o) => [...examplesIn(o.response), ...examplesIn(o.error)]);
      const names = new Set(examples.map(schemaName));
      expect([...names].sort()).toEqual(['ErrorModel', 'SupportTicket', 'SupportTicketComment', 'TicketDetailResponse', 'TicketListResponse']);
      for (const example of examples) {
        const name = schemaName(example) as string;
        const schema = doc.components.schemas[name];
        expect(schema, name).toBeDefined();
        expectMatches(example, schema as Schema, name);
      }
    });

    it('answers each operation with the documented body', () => {
      for (const { method, path: p, response } of CONTRACT.operations) {
        const responses = doc.paths[p]?.[method]?.responses as Record<string, { content: Record<string, { schema: Schema }> }>;
        const success = Object.entries(responses).find(([status]) => Number(status) < 300)?.[1];
        expect(resolve(success?.content['application/json']?.schema as Schema), `${method} ${p}`).toBe(
          doc.components.schemas[schemaName(response) as string],
        );
      }
    });

    it('has the documented request bodies, every field required', () => {
      const withBody = CONTRACT.operations.filter((o) => o.body);
      expect(withBody).toHaveLength(2);
      for (const { path: p, body: example } of withBody) {
        const body = resolve(
          (doc.paths[p]?.post?.requestBody as { content: Record<string, { schema: Schema }> }).content['application/json']?.schema as Schema,
        );
        expectMatches(example as Json, body, `${p} body`);
        expect((body.required as string[]).sort()).toEqual(Object.keys(example as object).sort());
      }
    });

    it('has the documented query and path parameters', () => {
      for (const { method, path: p, query = {}, pathParameters = {} } of CONTRACT.operations) {
        const params = (doc.paths[p]?.[method]?.parameters ?? []) as Array<{ name: string; in: string; schema: Schema }>;
        const byName = Object.fromEntries(params.filter((x) => x.in === 'query').map((x) => [x.name, x]));
        for (const [name, expected] of Object.entries(query)) {
          const schema = byName[name]?.schema;
          expect(schema, `${method} ${p} ?${name}`).toBeDefined();
          if (expected.schema) expect(schema).toMatchObject(expected.schema);
          if (expected.enum) expect(schema?.enum).toEqual(expected.enum);
          if (expected.enumIncludes) expect(schema?.enum).toEqual(expect.arrayContaining(expected.enumIncludes));
        }
        expect(params.filter((x) => x.in === 'path')).toEqual(
          Object.entries(pathParameters).map(([name, { format }]) =>
            expect.objectContaining({ name, in: 'path', schema: expect.objectContaining({ format }) }),
          ),
        );
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

    it('sends the document compressed to a client that accepts it (brotli, else gzip), the same bytes once decoded', async () => {
      const plain = await t.app.inject({ url: '/api/v1/openapi.json' });
      expect(plain.headers['content-encoding']).toBeUndefined();
      const br = await t.app.inject({ url: '/api/v1/openapi.json', headers: { 'accept-encoding': 'gzip, deflate, br' } });
      expect(br.headers['content-encoding']).toBe('br');
      expect(br.headers.vary).toMatch(/accept-encoding/i);
      expect(br.rawPayload.length).toBeLessThan(plain.rawPayload.length / 4);
      expect(zlib.brotliDecompressSync(br.rawPayload).equals(plain.rawPayload)).toBe(true);
      const gz = await t.app.inject({ url: '/api/v1/openapi.yaml', headers: { 'accept-encoding': 'gzip, br;q=0' } });
      expect(gz.headers['content-encoding']).toBe('gzip');
      expect(zlib.gunzipSync(gz.rawPayload).toString()).toBe((await t.app.inject({ url: '/api/v1/openapi.yaml' })).body);
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
