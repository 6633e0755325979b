import { acceleratorByKey } from '../core/accelerators.js';
import { DEFAULT_REFERENCE_ACCELERATOR, type PendingJob, type SpeedMetric } from './types.js';

/** A chip's speed under `metric` (TFLOPS from the accelerator table), or null when the table has no figure for it. */
export function chipSpeed(key: string, metric: SpeedMetric): number | null {
  const spec = acceleratorByKey(key);
  const tflops = metric === 'fp32' ? spec?.fp32Tflops : spec?.fp16Tflops;
  return tflops != null && tflops > 0 ? tflops : null;
}

/** The chip a job's run time was measured on. */
export function referenceOf(job: PendingJob): string {
  return job.referenceAccelerator ?? DEFAULT_REFERENCE_ACCELERATOR;
}

/**
 * Reference speed ÷ chip speed: how much longer (> 1) or shorter a run takes on `key` than on
 * `reference` at equal efficiency. When the table has no figure for either chip (Hygon Z100 FP16,
 * every Ascend FP32) the two count as equally fast: an unknown is not a reason to prefer or avoid a chip.
 */
export function speedRatio(reference: string, key: string, metric: SpeedMetric): number {
  const ref = chipSpeed(reference, metric);
  const chip = chipSpeed(key, metric);
  return ref === null || chip === null ? 1 : ref / chip;
}

/**
 * The efficiency of the job's app on accelerator `key`, or null when the app does not support it
 * (unlisted in its adaptation matrix, or listed at 0 or less). A raw command (no matrix) runs
 * anywhere at 1.
 */
export function efficiencyOn(job: PendingJob, key: string): number | null {
  const matrix = job.adaptation;
  if (matrix === null) return 1;
  const e = Object.hasOwn(matrix, key) ? matrix[key] : undefined;
  return typeof e === 'number' && Number.isFinite(e) && e > 0 ? e : null;
}

/**
 * Run time on a chip = reference run time × reference speed ÷ (chip speed × efficiency), for a job
 * with accelerators whose run time is known; `ratio` is `speedRatio`. A CPU job runs its estimate
 * on any pool (its core-hours, not a chip, set its cost). Without an estimate every run is the walltime.
 */
export function runSeconds(job: PendingJob, ratio: number, efficiency: number): number {
  const base = job.runtimeSeconds;
  if (base === null) return job.walltimeSeconds;
  if (job.perNode.accelerators === 0) return base;
  return (base * ratio) / efficiency;
}
