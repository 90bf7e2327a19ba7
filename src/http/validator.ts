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
        const nulAt = findNul(data, '');
        if (nulAt !== undefined) {
          capped.errors = [{ keyword: 'nul', instancePath: nulAt, schemaPath: '#', params: {}, message: 'contains NUL' }];
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

/**
 * Where the first string holding U+0000 is, as a JSON pointer. PostgreSQL cannot store it in
 * text, so it is refused up front on every database rather than failing as a 500 on one.
 */
function findNul(value: unknown, pointer: string): string | undefined {
  if (typeof value === 'string') return value.includes('\u0000') ? pointer : undefined;
  if (value === null || typeof value !== 'object') return undefined;
  for (const [key, inner] of Object.entries(value)) {
    const found = findNul(inner, `${pointer}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`);
    if (found !== undefined) return found;
  }
  return undefined;
}
