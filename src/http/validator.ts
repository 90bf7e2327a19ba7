import { Ajv, type ErrorObject, type Options } from 'ajv';
import type { DataValidationCxt } from 'ajv/dist/types/index.js';
import addFormatsModule from 'ajv-formats';
import type { TSchema } from '@sinclair/typebox';
import type { FastifySchemaCompiler } from 'fastify';

// ajv-formats is CommonJS; under NodeNext its callable export sits on `.default`.
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;

const MAX_ERRORS = 20;

/**
 * Validation as Huma does it: JSON bodies are taken strictly (the string "42" is not a number),
 * while path and query parameters, which arrive as text, are parsed into their declared types.
 * Every problem is reported, not just the first, but no more than MAX_ERRORS of them.
 */
export function createValidatorCompiler(sharedSchemas: TSchema[]): FastifySchemaCompiler<TSchema> {
  const make = (coerceTypes: Options['coerceTypes']) => {
    const ajv = new Ajv({ coerceTypes, useDefaults: true, removeAdditional: false, allErrors: true, addUsedSchema: false });
    addFormats(ajv);
    ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isSafeInteger(n) });
    for (const schema of sharedSchemas) ajv.addSchema(schema);
    return ajv;
  };
  const strict = make(false);
  const parsing = make('array');
  return ({ schema, httpPart }) => {
    const validate = (httpPart === 'body' ? strict : parsing).compile(schema);
    // Same calling convention as an Ajv function (Fastify reads .errors and .schemaEnv), errors capped.
    const capped = Object.assign(
      (data: unknown, context?: DataValidationCxt) => {
        const forbidden = findForbidden(data);
        if (forbidden) {
          capped.errors = [{ keyword: forbidden.keyword, instancePath: forbidden.pointer, schemaPath: '#', params: { limit: MAX_DEPTH }, message: forbidden.keyword }];
          return false;
        }
        const valid = validate(data, context);
        capped.errors = validate.errors?.slice(0, MAX_ERRORS) ?? null;
        return valid;
      },
      { errors: null as ErrorObject[] | null, schemaEnv: validate.schemaEnv },
    );
    return capped;
  };
}

const MAX_DEPTH = 32;

/**
 * Checks what a schema cannot: no string holds U+0000 (PostgreSQL cannot store it in text, so it
 * is refused on every database rather than failing as a 500 on one), and nothing is nested
 * deeper than MAX_DEPTH (a tiny body of 5,000 nested arrays would otherwise exhaust the stack).
 * Iterative, so the check itself cannot overflow. Returns the first offending place as a JSON pointer.
 */
function findForbidden(root: unknown): { keyword: 'nul' | 'depth'; pointer: string } | undefined {
  const stack: Array<{ value: unknown; pointer: string; depth: number }> = [{ value: root, pointer: '', depth: 0 }];
  while (stack.length > 0) {
    const { value, pointer, depth } = stack.pop() as { value: unknown; pointer: string; depth: number };
    if (typeof value === 'string') {
      if (value.includes('\u0000')) return { keyword: 'nul', pointer };
    } else if (value !== null && typeof value === 'object') {
      if (depth >= MAX_DEPTH) return { keyword: 'depth', pointer };
      for (const [key, inner] of Object.entries(value)) {
        stack.push({ value: inner, pointer: `${pointer}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`, depth: depth + 1 });
      }
    }
  }
  return undefined;
}
