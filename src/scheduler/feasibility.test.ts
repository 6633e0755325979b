import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { center, cpuPool, job, pool, snapshot } from './fixtures.js';
import { centerHasProgram, checkFeasible, programKey, schedule, type CenterView, type InfeasibleReason, type PendingJob } from './index.js';

interface Case {
  readonly name: string;
  readonly centers: readonly CenterView[];
  readonly job: PendingJob;
  readonly reason: InfeasibleReason;
  readonly detail: string;
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
    name: 'a relative path whose basename is missing',
    centers: [center('east', { commands: ['python'], pools: [pool('nvidia-a100')] })],
    job: job({ gpus: 1, program: 'bin/train.sh' }),
    reason: 'command-not-found',
    detail: 'program "train.sh" (from "bin/train.sh") is not on the PATH at center east',
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
      const result = schedule(snapshot({ centers: c.centers, jobs: [c.job] }));
      assert.equal(result.placements.length, 0);
      assert.equal(result.waiting.length, 1);
      const [entry] = result.waiting[0]!.explanation.infeasible;
      assert.equal(result.waiting[0]!.explanation.infeasible.length, 1);
      assert.equal(entry!.reason, c.reason);
      assert.equal(entry!.detail, c.detail);
      assert.equal(entry!.centerId, c.centers[0]!.id);
      assert.equal(entry!.poolId, c.centers[0]!.pools[0]!.id);

      // At submission only permanent reasons count: a center comes back, capacity frees up.
      const check = checkFeasible(c.job, c.centers);
      const permanent = c.reason !== 'center-offline' && c.reason !== 'insufficient-capacity';
      assert.equal(check.feasible, !permanent);
      assert.deepEqual(
        check.infeasible.map((i) => [i.reason, i.detail]),
        permanent ? [[c.reason, c.detail]] : [],
      );
    });
  }

  it('reports the permanent reason before a transient one on the same pool', () => {
    const centers = [center('east', { state: 'offline', pools: [pool('nvidia-a100', { perNode: 4 })] })];
    const result = schedule(snapshot({ centers, jobs: [job({ gpus: 8 })] }));
    assert.equal(result.waiting[0]!.explanation.infeasible[0]!.reason, 'node-too-small');
  });

  it('checks the chip before the software and the software before the sizes', () => {
    const centers = [center('east', { commands: [], pools: [cpuPool({ cores: 2 })] })];
    const reasonFor = (j: PendingJob) => checkFeasible(j, centers).infeasible[0]!.reason;
    assert.equal(reasonFor(job({ gpus: 1, cores: 8 })), 'no-accelerator');
    assert.equal(reasonFor(job({ allow: ['nvidia-a100'], cores: 8 })), 'no-adapted-accelerator');
    assert.equal(reasonFor(job({ cores: 8 })), 'command-not-found');
    assert.equal(reasonFor(job({ cores: 8, program: '/usr/bin/python3' })), 'node-too-small');
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
    ['./train.sh', 'train.sh', true],
    ['scripts/train.sh', 'train.sh', true],
    ['scripts/torchrun', 'torchrun', false],
    ['/opt/conda/bin/torchrun', null, true],
  ];
  for (const [program, key, atEast] of cases) {
    it(`${program} is looked up as ${key ?? '(absolute: always accepted)'}`, () => {
      assert.equal(programKey(program), key);
      assert.equal(centerHasProgram(east, program), atEast);
      assert.equal(centerHasProgram(open, program), true, 'a center that lists no commands accepts anything');
    });
  }

});
