/*
 * Test fixtures in the store's words: `appManifest({ adaptation: { 'ascend-910b': row(0.8) } })`
 * gives a valid runnable manifest (a CPU + CUDA app with one integer parameter) with the app
 * section's fields replaced; `product({ category: 'saas' })` a valid non-app product.
 */
import type { AppManifest, AppManifestInput } from './manifest.js';
import { ManifestSchema } from './manifest.js';

type AppInput = NonNullable<AppManifestInput['app']>;

/** An adaptation row at `efficiency` (verified unless told). */
export function row(efficiency: number, level: 'verified' | 'community' | 'untested' = 'verified') {
  return { efficiency, level } as const;
}

/** A store entry without an app: a software product unless overridden. */
export function product(overrides: Partial<AppManifestInput> = {}): AppManifestInput {
  return {
    name: 'demo',
    title: 'Demo',
    summary: 'A demo product.',
    category: 'software',
    licence: 'Apache-2.0',
    version: '1.0.0',
    ...overrides,
  };
}

/** A valid runnable manifest: `python3 run.py --steps {{steps}}` on cpu and cuda, adapted to nvidia-a100. */
export function appManifest(app: Partial<AppInput> = {}, overrides: Partial<AppManifestInput> = {}): AppManifestInput {
  return product({
    app: {
      parameters: { properties: { steps: { type: 'integer', default: 10, minimum: 1, maximum: 1000 } } },
      command: { cpu: ['python3', 'run.py', '--steps', '{{steps}}'], cuda: ['python3', 'run.py', '--steps', '{{steps}}', '--gpu'] },
      adaptation: { 'nvidia-a100': row(1) },
      files: { 'run.py': 'print("hi")\n' },
      ...app,
    },
    ...overrides,
  });
}

/** Parses a fixture, throwing on any error (for tests of what comes after validation). */
export function parsed(input: AppManifestInput): AppManifest {
  const r = ManifestSchema.safeParse(input);
  if (!r.success) throw new Error(`fixture does not validate: ${JSON.stringify(r.error.issues)}`);
  return r.data;
}
