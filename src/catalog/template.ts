import type { ParameterValue, ParameterValues } from './parameters.js';

/**
 * Templates in command arguments and environment values: `{{name}}` (spaces inside the braces
 * allowed) stands for the parameter's value. There is no escape: a literal `{{` that is not a
 * placeholder is an error at publication, so that a typo never reaches a job as text.
 */
const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;

export interface TemplateScan {
  /** Parameter names used, in order of first use. */
  readonly names: readonly string[];
  /** Text that opens or closes a placeholder but is not one (`{{ 1x }}`, `{{n}`, `}}`), if any. */
  readonly malformed: string | null;
}

/** The parameter names a template uses, and any broken placeholder syntax. */
export function scanTemplate(template: string): TemplateScan {
  const names: string[] = [];
  for (const m of template.matchAll(PLACEHOLDER)) if (!names.includes(m[1]!)) names.push(m[1]!);
  const rest = template.replace(PLACEHOLDER, '');
  const at = Math.min(...['{{', '}}'].map((s) => rest.indexOf(s)).filter((i) => i >= 0));
  const malformed = Number.isFinite(at) ? rest.slice(Math.max(0, at - 10), at + 12) : null;
  return { names, malformed };
}

/** How a value appears in a command: numbers in JavaScript's shortest form, booleans as `true`/`false`. */
export function formatValue(value: ParameterValue): string {
  return typeof value === 'string' ? value : String(value);
}

/**
 * Substitutes every placeholder. The result is one string: used for one argv element it stays one
 * argument whatever the value holds (spaces, quotes, `;`), since no shell ever reads it.
 * Throws a RangeError when a placeholder has no value (validation guarantees one).
 */
export function renderTemplate(template: string, values: ParameterValues): string {
  return template.replace(PLACEHOLDER, (_, name: string) => {
    if (!Object.hasOwn(values, name)) throw new RangeError(`template ${JSON.stringify(template)} needs parameter ${name}, which has no value`);
    return formatValue(values[name]!);
  });
}
