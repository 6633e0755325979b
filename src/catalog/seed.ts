import type { AppManifest } from './manifest.js';
import { parseManifest } from './validate-manifest.js';

/**
 * The seed catalog of the embedded network: YAML manifests in src/catalog/seed/, one product
 * each, in the order a fresh store lists them. This module cannot read files (src/catalog is
 * pure); the caller reads `seed/<file>` next to this module and passes the texts in.
 */
export const SEED_FILES = ['md-lj.yaml', 'poisson2d.yaml', 'textgen-mini.yaml', 'cn-weather-sample.yaml', 'notebook-hub.yaml'] as const;

/** The provider org the seed products are published under. */
export const SEED_PROVIDER = 'suanwang-demo';

/**
 * Parses the seed manifests (file name → YAML text), in SEED_FILES order. Throws an Error listing
 * every problem as `file:line:column path: message` — the seed is part of the build, so a broken
 * one is a bug, not user input.
 */
export function parseSeedCatalog(texts: Readonly<Record<string, string>>): AppManifest[] {
  const problems: string[] = [];
  const out: AppManifest[] = [];
  for (const file of SEED_FILES) {
    const text = texts[file];
    if (text === undefined) {
      problems.push(`${file}: missing`);
      continue;
    }
    const r = parseManifest(text);
    if (r.ok) out.push(r.manifest);
    else for (const e of r.errors) problems.push(`${file}:${e.line}:${e.column} ${e.path}: ${e.message}`);
  }
  if (problems.length > 0) throw new Error(`seed catalog is invalid:\n${problems.join('\n')}`);
  return out;
}
