import { z } from 'zod';
import { ErrorBody } from './client/schemas.js';
import type { Route } from './route.js';

/**
 * The OpenAPI 3.1 document, generated from the route declarations: the schemas shown are the ones
 * that validate requests (OpenAPI 3.1 uses JSON Schema 2020-12, which zod emits directly).
 */
export function openApiDocument(routes: readonly Route[], version: string): object {
  const paths: Record<string, Record<string, unknown>> = {};
  // Inlined everywhere (an empty metadata registry drops the schemas' ids, which would otherwise
  // become $defs local to each schema); requests show the input side (defaults optional).
  const noIds = z.registry<Record<string, unknown>>();
  const schema = (s: z.ZodType, io: 'input' | 'output') => {
    const { $schema: _, ...json } = z.toJSONSchema(s, { target: 'draft-2020-12', io, unrepresentable: 'any', reused: 'inline', metadata: noIds });
    return json;
  };
  const errorResponse = { description: 'error', content: { 'application/json': { schema: schema(ErrorBody, 'output') } } };
  for (const r of routes) {
    const path = r.path.replace(/:(\w+)/g, '{$1}');
    const parameters: unknown[] = [...r.path.matchAll(/:(\w+)/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
    if (r.query instanceof z.ZodObject) {
      for (const [name, field] of Object.entries(r.query.shape as Record<string, z.ZodType>)) {
        parameters.push({ name, in: 'query', required: false, schema: schema(field, 'input') });
      }
    }
    for (const [name, description] of Object.entries(r.headers ?? {})) {
      parameters.push({ name, in: 'header', required: description.startsWith('required'), description, schema: { type: 'string' } });
    }
    (paths[path] ??= {})[r.method] = {
      summary: r.summary,
      tags: [r.tag],
      ...(r.access === 'public' ? { security: [] } : {}),
      ...(parameters.length > 0 ? { parameters } : {}),
      ...(r.body ? { requestBody: { required: true, content: { 'application/json': { schema: schema(r.body, 'input') } } } } : {}),
      responses: {
        [r.response.status]: {
          description: r.response.description ?? 'success',
          ...(r.response.schema ? { content: { 'application/json': { schema: schema(r.response.schema, 'output') } } } : {}),
        },
        '4XX': errorResponse,
        '5XX': errorResponse,
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Suanwang API',
      version,
      description: 'One compute network over many centers. Errors are `{ "error": { "code", "message", "field"?, "hint"? } }` with stable codes.',
    },
    servers: [{ url: '/' }],
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    security: [{ bearer: [] }],
    paths,
  };
}
