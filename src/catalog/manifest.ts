import { z } from 'zod';
import { ACCELERATOR_FAMILIES, acceleratorByKey, allAccelerators, type AcceleratorFamily } from '../core/accelerators.js';
import { RESOURCE_LIMITS } from '../core/resources.js';
import { checkValue, closest, compilePattern, describeSpec, ParametersSchema } from './parameters.js';
import { isRunnableCategory, PRICE_KINDS, PRODUCT_CATEGORIES, RUNNABLE_CATEGORIES, VISIBILITIES, type PriceTerms } from './product.js';
import { scanTemplate } from './template.js';

/**
 * The manifest a provider publishes for one product version (`suanwang publish manifest.yaml`):
 * the product's store entry and, for runnable categories, the app: parameters, a command per
 * accelerator family, environment, files, resources and the adaptation matrix.
 *
 * Objects are strict (an unknown or misspelt field is an error, not silently ignored). The schema
 * checks each field; `checkManifest` (run by the schema as a refinement, once every field is well
 * formed) checks the rules that tie fields together. The published JSON Schema is generated from
 * this file (see json-schema.ts).
 */

/** Total size of `app.files`, in UTF-8 bytes: enough for a script or two, not for data (use datasets). */
export const MAX_FILES_BYTES = 256 * 1024;
export const MAX_FILES = 64;

const SLUG = /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/;
// semver.org's recommended regular expression.
const SEMVER =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;
// ASCII lowercase, digits and CJK ideographs; spelled without \p{…} so that every JSON Schema
// tool's regex engine (not only ECMAScript's) accepts the published pattern.
const TAG = /^[a-z0-9\u3400-\u9fff][a-z0-9\u3400-\u9fff+.-]*$/;
/** The same rule as `NewDataset.name` in the API. */
const DATASET_NAME = /^[a-z0-9][a-z0-9._-]{0,127}$/;
const ACCELERATOR_KEY = /^[a-z0-9][a-z0-9-]{0,63}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Relative, `/`-separated, no `.` or `..` segment, no leading dot-dot tricks. */
const FILE_PATH = /^(?!\.\.?(?:\/|$))[A-Za-z0-9_.-]+(?:\/(?!\.\.?(?:\/|$))[A-Za-z0-9_.-]+)*$/;
const noNul = (s: string) => !s.includes('\0');
// C0 and C1 control characters (ESC among them): a title shown in a terminal must not drive it.
const noControl = (s: string) => !/[\u0000-\u001f\u007f-\u009f]/.test(s);
const NO_CONTROL = 'must not contain control characters (C0, C1, ESC)';

export const ADAPTATION_LEVELS = ['verified', 'community', 'untested'] as const;
export type AdaptationLevel = (typeof ADAPTATION_LEVELS)[number];
export const SPEED_METRICS = ['fp16', 'fp32'] as const;

const Fen = z.int().min(1).max(1_000_000_000);
export const PriceSchema = z
  .discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('free') }),
    z.strictObject({ kind: z.literal('per-run'), fen: Fen.describe('fee per run, in fen (0.01 CNY)') }),
    z.strictObject({ kind: z.literal('per-hour'), fenPerHour: Fen.describe('surcharge per hour of run time, in fen (0.01 CNY)') }),
  ])
  .describe(`the provider's terms on top of the compute: ${PRICE_KINDS.join(', ')}`);

const Argv = z
  .array(z.string().min(0).max(4096).refine(noNul, 'must not contain NUL characters'))
  .min(1, 'give the program and its arguments, e.g. ["python3", "run.py", "--steps", "{{steps}}"]')
  .max(256)
  .refine((argv) => (argv[0] ?? '').trim() !== '', 'the program (first element) must not be empty')
  .describe('argv: one string per argument, no shell; {{param}} placeholders are replaced inside an element and never split it');

const CommandTemplates = z
  .strictObject(Object.fromEntries(ACCELERATOR_FAMILIES.map((f) => [f, Argv.optional()])) as Record<AcceleratorFamily, z.ZodOptional<typeof Argv>>)
  .describe('a command per accelerator family; the one for the family of the chip the scheduler picks is run (`cpu` for a job without accelerators)');

