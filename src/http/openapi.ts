import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TObject } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { compressedOnce } from './compression.js';
import { sendProblem } from './problem.js';
import { API_PREFIX, problemResponses, schemaUrl } from './schemas.js';

const SECURITY_DESCRIPTION = 'Clerk session JWT from an authenticated dashboard user. Format: Bearer eyJ....';

/**
 * Registers the named schemas (for validation, serialization and `components.schemas`) and the
 * OpenAPI 3.1 generator. Must run before any route is added so every route is documented.
 */
export async function registerOpenApi(app: FastifyInstance, schemas: TObject[], version: string): Promise<void> {
  for (const schema of schemas) app.addSchema(schema);
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'helpdesk API',
        version,
        description: 'Support tickets for SaaS dashboard users, and the support team that works them.',
        contact: { name: 'helpdesk maintainers' },
        license: { name: 'MIT', url: 'https://spdx.org/licenses/MIT.html' },
      },
      // Relative: the document describes the server that serves it, wherever it runs.
      servers: [{ url: '/', description: 'The server that serves this document' }],
      components: {
        securitySchemes: {
          bearerClerk: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: SECURITY_DESCRIPTION },
        },
      },
      tags: [
        { name: 'Support', description: 'A dashboard user’s own support tickets' },
        { name: 'Support (staff)', description: 'The support team’s queue, triage, replies and internal notes' },
        { name: 'Operations', description: 'Health checks for load balancers and orchestrators' },
        { name: 'Documentation', description: 'This document and the JSON Schemas that `$schema` links point at' },
        { name: 'Dashboard', description: 'What the web dashboard served at `/` needs before anyone signs in' },
        { name: 'Development sign-in', description: 'Tokens for demo identities; only without Clerk, never in production' },
      ],
    },
    // Name components after each schema's $id, as Huma does (#/components/schemas/SupportTicket).
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`) },
  });
}

/** GET /openapi.json|yaml, GET /schemas/{Name}.json and the interactive docs (served offline). */
export async function openApiRoutes(app: FastifyInstance, schemas: TObject[]): Promise<void> {
  const served = new Map<string, unknown>();
  for (const schema of schemas) {
    served.set(schema.$id as string, linkRefs({ $schema: 'https://json-schema.org/draft/2020-12/schema', ...schema, $id: schemaUrl(schema.$id as string) }));
  }

  const tags = ['Documentation'];
  // The document is fixed once the app is ready: compressed once, sent compressed to whoever accepts it.
  const json = compressedOnce(() => JSON.stringify(app.swagger()));
  const yaml = compressedOnce(() => String(app.swagger({ yaml: true })));
  app.addHook('onReady', async () => {
    json.prepare();
    yaml.prepare();
  });
  app.get(
    `${API_PREFIX}/openapi.json`,
    { schema: { operationId: 'openapi-json', summary: 'This OpenAPI 3.1 document', description: 'This document as JSON, compressed (brotli or gzip) for a client that accepts it.', tags, security: [], response: { 200: { description: 'OK' } } } },
    async (request, reply) => reply.type('application/json').send(json(request, reply)),
  );
  app.get(
    `${API_PREFIX}/openapi.yaml`,
    {
      schema: {
        operationId: 'openapi-yaml',
        summary: 'This OpenAPI 3.1 document, as YAML',
        description: 'This document as YAML, compressed (brotli or gzip) for a client that accepts it.',
        tags,
        security: [],
        produces: ['application/yaml'],
        response: { 200: { description: 'OK' } },
      },
    },
    async (request, reply) => reply.type('application/yaml').send(yaml(request, reply)),
  );
  app.get<{ Params: { file: string } }>(
    `${API_PREFIX}/schemas/:file`,
    {
      schema: {
        operationId: 'get-schema',
        summary: 'The JSON Schema a `$schema` link points at',
        description: 'The JSON Schema (draft 2020-12) of a named body, as linked from the `$schema` field of every response.',
        tags,
        security: [],
        params: { type: 'object', properties: { file: { type: 'string', description: 'Schema name with .json, e.g. SupportTicket.json' } }, required: ['file'] },
        produces: ['application/schema+json'],
        response: { 200: { description: 'OK' }, ...problemResponses(400, 404, 422) },
      },
    },
    async (request, reply) => {
    const name = request.params.file.replace(/\.json$/, '');
    const schema = served.get(name);
    if (!schema) return sendProblem(reply, 404, `no schema named ${name}`);
    return reply.type('application/schema+json').send(JSON.stringify(schema));
    },
  );
  await app.register(swaggerUi, { routePrefix: `${API_PREFIX}/docs`, uiConfig: { docExpansion: 'list', deepLinking: true } });
}

// A served schema links its neighbours by URL, as Huma's /schemas/{Name}.json does.
function linkRefs(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(linkRefs);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    out[key] = key === '$ref' && typeof inner === 'string' ? schemaUrl(inner.replace(/#$/, '')) : linkRefs(inner);
  }
  return out;
}
