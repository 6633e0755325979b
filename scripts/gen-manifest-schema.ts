// Writes docs/schemas/app-manifest.schema.json, the published JSON Schema of the store's app
// manifest, from the zod schema in src/catalog/manifest.ts. `--check` only compares (exit 1 when stale).
// Run: npx tsx scripts/gen-manifest-schema.ts [--check]
import { readFileSync, writeFileSync } from 'node:fs';
import { manifestJsonSchemaText } from '../src/catalog/json-schema.js';

const target = 'docs/schemas/app-manifest.schema.json';
const text = manifestJsonSchemaText();
if (process.argv.includes('--check')) {
  let current = '';
  try {
    current = readFileSync(target, 'utf8');
  } catch {
    // missing counts as stale
  }
  if (current !== text) {
    console.error(`${target} is stale: run npx tsx scripts/gen-manifest-schema.ts`);
    process.exit(1);
  }
  console.log(`${target} is up to date`);
} else {
  writeFileSync(target, text);
  console.log(`wrote ${target} (${text.length} bytes)`);
}
