import { isCollection, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, visit, type Document, type Node as YamlNode } from 'yaml';
import type { z } from 'zod';
import { ManifestSchema, type AppManifest } from './manifest.js';
import { closest } from './parameters.js';
import { manifestJsonSchema } from './json-schema.js';

/** The largest manifest accepted (the files it carries are capped at 256 KiB; the rest is text). */
export const MAX_MANIFEST_BYTES = 1024 * 1024;

export interface ManifestError {
  /** 1-based line and column of the offending node (or of its parent when the field is missing). */
  readonly line: number;
  readonly column: number;
  /** The field, e.g. `app.adaptation.ascend-910b.efficiency`, `app.command.cpu[2]`, `app.files["run.py"]`; empty for the whole document. */
  readonly path: string;
  readonly message: string;
  readonly hint?: string;
}

export type ManifestResult =
  | { readonly ok: true; readonly manifest: AppManifest }
  | { readonly ok: false; readonly errors: readonly ManifestError[] };

/**
 * Parses and validates a manifest in YAML: syntax, every field, then the cross-field rules (those
 * run once every field is well formed, so a manifest with a broken field reports that first).
 * Every error carries the line and column of its node. Never throws.
 */
export function parseManifest(yamlText: string): ManifestResult {
  if (yamlText.length > MAX_MANIFEST_BYTES) {
    return fail([{ line: 1, column: 1, path: '', message: `the manifest is ${yamlText.length} characters; at most ${MAX_MANIFEST_BYTES}`, hint: 'ship data as a dataset, not inside app.files' }]);
  }
  const lines = new LineCounter();
  const doc = parseDocument(yamlText, { lineCounter: lines, prettyErrors: false, uniqueKeys: true, logLevel: 'error' });
  const at = (offset: number) => {
    const p = lines.linePos(offset);
    return { line: p.line, column: p.col };
  };
  if (doc.errors.length > 0) {
    return fail(doc.errors.map((e) => ({ ...at(e.pos[0]), path: '', message: `YAML: ${e.message}`, ...(yamlHint(e.code) ? { hint: yamlHint(e.code)! } : {}) })));
  }

  // An unquoted {{param}} is YAML flow-mapping syntax: catch it before it turns into an object.
  const braces: ManifestError[] = [];
  visit(doc, {
    Pair(_, pair, ancestors) {
      if (!isCollection(pair.key)) return;
      const map = ancestors[ancestors.length - 1] as YamlNode | undefined;
      const offset = map?.range?.[0] ?? pair.key.range?.[0] ?? 0;
      braces.push({ ...at(offset), path: '', message: 'a mapping used as a key, probably an unquoted {{placeholder}}', hint: 'quote template strings: "{{steps}}"' });
    },
  });
  if (braces.length > 0) return fail(braces);

  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    return fail([{ line: 1, column: 1, path: '', message: `YAML: ${(e as Error).message}`, hint: 'avoid aliases (*name) that expand to large documents' }]);
  }
  if (value === null || value === undefined) {
    return fail([{ line: 1, column: 1, path: '', message: 'the manifest is empty', hint: 'start with name, title, summary, category, licence and version' }]);
  }

  const result = ManifestSchema.safeParse(value);
  if (result.success) return { ok: true, manifest: result.data };
  const sourceAt = (path: readonly Segment[]) => {
    const node = doc.getIn(path, true);
    return isScalar(node) && typeof node.source === 'string' ? node.source : undefined;
  };
  const errors = result.error.issues.flatMap((issue) => describeIssue(issue, value, sourceAt)).map((e) => {
    const where = locate(doc, e.path, e.atKey === true);
    return { ...at(where), path: formatPath(e.path), message: e.message, ...(e.hint ? { hint: e.hint } : {}) };
  });
  return fail(errors);
}

function fail(errors: ManifestError[]): ManifestResult {
  const sorted = [...errors].sort((a, b) => a.line - b.line || a.column - b.column || a.path.localeCompare(b.path));
  return { ok: false, errors: sorted };
}

function yamlHint(code: string): string | undefined {
  switch (code) {
    case 'DUPLICATE_KEY':
      return 'each field may appear once; remove or merge the repeated key';
    case 'MULTIPLE_DOCS':
      return 'one manifest per file: remove the --- separator';
    case 'TAB_AS_INDENT':
      return 'indent with spaces, not tabs';
    case 'BAD_INDENT':
    case 'MISSING_CHAR':
      return 'check the indentation and the closing ] or } above this point';
    default:
      return undefined;
  }
}

type Segment = string | number;
interface PathedIssue {
  readonly path: readonly Segment[];
  readonly message: string;
  readonly hint?: string;
  /** Point at the key rather than its value (an unknown field). */
  readonly atKey?: boolean;
}

