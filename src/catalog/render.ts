import { ACCELERATOR_FAMILIES, acceleratorByKey, type AcceleratorFamily } from '../core/accelerators.js';
import { SuanwangError } from '../core/errors.js';
import type { AppManifest, RunnableManifest } from './manifest.js';
import type { ParameterValues } from './parameters.js';
import { renderTemplate } from './template.js';

/**
 * Rendering an app's launch. The platform submits ONE job per launch, before it knows which chip
 * the scheduler will pick, so it renders every family's command up front (`launchVariants`) and
 * stores them with the job. When the job is placed, the engine (or the agent) runs the variant for
 * the placed pool: `familyForPlacement` / `pickVariant` in launch.ts — the family of the pool's
 * accelerator for a job that asks for accelerators, `cpu` for one that asks for none (even on an
 * accelerator pool's cores). The scheduler only places the job on chips in the adaptation
 * matrix, and validation guarantees every adapted chip's family has a command, so the variant
 * always exists.
 *
 * Rendering never involves a shell: each template element becomes exactly one argv element, and
 * a value with spaces, quotes or `;` stays inside its element.
 */

export interface LaunchVariant {
  readonly command: readonly string[];
  readonly env: Readonly<Record<string, string>>;
}

export interface RenderedLaunch extends LaunchVariant {
  /** Written into the job's working folder before it starts (not templated). */
  readonly files: Readonly<Record<string, string>>;
}

/** The variants per family, in the table's family order. */
export type LaunchVariants = Readonly<Partial<Record<AcceleratorFamily, LaunchVariant>>>;

/**
 * The command, environment and files for `family` with validated `values` (see
 * validateParameters). Throws SuanwangError(invalid_request) when the app has no command for the
 * family, and a RangeError when a placeholder has no value (validation rules that out).
 */
export function renderLaunch(manifest: AppManifest, family: AcceleratorFamily, values: ParameterValues): RenderedLaunch {
  const app = requireApp(manifest);
  const template = app.command[family];
  if (template === undefined) {
    throw new SuanwangError('invalid_request', `app ${manifest.name} has no command for accelerator family ${family}`, {
      field: 'family',
      hint: `its families: ${familiesOf(manifest).join(', ')}`,
    });
  }
  return { ...renderVariant(template, app.env, values), files: app.files };
}

/** Every family's rendered command and environment, for the engine to store with the one job. */
export function launchVariants(manifest: AppManifest, values: ParameterValues): LaunchVariants {
  const app = requireApp(manifest);
  const out: Partial<Record<AcceleratorFamily, LaunchVariant>> = {};
  for (const family of familiesOf(manifest)) out[family] = renderVariant(app.command[family]!, app.env, values);
  return out;
}

function renderVariant(template: readonly string[], env: Readonly<Record<string, string>>, values: ParameterValues): LaunchVariant {
  return {
    command: template.map((arg) => renderTemplate(arg, values)),
    env: Object.fromEntries(Object.entries(env).map(([k, v]) => [k, renderTemplate(v, values)])),
  };
}

/** The families the app has a command for, in ACCELERATOR_FAMILIES order (empty for a non-app product). */
export function familiesOf(manifest: AppManifest): AcceleratorFamily[] {
  const command = manifest.app?.command;
  return command === undefined ? [] : ACCELERATOR_FAMILIES.filter((f) => command[f] !== undefined);
}

/**
 * Accelerator key → efficiency, as the scheduler's `PendingJob.adaptation` takes it: only chips in
 * the table whose family has a command (validation makes that all rows).
 */
export function adaptedAccelerators(manifest: AppManifest): Readonly<Record<string, number>> {
  const app = manifest.app;
  if (app === undefined) return {};
  const out: Record<string, number> = {};
  for (const [key, row] of Object.entries(app.adaptation)) {
    const spec = acceleratorByKey(key);
    if (spec !== undefined && app.command[spec.family] !== undefined) out[key] = row.efficiency;
  }
  return out;
}

function requireApp(manifest: AppManifest): RunnableManifest['app'] {
  if (manifest.app === undefined) {
    throw new SuanwangError('invalid_request', `${manifest.name} is a ${manifest.category} product, not a runnable app`, { hint: 'only products with an app section can be launched' });
  }
  return manifest.app;
}
