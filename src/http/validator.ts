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
    // The schema runs first, so a hostile body costs about what parsing it cost: a 500,000-element
    // array where a string belongs fails at its first check, never walked.
    const capped = Object.assign(
      (data: unknown, context?: DataValidationCxt) => {
        const valid = validate(data, context);
        // A valid value has the schema's few fields, so walking it all is cheap; an invalid one is
        // walked only as far as MAX_WALK, to name nesting or NUL before the schema's own complaint.
        const forbidden = findForbidden(data, valid ? Infinity : MAX_WALK);
        if (forbidden) {
          capped.errors = [{ keyword: forbidden.keyword, instancePath: forbidden.pointer, schemaPath: '#', params: { limit: MAX_DEPTH }, message: forbidden.keyword }];
          return false;
        }
        capped.errors = validate.errors?.slice(0, MAX_ERRORS) ?? null;
        return valid;
      },
      { errors: null as ErrorObject[] | null, schemaEnv: validate.schemaEnv },
    );
    return capped;
  };
}

/** How deep a request's JSON may nest. */
export const MAX_DEPTH = 32;
const MAX_WALK = 10_000;

interface Visit {
  value: unknown;
  depth: number;
  parent: Visit | undefined;
  key: string;
}

/**
 * Checks what a schema cannot: no string holds U+0000 or a lone UTF-16 surrogate (PostgreSQL
 * cannot store either, so they are refused on every database rather than failing as a 500 on
 * one, or being stored as something else on the other), and nothing is nested
 * deeper than MAX_DEPTH (a tiny body of 5,000 nested arrays would otherwise exhaust the stack).
 * Iterative, so the check itself cannot overflow, and it stops after `budget` values. Returns
 * the first offending place as a JSON pointer, built only for that place.
 */
function findForbidden(root: unknown, budget: number): { keyword: 'nul' | 'surrogate' | 'depth'; pointer: string } | undefined {
  const stack: Visit[] = [{ value: root, depth: 0, parent: undefined, key: '' }];
  let seen = 1;
  while (stack.length > 0) {
    const visit = stack.pop() as Visit;
    const { value, depth } = visit;
    if (typeof value === 'string') {
      if (value.includes('\u0000')) return { keyword: 'nul', pointer: pointerTo(visit) };
      // Half of a UTF-16 pair is no character: PostgreSQL refuses it, SQLite would store U+FFFD.
      if (!isWellFormed(value)) return { keyword: 'surrogate', pointer: pointerTo(visit) };
    } else if (value !== null && typeof value === 'object') {
      if (depth >= MAX_DEPTH) return { keyword: 'depth', pointer: pointerTo(visit) };
      const keys = Array.isArray(value) ? value.keys() : Object.keys(value);
      for (const key of keys) {
        if (seen++ >= budget) return undefined;
        stack.push({ value: (value as Record<string, unknown>)[key], depth: depth + 1, parent: visit, key: String(key) });
      }
    }
  }
  return undefined;
}

/** String.prototype.isWellFormed (Node 20 and later; TypeScript's ES2023 library lacks it). */
const isWellFormed = (text: string): boolean => (text as unknown as { isWellFormed(): boolean }).isWellFormed();

/** Whether a value nests deeper than MAX_DEPTH, for a body no schema has checked. Iterative, and it stops at the first too-deep place. */
export function isNestedTooDeep(value: unknown): boolean {
  const stack: Array<{ value: unknown; depth: number }> = [{ value, depth: 0 }];
  while (stack.length > 0) {
    const { value: current, depth } = stack.pop() as { value: unknown; depth: number };
    if (current === null || typeof current !== 'object') continue;
    if (depth >= MAX_DEPTH) return true;
    for (const inner of Array.isArray(current) ? current : Object.values(current)) stack.push({ value: inner, depth: depth + 1 });
  }
  return false;
}

function pointerTo(visit: Visit): string {
  const keys: string[] = [];
  for (let at: Visit | undefined = visit; at?.parent; at = at.parent) keys.push(at.key.replace(/~/g, '~0').replace(/\//g, '~1'));
  return keys.reverse().map((key) => `/${key}`).join('');
}
