import { SuanwangError } from '../core/errors.js';
import { datasetPath } from './dataset-path.js';

/** A dataset's name: letters, digits, ".", "_" and "-", up to 128, starting with a letter or digit. */
export const DATASET_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** The most outputs one job may register. */
export const MAX_JOB_OUTPUTS = 16;

/** Refuses a dataset name that is not allowed, naming `field`; returns it unchanged. */
export function checkDatasetName(name: string, field: string): string {
  if (typeof name !== 'string' || !DATASET_NAME.test(name)) {
    throw new SuanwangError('invalid_field', `${field}: dataset name ${JSON.stringify(name).slice(0, 80)} is not allowed`, {
      field,
      hint: 'letters, digits, ".", "_" and "-", up to 128, starting with a letter or digit',
    });
  }
  return name;
}

/**
 * One output of a job: after the job succeeds, the files under `dir` (relative to the job's
 * workdir) become a new sealed version of dataset `dataset` of the job's org, at the job's center.
 */
export interface JobOutput {
  readonly dataset: string;
  readonly dir: string;
}

/** Where an output's files are looked for when the spec names no dir. */
export function defaultOutputDir(dataset: string): string {
  return `outputs/${dataset}`;
}

/**
 * Checks a job's outputs and returns them with every `dir` given and spelled one way (`a/b`).
 * Refuses, naming `outputs[i].dataset` or `outputs[i].dir`: a bad dataset name, the same dataset
 * twice, a dir that is absolute, holds `..`, `.` or empty segments, or lies under `inputs/` (the
 * job's staged inputs, which are read-only links to other datasets).
 */
export function checkJobOutputs(outputs: readonly { readonly dataset: string; readonly dir?: string | undefined }[], field = 'outputs'): JobOutput[] {
  if (outputs.length > MAX_JOB_OUTPUTS) {
    throw new SuanwangError('invalid_field', `${field}: ${outputs.length} outputs, at most ${MAX_JOB_OUTPUTS}`, { field, hint: 'register fewer datasets, or put several folders under one' });
  }
  const seen = new Set<string>();
  return outputs.map((o, i) => {
    const dataset = checkDatasetName(o.dataset, `${field}[${i}].dataset`);
    if (seen.has(dataset)) {
      throw new SuanwangError('invalid_field', `${field}[${i}].dataset: dataset ${dataset} is named twice`, { field: `${field}[${i}].dataset`, hint: 'name each output dataset once' });
    }
    seen.add(dataset);
    const dirField = `${field}[${i}].dir`;
    // A trailing "/" (`out/`) is how people write folders; anything else is a dataset path's rules.
    const given = o.dir ?? defaultOutputDir(dataset);
    const dir = datasetPath(given.length > 1 ? given.replace(/\/+$/, '') : given, dirField);
    if (dir === 'inputs' || dir.startsWith('inputs/')) {
      throw new SuanwangError('invalid_field', `${dirField} is ${JSON.stringify(o.dir)}: inputs/ holds the job's staged inputs, read-only`, {
        field: dirField,
        hint: `write outputs elsewhere, e.g. ${defaultOutputDir(dataset)}`,
      });
    }
    return { dataset, dir };
  });
}

/**
 * `NAME[:DIR]` as `suanwang submit --output` takes it: the dataset and, when given, its folder.
 * Only the first ":" splits (a dir may hold more); the result is checked by checkJobOutputs.
 */
export function parseOutputFlag(flag: string): { dataset: string; dir?: string } {
  const at = flag.indexOf(':');
  return at < 0 ? { dataset: flag } : { dataset: flag.slice(0, at), dir: flag.slice(at + 1) };
}