/** A zod issue in the manifest's words: one entry per offending key, with a hint where one helps. */
function describeIssue(issue: z.core.$ZodIssue, root: unknown, sourceAt: (path: readonly Segment[]) => string | undefined): PathedIssue[] {
  const path = issue.path.filter((s): s is Segment => typeof s !== 'symbol');
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((key) => {
        const known = knownKeys(path, root);
        const near = closest(key, known);
        return {
          path: [...path, key],
          atKey: true,
          message: `unknown field ${key}`,
          hint: `${near ? `did you mean ${near}? ` : ''}${known.length > 0 ? `fields here: ${known.join(', ')}` : ''}`.trim(),
        };
      });
    case 'invalid_type': {
      const given = valueAt(root, path);
      if (given === undefined) return [{ path, message: `${path.length > 0 ? String(path[path.length - 1]) : 'field'} is required (${issue.expected})` }];
      const source = sourceAt(path) ?? String(given);
      const hint =
        issue.expected === 'string' && (typeof given === 'number' || typeof given === 'boolean')
          ? `YAML reads ${source} as a ${typeof given}; quote it: "${source}"`
          : issue.expected === 'string' && typeof given === 'object' && given !== null
            ? 'quote template strings: "{{steps}}"'
            : undefined;
      return [{ path, message: `expected ${issue.expected}, got ${describe(given, source)}`, ...(hint ? { hint } : {}) }];
    }
    case 'invalid_union':
      if ('discriminator' in issue && issue.discriminator !== undefined) {
        const options = (issue as { options?: unknown[] }).options ?? [];
        const given = valueAt(root, path);
        return [{ path, message: given === undefined ? `${String(issue.discriminator)} is required` : `${JSON.stringify(given)} is not a valid ${String(issue.discriminator)}`, hint: `one of ${options.map((o) => JSON.stringify(o)).join(', ')}` }];
      }
      return [{ path, message: issue.message }];
    case 'invalid_key': {
      // A bad record key (file path, environment name, accelerator key): the reason is nested.
      const key = path[path.length - 1];
      const reasons = issue.issues.map((i) => i.message).join('; ');
      return [{ path, atKey: true, message: `${JSON.stringify(key)} is not a valid name here: ${reasons}` }];
    }
    case 'custom': {
      const hint = (issue.params as { hint?: string } | undefined)?.hint;
      return [{ path, message: issue.message, ...(hint ? { hint } : {}) }];
    }
    default: {
      const given = valueAt(root, path);
      const got = given !== null && typeof given !== 'object' && given !== undefined ? ` (got ${describe(given, sourceAt(path) ?? String(given))})` : '';
      return [{ path, message: `${issue.message}${got}` }];
    }
  }
}

function describe(v: unknown, source: string): string {
  if (v === null) return 'nothing (null)';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return `${typeof v} ${typeof v === 'string' ? JSON.stringify(v) : source}`;
}

function valueAt(root: unknown, path: readonly Segment[]): unknown {
  let v = root;
  for (const s of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string | number, unknown>)[s];
  }
  return v;
}

/** The field names the published schema allows at `path` (a union's branches pooled; for parameters, the branch of the given `type`). */
function knownKeys(path: readonly Segment[], root: unknown): string[] {
  let nodes: JsonSchemaNode[] = [manifestJsonSchema() as JsonSchemaNode];
  for (const s of path) {
    nodes = nodes.flatMap(branches).flatMap((n) => {
      if (typeof s === 'number') return n.items ? [n.items] : [];
      const p = n.properties?.[s];
      if (p) return [p];
      return n.additionalProperties && typeof n.additionalProperties === 'object' ? [n.additionalProperties] : [];
    });
  }
  const given = valueAt(root, path) as Record<string, unknown> | undefined;
  const leaves = nodes.flatMap(branches).filter((n) => {
    const discriminator = n.properties?.['type']?.const ?? n.properties?.['kind']?.const;
    if (discriminator === undefined || given === undefined) return true;
    return given['type'] === discriminator || given['kind'] === discriminator;
  });
  return [...new Set(leaves.flatMap((n) => Object.keys(n.properties ?? {})))];
}

interface JsonSchemaNode {
  readonly properties?: Record<string, JsonSchemaNode & { const?: unknown }>;
  readonly additionalProperties?: JsonSchemaNode | boolean;
  readonly items?: JsonSchemaNode;
  readonly anyOf?: JsonSchemaNode[];
  readonly oneOf?: JsonSchemaNode[];
  readonly allOf?: JsonSchemaNode[];
}
function branches(n: JsonSchemaNode): JsonSchemaNode[] {
  const alts = [...(n.anyOf ?? []), ...(n.oneOf ?? []), ...(n.allOf ?? [])];
  return alts.length > 0 ? alts.flatMap(branches) : [n];
}

/**
 * The offset to report for `path`: a scalar's own position; for a mapping or list, its key (the
 * line that names the field); for a missing field, the key of the nearest parent that exists.
 */
function locate(doc: Document, path: readonly Segment[], atKey: boolean): number {
  let node: unknown = doc.contents;
  let keyOffset: number | undefined;
  let fallback = (doc.contents as YamlNode | null)?.range?.[0] ?? 0;
  for (const s of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(s));
      if (!pair) return keyOffset ?? fallback;
      keyOffset = (pair.key as YamlNode).range?.[0];
      fallback = keyOffset ?? fallback;
      node = pair.value;
    } else if (isSeq(node) && typeof s === 'number') {
      const item = node.items[s] as YamlNode | undefined;
      if (!item) return keyOffset ?? fallback;
      keyOffset = item.range?.[0];
      fallback = keyOffset ?? fallback;
      node = item;
    } else {
      return keyOffset ?? fallback;
    }
  }
  if (!atKey && isScalar(node) && node.range && node.source !== '') return node.range[0];
  return keyOffset ?? (node as YamlNode | null)?.range?.[0] ?? fallback;
}

const PLAIN_SEGMENT = /^[A-Za-z0-9_-]+$/;

/** `app.adaptation.ascend-910b.efficiency`, `app.command.cpu[2]`, `app.files["md_lj.py"]`. */
export function formatPath(path: readonly Segment[]): string {
  let out = '';
  for (const s of path) {
    if (typeof s === 'number') out += `[${s}]`;
    else if (PLAIN_SEGMENT.test(s)) out += out === '' ? s : `.${s}`;
    else out += `[${JSON.stringify(s)}]`;
  }
  return out;
}
