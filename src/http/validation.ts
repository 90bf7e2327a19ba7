import type { FastifyRequest, FastifySchemaValidationError } from 'fastify';
import type { ErrorDetail } from './schemas.js';

// Fastify names the request parts after its schema keys; Huma after where they travel.
const LOCATION_PREFIX: Record<string, string> = {
  body: 'body',
  querystring: 'query',
  params: 'path',
  headers: 'header',
};

const REQUEST_PART: Record<string, 'body' | 'query' | 'params' | 'headers'> = {
  body: 'body',
  querystring: 'query',
  params: 'params',
  headers: 'headers',
};

/** Maps Ajv errors to Huma's `errors[]`: location like `body.title`, Huma's message wording, the value. */
export function validationErrorDetails(
  errors: FastifySchemaValidationError[],
  context: string,
  request: FastifyRequest,
): ErrorDetail[] {
  const prefix = LOCATION_PREFIX[context] ?? context;
  const root: unknown = request[REQUEST_PART[context] ?? 'body'];
  const mapped = errors.map((error) => ({ keyword: error.keyword, detail: toDetail(error, prefix, root) }));
  const seen = new Set<string>();
  const details: ErrorDetail[] = [];
  for (const { keyword, detail } of mapped) {
    // "Too short" already says it all for an empty string; the non-blank pattern would repeat it.
    if (keyword === 'pattern' && mapped.some((o) => o.keyword !== 'pattern' && o.detail.location === detail.location)) continue;
    const key = `${detail.location}\u0000${detail.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    // A large value is named by its location alone: echoing it would make a small hostile body
    // a large answer (each missing property echoes the whole object), and a deep one could not be
    // serialized at all.
    if ('value' in detail && !isEchoable(detail.value)) delete detail.value;
    details.push(detail);
  }
  return details;
}

const MAX_ECHOED_VALUES = 100;
const MAX_ECHOED_CHARACTERS = 25_000;

/** Whether a value is small enough to send back in an error: few values, little text (bounded walk). */
function isEchoable(value: unknown): boolean {
  const stack: unknown[] = [value];
  let values = 0;
  let characters = 0;
  while (stack.length > 0) {
    const current = stack.pop();
    if (++values > MAX_ECHOED_VALUES) return false;
    if (typeof current === 'string') {
      characters += current.length;
      if (characters > MAX_ECHOED_CHARACTERS) return false;
    } else if (current !== null && typeof current === 'object') {
      const keys = Array.isArray(current) ? undefined : Object.keys(current);
      if ((keys ?? (current as unknown[])).length > MAX_ECHOED_VALUES) return false;
      stack.push(...(keys ? keys.map((key) => (current as Record<string, unknown>)[key]) : (current as unknown[])));
    }
  }
  return true;
}

function toDetail(error: FastifySchemaValidationError, prefix: string, root: unknown): ErrorDetail {
  const segments = error.instancePath
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  const value = valueAt(root, segments);
  const location = prefix + segments.map((s) => (/^\d+$/.test(s) ? `[${s}]` : `.${s}`)).join('');
  const params = error.params as Record<string, unknown>;
  const isParameter = prefix !== 'body';

  switch (error.keyword) {
    case 'required':
      return { location, message: `expected required property ${String(params.missingProperty)} to be present`, value };
    case 'additionalProperties': {
      const name = String(params.additionalProperty);
      return { location: `${location}.${name}`, message: 'unexpected property', value: valueAt(value, [name]) };
    }
    case 'maxLength':
      return { location, message: `expected length <= ${String(params.limit)}`, value };
    case 'minLength':
      return { location, message: `expected length >= ${String(params.limit)}`, value };
    case 'maximum':
      return { location, message: `expected number <= ${String(params.limit)}`, value };
    case 'minimum':
      return { location, message: `expected number >= ${String(params.limit)}`, value };
    case 'exclusiveMaximum':
      return { location, message: `expected number < ${String(params.limit)}`, value };
    case 'exclusiveMinimum':
      return { location, message: `expected number > ${String(params.limit)}`, value };
    case 'maxItems':
      return { location, message: `expected array length <= ${String(params.limit)}`, value };
    case 'minItems':
      return { location, message: `expected array length >= ${String(params.limit)}`, value };
    case 'enum':
      return {
        location,
        message: `expected value to be one of "${(params.allowedValues as unknown[]).map(String).join(', ')}"`,
        value,
      };
    case 'type': {
      if (prefix === 'body' && segments.length === 0 && value === undefined) {
        return { location, message: 'request body is required' };
      }
      const type = String(Array.isArray(params.type) ? params.type[0] : params.type).split(',')[0];
      // Huma parses parameters before validating them, and says so when parsing fails.
      if (isParameter && (type === 'integer' || type === 'number' || type === 'boolean')) {
        return { location, message: `invalid ${type === 'number' ? 'float' : type}`, value };
      }
      return { location, message: `expected ${type}`, value };
    }
    case 'nul':
      return { location, message: 'expected string without NUL (U+0000) characters', value };
    case 'surrogate':
      return { location, message: 'expected well-formed Unicode text (no unpaired UTF-16 surrogate)' };
    case 'depth':
      // The value itself is left out: echoing it back is what the limit protects against.
      return { location, message: `expected JSON nested at most ${String(params.limit)} levels deep` };
    case 'format':
      return { location, message: formatMessage(String(params.format), value), value };
    case 'pattern':
      return {
        location,
        message: params.pattern === '\\S' ? 'expected string to contain a non-space character' : `expected string to match pattern ${String(params.pattern)}`,
        value,
      };
    default:
      return { location, message: error.message ?? 'invalid value', value };
  }
}

function formatMessage(format: string, value: unknown): string {
  switch (format) {
    case 'uuid':
      return `expected string to be RFC 4122 uuid: ${uuidProblem(String(value))}`;
    case 'date-time':
      return 'expected string to be RFC 3339 date-time';
    case 'email':
      return 'expected string to be RFC 5322 email';
    case 'uri':
    case 'uri-reference':
      return 'expected string to be RFC 3986 uri';
    default:
      return `expected string to match format ${format}`;
  }
}

// Go's google/uuid error texts, which Huma passes through.
function uuidProblem(value: string): string {
  if (![32, 36, 38, 41, 45].includes(value.length)) return `invalid UUID length: ${value.length}`;
  return 'invalid UUID format';
}

function valueAt(root: unknown, segments: string[]): unknown {
  let current: unknown = root;
  for (const segment of segments) {
    if (current === null || typeof current !== 'object') return undefined;
    if (!Object.prototype.hasOwnProperty.call(current, segment)) return undefined;
    current = (current as Record<string, unknown>)[segment];
  }
  return current;
}
