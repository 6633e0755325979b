import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { appManifest, parsed, product, row } from './fixtures.js';
import { familyForPlacement, pickVariant, planLaunch } from './launch.js';

// A GPU-first app that can also run on CPU: cpu, cuda and cann commands.
const app = parsed(
  appManifest({
    command: {
      cpu: ['python3', 'run.py', '--steps', '{{steps}}'],
      cuda: ['python3', 'run.py', '--steps', '{{steps}}', '--cuda'],
      cann: ['python3', 'run.py', '--steps', '{{steps}}', '--npu'],
    },
    adaptation: { 'nvidia-a100': row(1), 'ascend-910b': row(0.8), 'ascend-910c': row(0.9) },
    resources: { defaults: { acceleratorsPerNode: 1, walltimeSeconds: 600 }, limits: { acceleratorsPerNode: 8 } },
    runtimeSeconds: 60,
    speedMetric: 'fp32',
  }),
);

function fieldsOf(result: ReturnType<typeof planLaunch>): string[] {
  return result.ok ? [] : result.errors.map((e) => `${e.field}: ${e.message}`);
}

describe('planLaunch', () => {
  it('plans a launch with defaults: every variant, adapted chips, the scheduler inputs', () => {
    const r = planLaunch(app, { params: { steps: '5' } });
    assert.ok(r.ok, JSON.stringify(!r.ok && r.errors));
    const p = r.plan;
    assert.deepEqual(p.parameters, { steps: 5 });
    assert.deepEqual(p.resources, { nodes: 1, acceleratorsPerNode: 1, coresPerNode: 1, memoryMiBPerNode: 1024, walltimeSeconds: 600 });
    assert.deepEqual(Object.keys(p.variants), ['cuda', 'cann', 'cpu']);
    assert.deepEqual(p.variants.cann?.command, ['python3', 'run.py', '--steps', '5', '--npu']);
    assert.deepEqual(p.adaptation, { 'nvidia-a100': 1, 'ascend-910b': 0.8, 'ascend-910c': 0.9 });
    assert.deepEqual(p.accelerators, ['nvidia-a100', 'ascend-910b', 'ascend-910c']);
    assert.deepEqual([p.speedMetric, p.runtimeSeconds, p.referenceAccelerator], ['fp32', 60, null]);
    assert.deepEqual(p.app, { name: 'demo', version: '1.0.0' });
  });
  it('narrows the chips to the user\'s choice within the matrix', () => {
    const r = planLaunch(app, { accelerators: ['ascend-910c'] });
    assert.ok(r.ok);
    assert.deepEqual(r.plan.accelerators, ['ascend-910c']);
    assert.deepEqual(r.plan.adaptation, { 'ascend-910c': 0.9 });
  });
  it('runs on CPU when asked for no accelerators and the app has a cpu command', () => {
    const r = planLaunch(app, { resources: { acceleratorsPerNode: 0 } });
    assert.ok(r.ok);
    assert.deepEqual([r.plan.accelerators, r.plan.adaptation], [[], {}]);
  });
  it('rejects, before anything is queued: bad parameters, chips outside the matrix, resources beyond limits', () => {
    const r = planLaunch(app, {
      params: { steps: '0', seeds: '1' },
      accelerators: ['ascend-910', 'hygon-k100-ai'],
      resources: { acceleratorsPerNode: 16, walltimeSeconds: 0 },
    });
    assert.deepEqual(fieldsOf(r), [
      'params.steps: steps: 0 is below the minimum 1',
      'params.seeds: seeds: no such parameter',
      "resources.acceleratorsPerNode: acceleratorsPerNode: 16 is above the app's limit 8",
      'resources.walltimeSeconds: walltimeSeconds: 0 is not a whole number of at least 1',
      "accelerators[0]: ascend-910 is not in demo's adaptation matrix",
      "accelerators[1]: hygon-k100-ai is not in demo's adaptation matrix",
    ]);
    assert.ok(!r.ok && r.errors[4]!.hint === 'did you mean ascend-910b? adapted: nvidia-a100, ascend-910b, ascend-910c');
  });
  it('rejects a CPU run of an app without a cpu command, and chips for an app adapted to none', () => {
    const gpuOnly = parsed(appManifest({ command: { cuda: ['python3', '{{steps}}'] }, resources: { defaults: { acceleratorsPerNode: 1 } } }));
    assert.deepEqual(fieldsOf(planLaunch(gpuOnly, { resources: { acceleratorsPerNode: 0 } })), [
      'resources.acceleratorsPerNode: acceleratorsPerNode: 0 asks for a CPU run, but demo has no cpu command',
    ]);
    const cpuOnly = parsed(appManifest({ command: { cpu: ['python3', '{{steps}}'] }, adaptation: {} }));
    assert.deepEqual(fieldsOf(planLaunch(cpuOnly, { resources: { acceleratorsPerNode: 1 } })), [
      'resources.acceleratorsPerNode: acceleratorsPerNode: 1, but demo is adapted to no accelerator',
    ]);
  });
  it('rejects launching a product that is not an app', () => {
    assert.deepEqual(fieldsOf(planLaunch(parsed(product({ category: 'dataset' })))), ['app: demo is a dataset product, not a runnable app']);
  });
});

describe('picking the variant at placement', () => {
  const plan = planLaunch(app);
  assert.ok(plan.ok);
  const CASES: readonly [string, number, string | null, string | null][] = [
    ['an accelerator job on an Ascend pool', 1, 'ascend-910b', 'cann'],
    ['an accelerator job on an NVIDIA pool', 8, 'nvidia-a100', 'cuda'],
    ['a CPU job on a CPU pool', 0, null, 'cpu'],
    ['a CPU job on an accelerator pool\'s cores', 0, 'nvidia-a100', 'cpu'],
    ['an accelerator job on a CPU pool (never placed)', 1, null, null],
    ['an accelerator job on a chip of a family without a command', 1, 'hygon-k100-ai', 'dtk'],
  ];
  for (const [what, perNode, chip, family] of CASES) {
    it(what, () => {
      assert.equal(familyForPlacement(perNode, chip), family);
      const variant = pickVariant(plan.plan.variants, perNode, chip);
      if (family === null || family === 'dtk') assert.equal(variant, undefined);
      else assert.deepEqual(variant, plan.plan.variants[family as 'cpu']);
    });
  }
});
