import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { center, cpuPool, dataset, job, link, NOW, pool, snapshot } from './fixtures.js';
import {
  centerHasProgram,
  checkFeasible,
  isPermanentReason,
  programKey,
  schedule,
  type CenterView,
  type DatasetView,
  type InfeasibleReason,
  type Link,
  type PendingJob,
} from './index.js';

interface Case {
  readonly name: string;
  readonly centers: readonly CenterView[];
  readonly job: PendingJob;
  readonly reason: InfeasibleReason;
  readonly detail: string;
  readonly links?: readonly Link[];
  readonly datasets?: readonly DatasetView[];
}

// One pool per case, so the job's only infeasible entry is the one under test.
const CASES: readonly Case[] = [
  {
    name: 'an offline center',
    centers: [center('east', { state: 'offline', pools: [pool('nvidia-a100')] })],
    job: job({ gpus: 1 }),
    reason: 'center-offline',
    detail: 'center east is offline',
  },
  {
    name: 'a draining center',
    centers: [center('east', { state: 'draining', pools: [pool('nvidia-a100')] })],
    job: job({ gpus: 1 }),
    reason: 'center-offline',
    detail: 'center east is draining',
  },
  {
    name: 'an accelerator job on a CPU pool',
    centers: [center('east', { pools: [cpuPool({ name: 'general' })] })],
    job: job({ gpus: 2 }),
    reason: 'no-accelerator',
    detail: 'needs 2 accelerators per node; pool general is CPU-only',
  },
  {
    name: 'a chip the job does not allow',
    centers: [center('east', { pools: [pool('nvidia-a100', { name: 'a100' })] })],
    job: job({ gpus: 1, allow: ['ascend-910b', 'ascend-910c'] }),
    reason: 'no-adapted-accelerator',
    detail: 'allows only ascend-910b, ascend-910c; pool a100 has nvidia-a100',
  },
  {
    name: 'a CPU pool for a job that allows only some chips',
    centers: [center('east', { pools: [cpuPool({ name: 'general' })] })],
    job: job({ allow: ['ascend-910b'] }),
    reason: 'no-adapted-accelerator',
    detail: 'allows only ascend-910b; pool general has no accelerator (CPU-only)',
  },
  {
    name: 'a program missing from the center',
    centers: [center('east', { commands: ['python', 'bash'], pools: [pool('nvidia-a100')] })],
    job: job({ gpus: 1, program: 'torchrun' }),
    reason: 'command-not-found',
    detail: 'program "torchrun" is not on the PATH at center east',
  },
  {
    name: 'more accelerators per node than a node has',
    centers: [center('east', { pools: [pool('nvidia-a100', { perNode: 4 })] })],
    job: job({ gpus: 8 }),
    reason: 'node-too-small',
    detail: 'needs 8 nvidia-a100 per node; nodes have 4',
  },
  {
    name: 'more cores and memory per node than a node has',
    centers: [center('east', { pools: [cpuPool({ cores: 64, memoryGiB: 256 })] })],
    job: job({ cores: 128, memoryGiB: 512 }),
    reason: 'node-too-small',
    detail: 'needs 128 cores per node; nodes have 64; needs 512 GiB memory per node; nodes have 256 GiB',
  },
  {
    name: 'a gang larger than the pool',
    centers: [center('east', { pools: [pool('ascend-910b', { name: '910b', nodes: 4 })] })],
    job: job({ gpus: 8, nodes: 8 }),
    reason: 'gang-does-not-fit',
    detail: 'needs 8 nodes at once; pool 910b has 4',
  },
  {
    name: 'a center outside the regions the data may live in',
    centers: [center('east', { pools: [pool('nvidia-a100')] })],
    job: job({ gpus: 1, regions: ['west', 'north'] }),
    reason: 'residency-forbids',
    detail: 'may run only in west, north; center east is in east',
  },
  {
    name: 'a chip the job forbids',
    centers: [center('east', { pools: [pool('nvidia-a100', { name: 'a100' })] })],
    job: job({ gpus: 1, forbid: ['nvidia-a100'] }),
    reason: 'forbidden-accelerator',
    detail: 'forbids nvidia-a100; pool a100 has it',
  },
  {
    name: 'a chip the app is not adapted to',
    centers: [center('east', { pools: [pool('nvidia-a100')] })],
    job: job({ gpus: 1, adaptation: { 'ascend-910b': 0.9, 'hygon-k100-ai': 0.7 } }),
    reason: 'no-adapted-accelerator',
    detail: 'the app is not adapted to nvidia-a100 (adapted: ascend-910b, hygon-k100-ai)',
  },
  {
    name: 'a chip listed at efficiency 0',
    centers: [center('east', { pools: [pool('ascend-910b')] })],
    job: job({ gpus: 1, adaptation: { 'ascend-910b': 0 } }),
    reason: 'no-adapted-accelerator',
    detail: 'the app is not adapted to ascend-910b (adapted: none)',
  },
  {
    name: 'an input with no path to the center',
    centers: [center('east', { pools: [pool('nvidia-a100')] })],
    job: job({ gpus: 1, inputs: ['weights'] }),
    datasets: [dataset('weights', { gb: 10, regions: ['far'] })],
    links: [link('far', 'west')],
    reason: 'data-unreachable',
    detail: 'input weights cannot reach region east: replicas in far, and no link from there',
  },
  {
    name: 'an input the network does not know',
    centers: [center('east', { pools: [pool('nvidia-a100')] })],
    job: job({ gpus: 1, inputs: ['ghost'] }),
    reason: 'data-unreachable',
    detail: 'input ghost is not a known dataset',
  },
  {
    name: 'a run on a slow, poorly adapted chip beyond the walltime',
    centers: [center('east', { pools: [pool('cambricon-mlu370-x8')] })],
    job: job({ gpus: 1, runtimeHours: 10, hours: 12, adaptation: { 'cambricon-mlu370-x8': 0.5 } }),
    reason: 'exceeds-walltime',
    detail: 'would run 2d 17h on cambricon-mlu370-x8 (efficiency 0.50), beyond its walltime 12h 00m',
  },
  {
    name: 'a run that costs more than the budget',
    centers: [center('east', { pools: [pool('nvidia-a100', { fenPerAcceleratorHour: 1000, fenPerCoreHour: 0 })] })],
    job: job({ gpus: 1, budgetFen: 500 }),
    reason: 'over-budget',
    detail: 'would cost ¥10.00 (¥10.00 compute + ¥0.00 egress) starting now, over its budget ¥5.00',
  },
  {
    name: 'egress that tips the cost over the budget',
    centers: [center('east', { pools: [pool('nvidia-a100', { fenPerAcceleratorHour: 1000, fenPerCoreHour: 0 })] })],
    job: job({ gpus: 1, budgetFen: 1500, inputs: ['weights'] }),
    datasets: [dataset('weights', { gb: 100, regions: ['west'] })],
    links: [link('west', 'east', { fenPerGB: 10 })],
    reason: 'over-budget',
    detail: 'would cost ¥20.00 (¥10.00 compute + ¥10.00 egress) starting now, over its budget ¥15.00',
  },
  {
    name: 'a run that cannot end by the deadline',
    centers: [center('east', { pools: [pool('nvidia-a100')] })],
    job: job({ gpus: 1, runtimeHours: 1, hours: 2, deadlineInHours: 0.5 }),
    reason: 'misses-deadline',
    detail: 'would finish Jan 15 11:00 UTC+8 even starting now (stage-in 0s, run 1h 00m), after its deadline Jan 15 10:30 UTC+8',
  },
  {
    name: 'a full pool',
    centers: [center('east', { pools: [pool('ascend-910b', { nodes: 4, used: { accelerators: 6 } })] })],
    job: job({ gpus: 4, cores: 8, memoryGiB: 64 }),
    reason: 'insufficient-capacity',
    detail: 'needs 1 free node with 4 ascend-910b, 8 cores, 64 GiB each; 0 of 4 have room now',
  },
];

