import { acceleratorByKey, type AcceleratorFamily } from '../core/accelerators.js';
import { RESOURCE_LIMITS } from '../core/resources.js';
import { RESOURCE_FIELDS, type AppManifest, type ResourceDefaults } from './manifest.js';
import { closest, validateParameters, type ParameterValue, type ParameterValues } from './parameters.js';
import { adaptedAccelerators, launchVariants, type LaunchVariant, type LaunchVariants } from './render.js';

/**
 * Everything a launch (`suanwang launch`, `POST /v1/apps/{id}/launch`) needs, checked in one pure
 * step before anything is queued: parameters validated, resources resolved within the app's
 * limits, chips restricted to the adaptation matrix, every family's command rendered.
 */

export type LaunchResources = { readonly [K in keyof ResourceDefaults]: number };

const PLATFORM_LIMITS: LaunchResources = {
  nodes: RESOURCE_LIMITS.nodes,
  acceleratorsPerNode: RESOURCE_LIMITS.accelerators,
  coresPerNode: RESOURCE_LIMITS.cores,
  memoryMiBPerNode: RESOURCE_LIMITS.memoryMiB,
  walltimeSeconds: RESOURCE_LIMITS.walltimeSeconds,
};

export interface LaunchRequest {
  /** `--param k=v` (strings) or the API's JSON scalars. */
  readonly params?: Readonly<Record<string, ParameterValue>>;
  /** Overrides of the app's resource defaults. */
  readonly resources?: Partial<LaunchResources>;
  /** Narrow the chips the job may use (each must be in the adaptation matrix). */
  readonly accelerators?: readonly string[];
}

export interface LaunchPlan {
  readonly app: { readonly name: string; readonly version: string };
  /** Validated, with defaults applied: what the job records. */
  readonly parameters: ParameterValues;
  readonly resources: LaunchResources;
  /** Rendered command and environment per family; the engine picks one at placement (`pickVariant`). */
  readonly variants: LaunchVariants;
  readonly files: Readonly<Record<string, string>>;
  /** For the scheduler: chip → efficiency (empty for a CPU job, where it is ignored). */
  readonly adaptation: Readonly<Record<string, number>>;
  /** The chips the job may use: the adapted ones, or the user's narrower choice (empty for a CPU job). */
  readonly accelerators: readonly string[];
  readonly referenceAccelerator: string | null;
  readonly speedMetric: 'fp16' | 'fp32';
  readonly runtimeSeconds: number | null;
  readonly inputs: readonly string[];
}

export interface LaunchError {
  /** `params.steps`, `resources.acceleratorsPerNode`, `accelerators[1]`. */
  readonly field: string;
  readonly message: string;
  readonly hint?: string;
}

export type LaunchResult = { readonly ok: true; readonly plan: LaunchPlan } | { readonly ok: false; readonly errors: readonly LaunchError[] };