const ResourceFields = {
  nodes: z.int().min(1).max(RESOURCE_LIMITS.nodes),
  acceleratorsPerNode: z.int().min(0).max(RESOURCE_LIMITS.accelerators),
  coresPerNode: z.int().min(1).max(RESOURCE_LIMITS.cores),
  memoryMiBPerNode: z.int().min(1).max(RESOURCE_LIMITS.memoryMiB),
  walltimeSeconds: z.int().min(1).max(RESOURCE_LIMITS.walltimeSeconds),
};
/** Resource defaults when a launch names none: the same as a raw job submission's. */
export const RESOURCE_DEFAULTS = { nodes: 1, acceleratorsPerNode: 0, coresPerNode: 1, memoryMiBPerNode: 1024, walltimeSeconds: 3600 } as const;
export const RESOURCE_FIELDS = Object.keys(ResourceFields) as (keyof typeof ResourceFields)[];

const Resources = z.strictObject({
  defaults: z
    .strictObject({
      nodes: ResourceFields.nodes.default(RESOURCE_DEFAULTS.nodes),
      acceleratorsPerNode: ResourceFields.acceleratorsPerNode.default(RESOURCE_DEFAULTS.acceleratorsPerNode),
      coresPerNode: ResourceFields.coresPerNode.default(RESOURCE_DEFAULTS.coresPerNode),
      memoryMiBPerNode: ResourceFields.memoryMiBPerNode.default(RESOURCE_DEFAULTS.memoryMiBPerNode),
      walltimeSeconds: ResourceFields.walltimeSeconds.default(RESOURCE_DEFAULTS.walltimeSeconds),
    })
    .prefault({})
    .describe('what a launch asks for unless the user says otherwise'),
  limits: z
    .strictObject({
      nodes: ResourceFields.nodes.optional(),
      acceleratorsPerNode: ResourceFields.acceleratorsPerNode.optional(),
      coresPerNode: ResourceFields.coresPerNode.optional(),
      memoryMiBPerNode: ResourceFields.memoryMiBPerNode.optional(),
      walltimeSeconds: ResourceFields.walltimeSeconds.optional(),
    })
    .default({})
    .describe('the most a launch may ask for (unset: the platform limits)'),
});

const Adaptation = z.strictObject({
  efficiency: z
    .number()
    .gt(0, 'must be above 0 (leave the accelerator out to mark it unsupported)')
    .max(100)
    .describe('throughput relative to the reference accelerator at equal chip speed (1 = as well tuned as there)'),
  level: z.enum(ADAPTATION_LEVELS).describe('verified: tested by the provider; community: reported by users; untested: expected to work'),
  note: z.string().max(500).optional().describe('e.g. the runtime and version it was measured with'),
});

const DatasetName = z.string().regex(DATASET_NAME, 'a dataset name is lowercase letters, digits and ._- (at most 128)');

const App = z.strictObject({
  parameters: ParametersSchema.prefault({}),
  command: CommandTemplates,
  env: z
    .record(
      z.string().regex(ENV_NAME, 'environment names are letters, digits and _').refine((k) => !k.startsWith('SUANWANG_'), 'SUANWANG_* names are set by the platform'),
      z.string().max(4096).refine(noNul, 'must not contain NUL characters'),
    )
    .refine((e) => Object.keys(e).length <= 128, 'at most 128 environment variables')
    .default({})
    .describe('environment of the job; values may hold {{param}} placeholders'),
  files: z
    .record(
      z.string().max(255).regex(FILE_PATH, 'a relative path of letters, digits and ._- segments separated by /, without . or .. segments'),
      z.string().refine(noNul, 'must be text without NUL characters'),
    )
    .default({})
    .describe(`text files written into the job's working folder before it starts (path → content; at most ${MAX_FILES} files, ${MAX_FILES_BYTES / 1024} KiB in all)`),
  resources: Resources.prefault({}),
  inputs: z.array(DatasetName).max(64).default([]).describe('datasets staged into the job before it starts'),
  outputs: z.array(DatasetName).max(64).default([]).describe('datasets the job produces'),
  adaptation: z
    .record(z.string().regex(ACCELERATOR_KEY, 'an accelerator key such as nvidia-a100 or ascend-910b'), Adaptation)
    .default({})
    .describe('accelerator key → efficiency and level; the scheduler places the app only on listed accelerators'),
  referenceAccelerator: z.string().regex(ACCELERATOR_KEY).optional().describe('the chip runtimeSeconds and efficiencies are relative to (default nvidia-a100)'),
  speedMetric: z.enum(SPEED_METRICS).optional().describe('the chip figure run times scale by (default fp16)'),
  runtimeSeconds: z.int().min(1).max(RESOURCE_LIMITS.walltimeSeconds).optional().describe('expected run time with default parameters on the reference accelerator (or on CPU cores for a CPU run)'),
});

