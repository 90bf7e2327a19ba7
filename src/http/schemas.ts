import { Type, type Static, type TSchema, type TObject } from '@sinclair/typebox';

/** Base path of every API route; schema links and Location headers are built from it. */
export const API_PREFIX = '/api/v1';

/** The relative URL at which a named schema is served (and which `$schema` fields carry). */
export function schemaUrl(name: string): string {
  return `${API_PREFIX}/schemas/${name}.json`;
}

/**
 * The `$schema` property Huma adds to every named body: a link to its JSON Schema.
 * Always sent in responses (listed first, as Huma does); optional and ignored in request bodies.
 */
export function SchemaLink(name: string) {
  return Type.String({
    format: 'uri-reference',
    readOnly: true,
    description: 'A URL to the JSON Schema for this object.',
    examples: [schemaUrl(name)],
  });
}

/** The longest `$schema` link a request body may carry; an absolute URL to a schema is far shorter. */
export const MAX_SCHEMA_LINK_LENGTH = 500;

/** The optional `$schema` a client may echo back in a request body (bounded, as every string a client sends). */
export function InputSchemaLink(name: string) {
  return Type.Optional(Type.String({ ...SchemaLink(name), maxLength: MAX_SCHEMA_LINK_LENGTH }));
}

/** A field that is always present and may be null (OpenAPI 3.1 style: `type: [T, "null"]`). */
export function Nullable<T extends TSchema & { type: string }>(schema: T) {
  return Type.Unsafe<Static<T> | null>({ ...schema, type: [schema.type, 'null'] });
}

/** A reference to a named schema: `$ref` on the wire and in OpenAPI, the full static type in code. */
export function Ref<T extends TObject>(schema: T) {
  if (!schema.$id) throw new Error('Ref() needs a schema with an $id');
  return Type.Unsafe<Static<T>>({ $ref: `${schema.$id}#` });
}

export const ErrorDetail = Type.Object(
  {
    location: Type.Optional(
      Type.String({ description: "Where the error occurred, e.g. 'body.items[3].tags' or 'path.thing-id'" }),
    ),
    message: Type.Optional(Type.String({ description: 'Error message text' })),
    value: Type.Optional(Type.Unknown({ description: 'The value at the given location' })),
  },
  { $id: 'ErrorDetail', additionalProperties: false },
);

/** RFC 9457 problem details, exactly as Huma renders them. */
export const ErrorModel = Type.Object(
  {
    $schema: SchemaLink('ErrorModel'),
    type: Type.Optional(
      Type.String({
        format: 'uri',
        default: 'about:blank',
        description: 'A URI reference to human-readable documentation for the error.',
        examples: ['https://example.com/errors/example'],
      }),
    ),
    title: Type.Optional(
      Type.String({
        description: 'A short, human-readable summary of the problem type. This value should not change between occurrences of the error.',
        examples: ['Bad Request'],
      }),
    ),
    status: Type.Optional(
      Type.Integer({ format: 'int64', description: 'HTTP status code', examples: [400] }),
    ),
    detail: Type.Optional(
      Type.String({
        description: 'A human-readable explanation specific to this occurrence of the problem.',
        examples: ['Property foo is required but is missing.'],
      }),
    ),
    instance: Type.Optional(
      Type.String({
        format: 'uri',
        description: 'A URI reference that identifies the specific occurrence of the problem.',
        examples: ['https://example.com/error-log/abc123'],
      }),
    ),
    errors: Type.Optional(Type.Array(Ref(ErrorDetail), { description: 'Optional list of individual error details' })),
  },
  { $id: 'ErrorModel', additionalProperties: false },
);
export type ErrorModel = Static<typeof ErrorModel>;
export type ErrorDetail = Static<typeof ErrorDetail>;

/** OpenAPI response entries for the problem+json errors an operation can return. */
export function problemResponses(...statuses: number[]): Record<number, unknown> {
  const out: Record<number, unknown> = {};
  for (const status of statuses) {
    out[status] = {
      description: ERROR_DESCRIPTIONS[status] ?? 'Error',
      content: { 'application/problem+json': { schema: Ref(ErrorModel) } },
    };
  }
  return out;
}

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized: missing, expired or invalid bearer token',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  412: 'Precondition Failed',
  413: 'Request Entity Too Large',
  415: 'Unsupported Media Type',
  416: 'Range Not Satisfiable',
  422: 'Unprocessable Entity: validation failed',
  429: 'Too Many Requests: per-user rate limit exceeded; see Retry-After',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};