/** Checks a launch request against the app and renders it; returns every error at once. */
export function planLaunch(manifest: AppManifest, request: LaunchRequest = {}): LaunchResult {
  const app = manifest.app;
  if (app === undefined) {
    return { ok: false, errors: [{ field: 'app', message: `${manifest.name} is a ${manifest.category} product, not a runnable app`, hint: 'only products with an app section can be launched' }] };
  }
  const errors: LaunchError[] = [];

  const checked = validateParameters(app.parameters, request.params ?? {});
  if (!checked.ok) {
    for (const e of checked.errors) errors.push({ field: `params.${e.parameter}`, message: e.message, ...(e.hint ? { hint: e.hint } : {}) });
  }

  const resources = { ...app.resources.defaults } as Record<keyof LaunchResources, number>;
  for (const [field, value] of Object.entries(request.resources ?? {}) as [keyof LaunchResources, number | undefined][]) {
    if (value === undefined) continue;
    if (!RESOURCE_FIELDS.includes(field)) {
      errors.push({ field: `resources.${field}`, message: `${field}: no such resource`, hint: `resources: ${RESOURCE_FIELDS.join(', ')}` });
      continue;
    }
    const limit = app.resources.limits[field] ?? PLATFORM_LIMITS[field];
    const min = field === 'acceleratorsPerNode' ? 0 : 1;
    if (!Number.isSafeInteger(value) || value < min) {
      errors.push({ field: `resources.${field}`, message: `${field}: ${value} is not a whole number of at least ${min}` });
    } else if (value > limit) {
      errors.push({ field: `resources.${field}`, message: `${field}: ${value} is above the ${app.resources.limits[field] !== undefined ? "app's" : "platform's"} limit ${limit}` });
    } else {
      resources[field] = value;
    }
  }

  const adaptation = adaptedAccelerators(manifest);
  const adapted = Object.keys(adaptation);
  let accelerators: string[] = [];
  const usesChips = resources.acceleratorsPerNode > 0;
  if (!usesChips && app.command.cpu === undefined) {
    errors.push({
      field: 'resources.acceleratorsPerNode',
      message: `acceleratorsPerNode: 0 asks for a CPU run, but ${manifest.name} has no cpu command`,
      hint: `ask for at least 1 accelerator (adapted: ${adapted.join(', ')})`,
    });
  }
  if (usesChips && adapted.length === 0) {
    errors.push({ field: 'resources.acceleratorsPerNode', message: `acceleratorsPerNode: ${resources.acceleratorsPerNode}, but ${manifest.name} is adapted to no accelerator`, hint: 'launch it with 0 accelerators per node (a CPU run)' });
  }
  if (usesChips) {
    accelerators = adapted;
    if (request.accelerators !== undefined && request.accelerators.length > 0) {
      request.accelerators.forEach((key, i) => {
        if (!adapted.includes(key)) {
          const near = closest(key, adapted);
          errors.push({ field: `accelerators[${i}]`, message: `${key} is not in ${manifest.name}'s adaptation matrix`, hint: `${near ? `did you mean ${near}? ` : ''}adapted: ${adapted.join(', ')}` });
        }
      });
      accelerators = adapted.filter((k) => request.accelerators!.includes(k));
    }
  } else if (request.accelerators !== undefined && request.accelerators.length > 0) {
    errors.push({ field: 'accelerators', message: 'accelerators are named, but the launch asks for 0 accelerators per node', hint: 'set acceleratorsPerNode to 1 or more, or drop the accelerator list' });
  }

  if (errors.length > 0 || !checked.ok) return { ok: false, errors };
  return {
    ok: true,
    plan: {
      app: { name: manifest.name, version: manifest.version },
      parameters: checked.values,
      resources,
      variants: launchVariants(manifest, checked.values),
      files: app.files,
      adaptation: usesChips ? Object.fromEntries(accelerators.map((k) => [k, adaptation[k]!])) : {},
      accelerators,
      referenceAccelerator: app.referenceAccelerator ?? null,
      speedMetric: app.speedMetric ?? 'fp16',
      runtimeSeconds: app.runtimeSeconds ?? null,
      inputs: app.inputs,
    },
  };
}

/**
 * The family whose command runs on a placement: that of the pool's chip when the job asks for
 * accelerators, `cpu` when it asks for none (even on an accelerator pool's cores). Null for an
 * accelerator job on a CPU pool or an unknown chip — a placement the scheduler never makes.
 */
export function familyForPlacement(acceleratorsPerNode: number, poolAccelerator: string | null): AcceleratorFamily | null {
  if (acceleratorsPerNode === 0) return 'cpu';
  if (poolAccelerator === null) return null;
  return acceleratorByKey(poolAccelerator)?.family ?? null;
}

/** The stored variant to run on the placed pool, or undefined when there is none (see familyForPlacement). */
export function pickVariant(variants: LaunchVariants, acceleratorsPerNode: number, poolAccelerator: string | null): LaunchVariant | undefined {
  const family = familyForPlacement(acceleratorsPerNode, poolAccelerator);
  return family === null ? undefined : variants[family];
}