const DatasetColumn = z.strictObject({
  name: z.string().min(1).max(128),
  type: z.string().min(1).max(64).describe('e.g. date, string, integer, number'),
  unit: z.string().max(32).optional(),
  description: z.string().max(500).optional(),
});
const DatasetSection = z
  .strictObject({
    name: DatasetName.describe('the platform dataset holding the files'),
    format: z.string().min(1).max(32).describe('e.g. csv, parquet, jsonl'),
    bytes: z.int().min(0).max(2 ** 53 - 1).optional(),
    records: z.int().min(0).max(2 ** 53 - 1).optional(),
    columns: z.array(DatasetColumn).max(1000).optional(),
  })
  .describe('for a dataset product: what the data is');

export const ManifestSchema = z
  .strictObject({
    name: z.string().min(2).max(64).regex(SLUG, 'a lowercase slug: letters and digits in words joined by single hyphens, e.g. md-lj').describe("the product's name, unique within the provider"),
    title: z.string().min(1).max(128).refine(noControl, NO_CONTROL),
    summary: z.string().min(1).max(280).refine(noControl, NO_CONTROL).describe('one or two sentences for search results'),
    description: z.string().max(65_536).default('').describe('Markdown'),
    category: z.enum(PRODUCT_CATEGORIES),
    tags: z.array(z.string().min(1).max(32).regex(TAG, 'a tag is lowercase letters, digits or Chinese characters, joined by - + or .')).max(20).default([]),
    licence: z.string().min(1).max(128).describe('an SPDX identifier (Apache-2.0, CC-BY-4.0 …) or free text'),
    homepage: z.url({ protocol: /^https?$/ }).max(2048).optional(),
    visibility: z.enum(VISIBILITIES).default('public'),
    price: PriceSchema.default({ kind: 'free' }),
    version: z.string().max(64).regex(SEMVER, 'a semantic version such as 1.0.0 or 2.1.0-rc.1'),
    app: App.optional().describe(`the launch template, for the runnable categories (${RUNNABLE_CATEGORIES.join(', ')})`),
    dataset: DatasetSection.optional(),
  })
  .superRefine((m, ctx) => {
    for (const issue of checkManifest(m)) ctx.addIssue({ code: 'custom', message: issue.message, path: [...issue.path], params: issue.hint ? { hint: issue.hint } : {} });
  })
  .meta({ title: 'Suanwang app manifest', description: 'One product version in the Suanwang store (应用商城): its store entry and, for runnable products, the app.' });

export type AppManifest = z.output<typeof ManifestSchema>;
export type AppManifestInput = z.input<typeof ManifestSchema>;
export type AppSection = NonNullable<AppManifest['app']>;
export type AdaptationRow = AppSection['adaptation'][string];
export type CommandTemplateSet = AppSection['command'];
export type ResourceDefaults = AppSection['resources']['defaults'];
export type ResourceLimits = AppSection['resources']['limits'];
export type DatasetDescription = NonNullable<AppManifest['dataset']>;
/** A manifest whose app section is present. */
export type RunnableManifest = AppManifest & { readonly app: AppSection };

// The price schema must produce exactly product.ts's PriceTerms.
const _priceMatches: PriceTerms = {} as z.output<typeof PriceSchema>;
void _priceMatches;

export interface ManifestIssue {
  readonly path: readonly (string | number)[];
  readonly message: string;
  readonly hint?: string;
}

/**
 * The rules that tie fields together, on a manifest whose fields are each well formed:
 * sections fit the category; every adapted accelerator is in the table and its family has a
 * command; every command family has an adapted accelerator (or is `cpu`); a CPU default needs a
 * `cpu` command and an accelerator default needs an adapted chip; defaults within limits;
 * parameter keywords consistent and defaults valid; placeholders name parameters that always have
 * a value; files within size.
 */
export function checkManifest(m: AppManifest): ManifestIssue[] {
  const issues: ManifestIssue[] = [];
  const add = (path: readonly (string | number)[], message: string, hint?: string) => issues.push({ path, message, ...(hint ? { hint } : {}) });

  const seen = new Set<string>();
  m.tags.forEach((t, i) => {
    if (seen.has(t)) add(['tags', i], `tag ${t} is listed twice`, 'remove the duplicate');
    seen.add(t);
  });

  if (m.app !== undefined && !isRunnableCategory(m.category)) {
    add(['app'], `a ${m.category} product cannot have an app section`, `only ${RUNNABLE_CATEGORIES.join(', ')} products are launched; remove app or change category`);
  }
  if (m.dataset !== undefined && m.category !== 'dataset') {
    add(['dataset'], `a ${m.category} product cannot have a dataset section`, 'remove dataset or set category: dataset');
  }
  if (m.app !== undefined) checkApp(m.app, add);
  return issues;
}

