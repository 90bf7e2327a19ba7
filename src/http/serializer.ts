import fastJsonStringify, { type Schema } from 'fast-json-stringify';
import type { TSchema } from '@sinclair/typebox';
import type { FastifySerializerCompiler } from 'fastify';

type Serializer = (data: unknown) => string;

/** Response schema → its serializer, shared by every app of the process (the schemas are module constants). */
const built = new WeakMap<object, Serializer>();

/**
 * Response serializers as Fastify's default builds them (fast-json-stringify), with two
 * differences that make an app start in about half the time:
 * - each serializer is given only the named schemas its response reaches through `$ref`, not all
 *   of them: fast-json-stringify validates and indexes every external schema it is given, so
 *   with every named schema for every route and status, most of the start-up went on
 *   re-checking the same schemas a few hundred times;
 * - a serializer is built once per schema object per process, so a second app in one process
 *   (tests, the benchmark's runs) reuses the first one's.
 */
export function createSerializerCompiler(sharedSchemas: TSchema[]): FastifySerializerCompiler<TSchema> {
  const byId = new Map<string, TSchema>();
  for (const schema of sharedSchemas) if (schema.$id) byId.set(schema.$id, schema);
  return ({ schema }) => {
    const known = built.get(schema);
    if (known) return known;
    const external: Record<string, Schema> = {};
    const pending = [...refsOf(schema)];
    while (pending.length > 0) {
      const id = pending.pop() as string;
      const named = byId.get(id);
      if (!named || external[id] || id === schema.$id) continue;
      external[id] = asSchema(named);
      pending.push(...refsOf(named));
    }
    const serializer = fastJsonStringify(asSchema(schema), { schema: external }) as Serializer;
    built.set(schema, serializer);
    return serializer;
  };
}

/** A TypeBox schema is a JSON Schema; fast-json-stringify's type wants a `type` on each. */
const asSchema = (schema: TSchema): Schema => schema as unknown as Schema;

/** The schema ids a schema names in its `$ref`s (`Ticket#`, `Ticket#/properties/x` → `Ticket`). */
function refsOf(schema: unknown): Set<string> {
  const ids = new Set<string>();
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const item of node) visit(item);
    } else if (node && typeof node === 'object') {
      for (const [key, value] of Object.entries(node)) {
        if (key === '$ref' && typeof value === 'string') {
          const id = value.split('#')[0];
          if (id) ids.add(id);
        } else {
          visit(value);
        }
      }
    }
  };
  visit(schema);
  return ids;
}
