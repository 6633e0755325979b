import { z } from 'zod';
import { ManifestSchema } from './manifest.js';

let cached: Record<string, unknown> | undefined;

/**
 * The published JSON Schema (draft 2020-12) of the manifest, as a provider writes it (defaults make
 * fields optional). The cross-field rules cannot be expressed in it; `parseManifest` checks those.
 * docs/schemas/app-manifest.schema.json is this, written by scripts/gen-manifest-schema.ts.
 */
export function manifestJsonSchema(): Record<string, unknown> {
  cached ??= z.toJSONSchema(ManifestSchema, { target: 'draft-2020-12', io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return cached;
}

/** The schema file's exact text (two-space JSON and a final newline). */
export function manifestJsonSchemaText(): string {
  return `${JSON.stringify(manifestJsonSchema(), null, 2)}\n`;
}