type Add = (path: readonly (string | number)[], message: string, hint?: string) => void;

function checkApp(app: AppSection, add: Add): void {
  const families = ACCELERATOR_FAMILIES.filter((f) => app.command[f] !== undefined);
  if (families.length === 0) {
    add(['app', 'command'], 'no command: give at least one family', `e.g. cpu: ["python3", "run.py"]; families: ${ACCELERATOR_FAMILIES.join(', ')}`);
  }

  // Adaptation rows: known chips, each with a command for its family.
  const adaptedFamilies = new Set<AcceleratorFamily>();
  for (const key of Object.keys(app.adaptation)) {
    const spec = acceleratorByKey(key);
    if (spec === undefined) {
      const near = closest(key, allAccelerators().map((a) => a.key));
      add(['app', 'adaptation', key], `unknown accelerator ${key}`, near ? `did you mean ${near}?` : `keys of the accelerator table: ${allAccelerators().map((a) => a.key).join(', ')}`);
      continue;
    }
    adaptedFamilies.add(spec.family);
    if (app.command[spec.family] === undefined) {
      add(['app', 'adaptation', key], `${key} is a ${spec.family} accelerator, but app.command has no ${spec.family} command`, `add app.command.${spec.family}, or remove ${key} from app.adaptation`);
    }
  }
  for (const family of families) {
    if (family === 'cpu' || adaptedFamilies.has(family)) continue;
    const examples = allAccelerators().filter((a) => a.family === family).map((a) => a.key).slice(0, 3);
    add(['app', 'command', family], `the ${family} command is never used: no ${family} accelerator is in app.adaptation`, `add a row such as ${examples[0] ?? family}: { efficiency: 1, level: untested } (${family}: ${examples.join(', ')}), or remove the command`);
  }
  if (app.referenceAccelerator !== undefined && acceleratorByKey(app.referenceAccelerator) === undefined) {
    const near = closest(app.referenceAccelerator, allAccelerators().map((a) => a.key));
    add(['app', 'referenceAccelerator'], `unknown accelerator ${app.referenceAccelerator}`, near ? `did you mean ${near}?` : 'use a key of the accelerator table, e.g. nvidia-a100');
  }

  // Resources: defaults within limits, and a default that some pool can actually run.
  const { defaults, limits } = app.resources;
  for (const field of Object.keys(limits) as (keyof ResourceLimits)[]) {
    const limit = limits[field];
    if (limit !== undefined && defaults[field] > limit) {
      add(['app', 'resources', 'defaults', field], `${field}: the default ${defaults[field]} is above the limit ${limit}`, `lower the default or raise app.resources.limits.${field}`);
    }
  }
  if (defaults.acceleratorsPerNode === 0 && families.length > 0 && app.command.cpu === undefined) {
    add(['app', 'command'], 'no cpu command, but app.resources.defaults.acceleratorsPerNode is 0 (a CPU job)', 'add app.command.cpu, or ask for accelerators by default (acceleratorsPerNode: 1)');
  }
  if (defaults.acceleratorsPerNode > 0 && Object.keys(app.adaptation).length === 0) {
    add(['app', 'resources', 'defaults', 'acceleratorsPerNode'], `the app asks for ${defaults.acceleratorsPerNode} accelerator(s) per node but app.adaptation lists none, so no pool could run it`, 'add adaptation rows, or set acceleratorsPerNode: 0 for a CPU app');
  }

  // Parameters: keywords that agree with each other, defaults that pass them.
  const { properties, required } = app.parameters;
  required.forEach((name, i) => {
    if (!Object.hasOwn(properties, name)) add(['app', 'parameters', 'required', i], `required parameter ${name} is not declared in app.parameters.properties`, 'declare it, or remove it from required');
    else if (required.indexOf(name) !== i) add(['app', 'parameters', 'required', i], `${name} is listed twice in required`);
  });
  for (const [name, spec] of Object.entries(properties)) {
    const at = ['app', 'parameters', 'properties', name];
    if (spec.type === 'integer' || spec.type === 'number') {
      if (spec.minimum !== undefined && spec.maximum !== undefined && spec.minimum > spec.maximum) add([...at, 'minimum'], `${name}: minimum ${spec.minimum} is above maximum ${spec.maximum}`);
    }
    if (spec.type === 'string') {
      if (spec.minLength !== undefined && spec.maxLength !== undefined && spec.minLength > spec.maxLength) add([...at, 'minLength'], `${name}: minLength ${spec.minLength} is above maxLength ${spec.maxLength}`);
      const compiled = spec.pattern === undefined ? undefined : compilePattern(spec.pattern);
      if (compiled !== undefined && !compiled.ok) {
        add(
          [...at, 'pattern'],
          `${name}: pattern ${spec.pattern} is not a valid regular expression of the supported syntax: ${compiled.error.message} (at character ${compiled.error.index + 1} of the pattern)`,
          'literals, ., classes, \\d \\w \\s, ^ $, groups, |, * + ? {n,m}; no backreferences, lookaround or \\b (patterns run in linear time), e.g. ^[a-z]+$',
        );
      }
    }
    if (spec.type !== 'boolean' && spec.enum !== undefined) {
      const values: readonly (string | number)[] = spec.enum;
      values.forEach((v, i) => {
        if (values.indexOf(v) !== i) add([...at, 'enum', i], `${name}: ${JSON.stringify(v)} is listed twice in enum`);
        const { enum: _e, default: _d, ...rest } = spec;
        const checked = checkValue(name, rest as typeof spec, v);
        if (!checked.ok) add([...at, 'enum', i], `${checked.error.message} (enum entries must pass the parameter's other rules)`);
      });
    }
    if (spec.default !== undefined) {
      const checked = checkValue(name, spec, spec.default);
      if (!checked.ok) add([...at, 'default'], `default ${checked.error.message}`, `the default must be ${describeSpec(spec)}`);
    }
  }

  // Placeholders: well formed, naming parameters that always have a value.
  const used = new Set<string>();
  const checkTemplate = (path: readonly (string | number)[], template: string) => {
    const scan = scanTemplate(template);
    if (scan.malformed !== null) add(path, `malformed placeholder near ${JSON.stringify(scan.malformed)}`, 'write {{name}} with a declared parameter name; literal {{ or }} is not allowed');
    for (const name of scan.names) {
      used.add(name);
      const spec = properties[name];
      if (spec === undefined) {
        const near = closest(name, Object.keys(properties));
        const declared = Object.keys(properties);
        add(path, `placeholder {{${name}}} names no parameter`, `${near ? `did you mean {{${near}}}? ` : ''}${declared.length > 0 ? `declared: ${declared.join(', ')}` : 'declare it under app.parameters.properties'}`);
      } else if (spec.default === undefined && !required.includes(name)) {
        add(path, `placeholder {{${name}}} names an optional parameter without a default, so a launch without it would leave the argument empty`, `give ${name} a default, or list it in app.parameters.required`);
      }
    }
  };
  for (const family of families) app.command[family]!.forEach((arg, i) => checkTemplate(['app', 'command', family, i], arg));
  for (const [name, value] of Object.entries(app.env)) checkTemplate(['app', 'env', name], value);
  for (const name of Object.keys(properties)) {
    if (!used.has(name)) add(['app', 'parameters', 'properties', name], `parameter ${name} is used by no command or environment value`, `use it as {{${name}}}, or remove it`);
  }

  // Files: a bounded bundle, no path both a file and a folder.
  const paths = Object.keys(app.files);
  if (paths.length > MAX_FILES) add(['app', 'files'], `${paths.length} files; at most ${MAX_FILES}`, 'ship larger bundles as a dataset in app.inputs');
  const encoder = new TextEncoder();
  const bytes = paths.reduce((sum, p) => sum + encoder.encode(app.files[p]!).length, 0);
  if (bytes > MAX_FILES_BYTES) add(['app', 'files'], `the files hold ${bytes} bytes; at most ${MAX_FILES_BYTES} (${MAX_FILES_BYTES / 1024} KiB)`, 'ship data as a dataset in app.inputs and keep only scripts here');
  for (const p of paths) {
    const parent = paths.find((q) => p.startsWith(`${q}/`));
    if (parent !== undefined) add(['app', 'files', p], `${p} would be inside ${parent}, which is a file`, 'rename one of them');
  }

  for (const list of ['inputs', 'outputs'] as const) {
    app[list].forEach((name, i) => {
      if (app[list].indexOf(name) !== i) add(['app', list, i], `dataset ${name} is listed twice`, 'remove the duplicate');
    });
  }
}
