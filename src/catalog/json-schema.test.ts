import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { manifestJsonSchema, manifestJsonSchemaText } from './json-schema.js';

describe('published JSON Schema', () => {
  it('docs/schemas/app-manifest.schema.json is the generated one (npx tsx scripts/gen-manifest-schema.ts)', () => {
    const committed = readFileSync(new URL('../../docs/schemas/app-manifest.schema.json', import.meta.url), 'utf8');
    assert.equal(committed, manifestJsonSchemaText());
  });
  it('is draft 2020-12, closed, and requires what a provider must write', () => {
    const schema = manifestJsonSchema() as { $schema: string; additionalProperties: boolean; required: string[]; properties: Record<string, unknown> };
    assert.equal(schema.$schema, 'https://json-schema.org/draft/2020-12/schema');
    assert.equal(schema.additionalProperties, false);
    assert.deepEqual([...schema.required].sort(), ['category', 'licence', 'name', 'summary', 'title', 'version']);
    assert.ok('app' in schema.properties && 'dataset' in schema.properties);
  });
});