describe('infeasible reasons', () => {
  for (const c of CASES) {
    it(`${c.reason}: ${c.name}`, () => {
      const result = schedule(snapshot({ centers: c.centers, jobs: [c.job], links: c.links, datasets: c.datasets }));
      assert.equal(result.placements.length, 0);
      assert.equal(result.waiting.length, 1);
      const [entry] = result.waiting[0]!.explanation.infeasible;
      assert.equal(result.waiting[0]!.explanation.infeasible.length, 1);
      assert.equal(entry!.reason, c.reason);
      assert.equal(entry!.detail, c.detail);
      assert.equal(entry!.centerId, c.centers[0]!.id);
      assert.equal(entry!.poolId, c.centers[0]!.pools[0]!.id);

      // At submission only permanent reasons count: a center comes back, capacity frees up.
      const network = { now: NOW, links: c.links ?? [], datasets: c.datasets ?? [] };
      const check = checkFeasible(c.job, c.centers, network);
      const permanent = isPermanentReason(c.reason);
      assert.equal(check.feasible, !permanent);
      assert.deepEqual(
        check.infeasible.map((i) => [i.reason, i.detail]),
        permanent ? [[c.reason, c.detail]] : [],
      );
      assert.equal(result.waiting[0]!.explanation.wait?.kind, permanent ? 'never' : 'capacity');
    });
  }

  it('reports the permanent reason before a transient one on the same pool', () => {
    const centers = [center('east', { state: 'offline', pools: [pool('nvidia-a100', { perNode: 4 })] })];
    const result = schedule(snapshot({ centers, jobs: [job({ gpus: 8 })] }));
    assert.equal(result.waiting[0]!.explanation.infeasible[0]!.reason, 'node-too-small');
  });

  it('checks the place, then the chip, the software, the sizes and last the limits', () => {
    const centers = [center('east', { commands: [], pools: [cpuPool({ cores: 2 })] })];
    const network = { now: NOW, links: [], datasets: [] };
    const reasonFor = (j: PendingJob) => checkFeasible(j, centers, network).infeasible[0]!.reason;
    assert.equal(reasonFor(job({ gpus: 1, cores: 8, regions: ['west'] })), 'residency-forbids');
    assert.equal(reasonFor(job({ gpus: 1, cores: 8 })), 'no-accelerator');
    assert.equal(reasonFor(job({ allow: ['nvidia-a100'], cores: 8 })), 'no-adapted-accelerator');
    assert.equal(reasonFor(job({ cores: 8 })), 'command-not-found');
    assert.equal(reasonFor(job({ cores: 8, program: '/usr/bin/python3' })), 'node-too-small');
    const big = [center('east', { pools: [pool('nvidia-a100', { fenPerAcceleratorHour: 1000 })] })];
    const limits = (j: PendingJob) => checkFeasible(j, big, network).infeasible[0]?.reason;
    assert.equal(limits(job({ gpus: 1, inputs: ['ghost'], budgetFen: 0, deadlineInHours: 0 })), 'data-unreachable');
    assert.equal(limits(job({ gpus: 1, runtimeHours: 2, hours: 1, budgetFen: 0, deadlineInHours: 0 })), 'exceeds-walltime');
    assert.equal(limits(job({ gpus: 1, budgetFen: 0, deadlineInHours: 0 })), 'over-budget');
    assert.equal(limits(job({ gpus: 1, deadlineInHours: 0 })), 'misses-deadline');
    assert.equal(limits(job({ gpus: 1, deadlineInHours: 1 })), undefined, 'a deadline met to the millisecond');
  });

  it('judges the budget at the cheapest hour a time-of-use price offers', () => {
    const tou = [center('east', { pools: [pool('nvidia-a100', { fenPerAcceleratorHour: 1000, fenPerCoreHour: 0, priceFactorByHour: [0.5] })] })];
    const network = { now: NOW, links: [], datasets: [] };
    // 10:00 costs the full ¥10.00; the night hour 00:00 (factor 0.5, the others default to 1) ¥5.00.
    assert.equal(checkFeasible(job({ gpus: 1, budgetFen: 600 }), tou, network).feasible, true);
    assert.equal(checkFeasible(job({ gpus: 1, budgetFen: 400 }), tou, network).infeasible[0]!.reason, 'over-budget');
  });

  it('without the network, checks only what needs no estimate of data, money or time', () => {
    const centers = [center('east', { pools: [pool('nvidia-a100')] })];
    assert.equal(checkFeasible(job({ gpus: 1, inputs: ['ghost'], budgetFen: 0, deadlineInHours: -1 }), centers).feasible, true);
    assert.equal(checkFeasible(job({ gpus: 1, runtimeHours: 2, hours: 1 }), centers).infeasible[0]!.reason, 'exceeds-walltime');
  });

  it('is feasible when any one pool of any center passes, listing the others in network order', () => {
    const centers = [
      center('west', { pools: [pool('ascend-910b', { perNode: 8 })] }),
      center('east', { state: 'offline', pools: [pool('nvidia-a100', { perNode: 4 }), cpuPool()] }),
    ];
    const check = checkFeasible(job({ gpus: 8 }), centers);
    assert.equal(check.feasible, true);
    assert.deepEqual(
      check.infeasible.map((i) => `${i.centerName}/${i.poolName} ${i.reason}`),
      ['east/cpu no-accelerator', 'east/nvidia-a100 node-too-small'],
    );
    assert.equal(checkFeasible(job({ gpus: 16 }), centers).feasible, false);
    assert.deepEqual(checkFeasible(job({ gpus: 1 }), []), { feasible: false, infeasible: [] });
  });
  it('keeps a memory figure that is not whole GiB in MiB', () => {
    const centers = [center('east', { pools: [cpuPool({ memoryGiB: 1 })] })];
    const j: PendingJob = { ...job(), perNode: { accelerators: 0, cores: 1, memoryMiB: 1500 } };
    assert.equal(checkFeasible(j, centers).infeasible[0]!.detail, 'needs 1500 MiB memory per node; nodes have 1 GiB');
  });
});

describe('program look-up', () => {
  const east = center('east', { commands: ['python', 'train.sh'] });
  const open = center('open');
  const cases: readonly [program: string, key: string | null, atEast: boolean][] = [
    ['python', 'python', true],
    ['torchrun', 'torchrun', false],
    // A path names a file of its own (relative ones in the job's workdir): never looked up on PATH.
    ['./train.sh', null, true],
    ['scripts/torchrun', null, true],
    ['/opt/conda/bin/torchrun', null, true],
  ];
  for (const [program, key, atEast] of cases) {
    it(`${program} is looked up as ${key ?? '(a path: always accepted)'}`, () => {
      assert.equal(programKey(program), key);
      assert.equal(centerHasProgram(east, program), atEast);
      assert.equal(centerHasProgram(open, program), true, 'a center that lists no commands accepts anything');
    });
  }

});
