import { ACCELERATOR_TABLE } from './accelerator-table.js';

/**
 * The software stack a chip needs; an app's command template is chosen by family
 * (`cuda` NVIDIA, `cann` Huawei Ascend, `dtk` Hygon DCU, `bang` Cambricon, `musa` Moore Threads,
 * `xpu` Kunlunxin, `supa` Biren, `corex` Iluvatar, `maca` MetaX; `cpu` for no accelerator).
 */
export const ACCELERATOR_FAMILIES = ['cuda', 'cann', 'dtk', 'bang', 'musa', 'xpu', 'supa', 'corex', 'maca', 'cpu'] as const;
export type AcceleratorFamily = (typeof ACCELERATOR_FAMILIES)[number];

/** One accelerator model's public figures; `null` where no reliable figure is published. */
export interface AcceleratorSpec {
  readonly key: string;
  readonly vendor: string;
  readonly model: string;
  readonly family: AcceleratorFamily;
  readonly fp16Tflops: number | null;
  readonly fp32Tflops: number | null;
  readonly memoryGB: number | null;
  readonly memoryTBps: number | null;
  readonly boardWatts: number | null;
  readonly confidence: string;
}

const BY_KEY = new Map(ACCELERATOR_TABLE.map((a) => [a.key, a]));

/** The built-in accelerator table, keyed by stable key such as `nvidia-a100` or `ascend-910b`. */
export function acceleratorByKey(key: string): AcceleratorSpec | undefined {
  return BY_KEY.get(key);
}

export function allAccelerators(): readonly AcceleratorSpec[] {
  return ACCELERATOR_TABLE;
}
