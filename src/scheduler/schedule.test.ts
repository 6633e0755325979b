import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { center, cpuPool, dataset, HOUR, HOUR_MS, job, link, NOW, pool, snapshot } from './fixtures.js';
import { schedule, type CenterView, type InfeasibleReason, type Objective, type PendingJob, type ScheduleResult } from './index.js';

/** Where each job went: `jobId → center/pool [nodes]`, or `waits`. */
function where(result: ScheduleResult): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of result.placements) out[p.jobId] = `${p.option.centerName}/${p.option.poolName} [${p.nodeIndices.join(',')}]`;
  for (const w of result.waiting) out[w.jobId] = 'waits';
  return out;
}

// Four A100 pools that each win under one objective. With one GPU, no cores and a PUE of 1, an
// hour costs the GPU rate and emits 0.4 kWh × the grid's intensity.
const a100 = (rate: number) => [pool('nvidia-a100', { name: 'a100', fenPerAcceleratorHour: rate, fenPerCoreHour: 0 })];
const TRADE_OFFS: readonly CenterView[] = [
  center('shanghai', { pue: 1, carbonKgPerKwh: 0.6, pools: a100(1000) }), // cheapest, dirtiest
  center('zhongwei', { pue: 1, carbonKgPerKwh: 0.1, pools: a100(1500) }), // greenest, dearest
  center('beijing', { pue: 1, carbonKgPerKwh: 0.5, pools: a100(1100) }), // first by name
  center('guiyang', { pue: 1, carbonKgPerKwh: 0.12, pools: a100(1050) }), // nearly cheapest and greenest
];

describe('objectives', () => {
  const cases: readonly [Objective, string, string][] = [
    [
      'cheapest',
      'shanghai',
      'cheapest of 4 feasible options: ¥10.00 at shanghai/a100, ¥10.50 at guiyang/a100, ¥11.00 at beijing/a100, ¥15.00 at zhongwei/a100',
    ],
    [
      'greenest',
      'zhongwei',
      'greenest of 4 feasible options: 0.04 kg CO2e at zhongwei/a100, 0.05 kg CO2e at guiyang/a100, 0.20 kg CO2e at beijing/a100, 0.24 kg CO2e at shanghai/a100',
    ],
    // Every option ends after the walltime (no runtime model yet), so names break the tie.
    [
      'fastest',
      'beijing',
      'fastest of 4 feasible options: done in 1h 00m at beijing/a100, done in 1h 00m at guiyang/a100, done in 1h 00m at shanghai/a100, done in 1h 00m at zhongwei/a100',
    ],
    // guiyang 1.05 + 1 + 1.2 = 3.25 beats zhongwei 1.5 + 1 + 1 = 3.5, beijing 7.1, shanghai 8.
    [
      'balanced',
      'guiyang',
      'best balance of 4 feasible options: score 3.25 (¥10.50, 1h 00m, 0.05 kg CO2e) at guiyang/a100, ' +
        'score 3.50 (¥15.00, 1h 00m, 0.04 kg CO2e) at zhongwei/a100, score 7.10 (¥11.00, 1h 00m, 0.20 kg CO2e) at beijing/a100, ' +
        'score 8.00 (¥10.00, 1h 00m, 0.24 kg CO2e) at shanghai/a100',
    ],
  ];
  for (const [objective, expected, summary] of cases) {
    it(`${objective} picks ${expected}`, () => {
      const result = schedule(snapshot({ centers: TRADE_OFFS, jobs: [job({ id: 'j', gpus: 1, cores: 0, objective })] }));
      const placed = result.placements[0]!;
      assert.equal(placed.option.centerName, expected);
      assert.equal(placed.centerId, `ctr-${expected}`);
      assert.equal(placed.poolId, `ctr-${expected}/a100`);
      assert.deepEqual(placed.explanation.chosen, placed.option);
      assert.equal(placed.explanation.objective, objective);
      assert.equal(placed.explanation.summary, summary);
      const scores = [placed.option, ...placed.explanation.alternatives].map((o) => o.score);
      assert.deepEqual(scores, [...scores].sort((a, b) => a - b), 'best first');
    });
  }

  it('reads the grid at the local start hour', () => {
    // At 10:00 in China the east is clean and the west dirty; six hours later it is the other way round.
    const byHour = (cleanHour: number) => Array.from({ length: 24 }, (_, h) => (h === cleanHour ? 0.1 : 0.8));
    const centers = [
      center('east', { carbonKgPerKwh: byHour(10), pools: [pool('nvidia-a100')] }),
      center('west', { carbonKgPerKwh: byHour(16), pools: [pool('nvidia-a100')] }),
    ];
    const green = [job({ id: 'g', gpus: 1, objective: 'greenest' })];
    assert.equal(schedule(snapshot({ centers, jobs: green })).placements[0]!.option.centerName, 'east');
    assert.equal(schedule(snapshot({ centers, jobs: green, now: NOW + 6 * 3_600_000 })).placements[0]!.option.centerName, 'west');
  });

  it('sends a CPU job to a CPU pool through the price; the next waits for it when that pays off, or takes accelerator nodes by its deadline', () => {
    const centers = [
      center('east', {
        pools: [pool('nvidia-a100', { fenPerCoreHour: 20 }), cpuPool({ nodes: 1, cores: 8, fenPerCoreHour: 5 })],
      }),
    ];
    const jobs = [job({ id: 'a', cores: 8, submittedAt: 1 }), job({ id: 'b', cores: 8, submittedAt: 2 })];
    const result = schedule(snapshot({ centers, jobs }));
    // b pays ¥0.40 on the CPU pool once a is done (in an hour at most), ¥1.60 on the A100 nodes now.
    assert.deepEqual(where(result), { a: 'east/cpu [0]', b: 'waits' });
    assert.deepEqual(
      result.reservations.map((r) => [r.jobId, r.poolId, r.startAt - NOW, r.nodeIndices]),
      [['b', 'ctr-east/cpu', HOUR_MS, [0]]],
    );
    const b = result.waiting[0]!.explanation;
    assert.deepEqual(b.wait, { kind: 'capacity', reservedAt: NOW + HOUR_MS });
    assert.equal(
      b.summary,
      'waits for a reservation that pays off: ¥0.40 at east/cpu from Jan 15 11:00 UTC+8, done by Jan 15 12:00 UTC+8, ' +
        'vs ¥1.60 at east/nvidia-a100 starting now',
    );
    const hurried = [jobs[0]!, job({ id: 'b', cores: 8, submittedAt: 2, deadlineInHours: 1.5 })];
    assert.deepEqual(where(schedule(snapshot({ centers, jobs: hurried }))), { a: 'east/cpu [0]', b: 'east/nvidia-a100 [0]' });
    assert.deepEqual(where(schedule(snapshot({ centers, jobs }), { lookAheadHours: 0 })), { a: 'east/cpu [0]', b: 'east/nvidia-a100 [0]' });
  });
});

describe('gangs', () => {
  const free = (...gpus: number[]) => gpus.map((g) => ({ accelerators: g, cores: 64, memoryMiB: 512 * 1024 }));

  it('takes distinct nodes first fit, skipping ones without room', () => {
    const centers = [center('west', { pools: [pool('ascend-910b', { name: '910b', freeByNode: free(8, 2, 8, 8) })] })];
    const result = schedule(snapshot({ centers, jobs: [job({ id: 'gang', gpus: 8, nodes: 2 })] }));
    assert.deepEqual(where(result), { gang: 'west/910b [0,2]' });
  });

  it('takes all of its nodes or none', () => {
    const centers = [center('west', { pools: [pool('ascend-910b', { name: '910b', freeByNode: free(8, 0, 0, 0) })] })];
    const jobs = [job({ id: 'gang', gpus: 8, nodes: 2, priority: 1 }), job({ id: 'single', gpus: 8 })];
    const result = schedule(snapshot({ centers, jobs }));
    assert.deepEqual(where(result), { gang: 'waits', single: 'west/910b [0]' });
    assert.equal(
      result.waiting[0]!.explanation.infeasible[0]!.detail,
      'needs 2 free nodes with 8 ascend-910b, 4 cores, 16 GiB each; 1 of 4 have room now',
    );
  });

  it('never splits across pools or centers', () => {
    const centers = [
      center('east', { pools: [pool('nvidia-a100', { nodes: 2, busyNodes: 1 })] }),
      center('west', { pools: [pool('nvidia-a100', { nodes: 2, busyNodes: 1 })] }),
    ];
    assert.deepEqual(where(schedule(snapshot({ centers, jobs: [job({ id: 'gang', gpus: 8, nodes: 2 })] }))), { gang: 'waits' });
  });
});

describe('queue order', () => {
  // One node of 8 GPUs; each job wants all of it, so exactly the first in queue order runs.
  const one = [center('east', { pools: [pool('nvidia-a100', { nodes: 1 })] })];
  const cases: readonly [name: string, jobs: PendingJob[], first: string][] = [
    [
      'higher priority before older',
      [job({ id: 'old', gpus: 8, submittedAt: 1 }), job({ id: 'urgent', gpus: 8, priority: 5, submittedAt: 9 })],
      'urgent',
    ],
    ['older before newer at equal priority', [job({ id: 'a', gpus: 8, submittedAt: 9 }), job({ id: 'b', gpus: 8, submittedAt: 1 })], 'b'],
    ['id when priority and age are equal', [job({ id: 'b', gpus: 8, submittedAt: 1 }), job({ id: 'a', gpus: 8, submittedAt: 1 })], 'a'],
    ['negative priority after zero', [job({ id: 'low', gpus: 8, priority: -1, submittedAt: 0 }), job({ id: 'normal', gpus: 8, submittedAt: 5 })], 'normal'],
  ];
  for (const [name, jobs, first] of cases) {
    it(name, () => {
      for (const order of [jobs, [...jobs].reverse()]) {
        const result = schedule(snapshot({ centers: one, jobs: order }));
        assert.deepEqual(
          result.placements.map((p) => p.jobId),
          [first],
        );
        assert.equal(result.waiting.length, 1);
      }
    });
  }
});

describe('capacity within one pass', () => {
  it('gives each job what the ones before it left', () => {
    const centers = [center('west', { pools: [pool('ascend-910b', { name: '910b', nodes: 4 })] })];
    const jobs = ['j1', 'j2', 'j3', 'j4', 'j5'].map((id, i) => job({ id, gpus: 8, submittedAt: i }));
    const result = schedule(snapshot({ centers, jobs }));
    assert.deepEqual(where(result), {
      j1: 'west/910b [0]',
      j2: 'west/910b [1]',
      j3: 'west/910b [2]',
      j4: 'west/910b [3]',
      j5: 'waits',
    });
    // j5 reserves the first node to come back: j1's, within its walltime of an hour.
    assert.deepEqual(
      result.reservations.map((r) => [r.jobId, r.startAt, r.nodeIndices]),
      [['j5', NOW + HOUR_MS, [0]]],
    );
    const waits = result.waiting[0]!.explanation;
    assert.equal(waits.chosen?.start, 'reservation');
    assert.deepEqual(waits.infeasible, []);
    assert.equal(waits.summary, 'waits for capacity: reserved west/910b from Jan 15 11:00 UTC+8, done by Jan 15 12:00 UTC+8');
    const noPlans = schedule(snapshot({ centers, jobs }), { maxReservations: 0 }).waiting[0]!.explanation;
    assert.equal(noPlans.infeasible[0]!.detail, 'needs 1 free node with 8 ascend-910b, 4 cores, 16 GiB each; 0 of 4 have room now');
    assert.equal(noPlans.summary, 'waits: 1 pool could run it, but 1 is full now');
    assert.deepEqual(noPlans.wait, { kind: 'capacity', reservedAt: null });
  });

  it('packs smaller jobs onto the first node with room, in every dimension', () => {
    const centers = [center('west', { pools: [pool('ascend-910b', { name: '910b', nodes: 2, cores: 16 })] })];
    const jobs = [
      job({ id: 'a', gpus: 4, cores: 4, submittedAt: 1 }),
      job({ id: 'b', gpus: 2, cores: 12, submittedAt: 2 }), // fills node 0's cores
      job({ id: 'c', gpus: 1, cores: 1, submittedAt: 3 }), // node 0 has GPUs but no cores left
    ];
    assert.deepEqual(where(schedule(snapshot({ centers, jobs }))), { a: 'west/910b [0]', b: 'west/910b [0]', c: 'west/910b [1]' });
  });

  it('moves on to the next best pool when the best is full', () => {
    const centers = [
      center('east', { pools: [pool('nvidia-a100', { name: 'a100', nodes: 1, fenPerAcceleratorHour: 3000 })] }),
      center('west', { pools: [pool('ascend-910b', { name: '910b', nodes: 1, fenPerAcceleratorHour: 800 })] }),
    ];
    // With a deadline too close to wait for west (free in an hour), the second job takes east now.
    const jobs = [job({ id: 'first', gpus: 8, submittedAt: 1 }), job({ id: 'second', gpus: 8, submittedAt: 2, deadlineInHours: 1.5 })];
    const result = schedule(snapshot({ centers, jobs }));
    assert.deepEqual(where(result), { first: 'west/910b [0]', second: 'east/a100 [0]' });
    const second = result.placements[1]!.explanation;
    assert.deepEqual(second.alternatives, []);
    assert.deepEqual(
      second.infeasible.map((i) => [i.centerName, i.reason]),
      [['west', 'insufficient-capacity']],
    );
    assert.equal(second.summary, 'cheapest of 1 feasible option: ¥240.40 at east/a100; 1 pool cannot take it now');
  });

  it('leaves the snapshot as it was', () => {
    const centers = [center('west', { pools: [pool('ascend-910b', { nodes: 2 })] })];
    const snap = snapshot({ centers, jobs: [job({ gpus: 8 }), job({ gpus: 4 })] });
    const before = structuredClone(snap);
    schedule(snap);
    assert.deepEqual(snap, before);
  });
});

describe('explanations', () => {
  const centers = [
    center('a', { pools: [pool('nvidia-a100', { fenPerAcceleratorHour: 1000 })] }),
    center('b', { pools: [pool('nvidia-a100', { fenPerAcceleratorHour: 2000 })] }),
    center('c', { pools: [pool('nvidia-a100', { fenPerAcceleratorHour: 3000 })] }),
    center('d', { state: 'offline', pools: [pool('nvidia-a100', { fenPerAcceleratorHour: 10 })] }),
    center('e', { pools: [pool('nvidia-a100', { perNode: 4, fenPerAcceleratorHour: 10 })] }),
  ];

  it('keeps the chosen option, the best few others and every infeasible pool', () => {
    const result = schedule(snapshot({ centers, jobs: [job({ id: 'j', gpus: 8, cores: 0 })] }), { maxAlternatives: 1 });
    const e = result.placements[0]!.explanation;
    assert.equal(e.chosen?.centerName, 'a');
    assert.deepEqual(
      e.alternatives.map((o) => o.centerName),
      ['b'],
    );
    assert.deepEqual(
      e.infeasible.map((i) => [i.centerName, i.reason, i.detail]),
      [
        ['d', 'center-offline', 'center d is offline'],
        ['e', 'node-too-small', 'needs 8 nvidia-a100 per node; nodes have 4'],
      ],
    );
    assert.equal(e.summary, 'cheapest of 3 feasible options: ¥80.00 at a/nvidia-a100, ¥160.00 at b/nvidia-a100 …; 2 pools cannot take it now');
    const none = schedule(snapshot({ centers, jobs: [job({ gpus: 8 })] }), { maxAlternatives: 0 });
    assert.deepEqual(none.placements[0]!.explanation.alternatives, []);
    const all = schedule(snapshot({ centers, jobs: [job({ gpus: 8 })] }), { maxAlternatives: Infinity });
    assert.deepEqual(
      all.placements[0]!.explanation.alternatives.map((o) => o.centerName),
      ['b', 'c'],
    );
  });

  it('reads as plain data', () => {
    const result = schedule(snapshot({ centers, jobs: [job({ id: 'j', gpus: 8 }), job({ id: 'k', gpus: 16 })] }));
    const json = JSON.parse(JSON.stringify(result));
    assert.equal(json.placements[0].explanation.summary, result.placements[0]!.explanation.summary);
    assert.equal(json.waiting[0].explanation.infeasible.length, 5);
    assert.deepEqual(Object.keys(json.waiting[0].explanation), ['objective', 'chosen', 'alternatives', 'infeasible', 'wait', 'summary']);
    assert.equal(json.waiting[0].explanation.chosen, null);
  });

  const waitingCases: readonly [name: string, centers: CenterView[], job: PendingJob, summary: string][] = [
    [
      'can never run as asked',
      [center('a', { pools: [pool('nvidia-a100', { perNode: 4 }), pool('ascend-910b', { nodes: 2 })] })],
      job({ gpus: 8, nodes: 4, allow: ['nvidia-a100', 'ascend-910b'] }),
      'can never run as asked: none of 2 pools can take it (1 gang-does-not-fit, 1 node-too-small); ' +
        'e.g. a/ascend-910b: needs 4 nodes at once; pool ascend-910b has 2',
    ],
    [
      'waits for capacity and an offline center',
      [
        center('a', { pools: [pool('nvidia-a100', { busyNodes: 4 }), cpuPool()] }),
        center('b', { state: 'draining', pools: [pool('nvidia-a100')] }),
      ],
      job({ gpus: 1 }),
      'waits: 2 pools could run it, but 1 is full now and 1 is at b, not online; 1 never can (1 no-accelerator)',
    ],
    [
      'waits for a center to come back',
      [center('a', { state: 'offline', pools: [pool('nvidia-a100')] })],
      job({ gpus: 1 }),
      'waits: 1 pool could run it, but 1 is at a, not online',
    ],
    ['has nowhere to go', [], job({ gpus: 1 }), 'waits: the network has no pools'],
  ];
  for (const [name, cs, j, summary] of waitingCases) {
    it(`says why a job waits: ${name}`, () => {
      const result = schedule(snapshot({ centers: cs, jobs: [j] }));
      assert.equal(result.waiting.length, 1);
      const e = result.waiting[0]!.explanation;
      assert.equal(e.chosen, null);
      assert.deepEqual(e.alternatives, []);
      assert.equal(e.summary, summary);
    });
  }
});

describe('determinism', () => {
  const centers = [
    center('east', { pools: [pool('nvidia-a100', { nodes: 2 }), cpuPool({ nodes: 1 })] }),
    center('west', { pools: [pool('ascend-910b', { nodes: 2, fenPerAcceleratorHour: 1000 })] }),
  ];
  const jobs = [
    job({ id: 'a', gpus: 8, objective: 'fastest' }),
    job({ id: 'b', gpus: 8, objective: 'balanced' }),
    job({ id: 'c', gpus: 4, nodes: 2 }),
    job({ id: 'd', cores: 64, nodes: 2 }),
    job({ id: 'e', gpus: 8, objective: 'greenest' }),
  ];

  it('gives the same result for the same snapshot, whatever the order of jobs, centers and pools', () => {
    const expected = schedule(snapshot({ centers, jobs }));
    assert.deepEqual(schedule(snapshot({ centers, jobs })), expected);
    const shuffled = [...centers].reverse().map((c) => ({ ...c, pools: [...c.pools].reverse() }));
    assert.deepEqual(schedule(snapshot({ centers: shuffled, jobs: [...jobs].reverse() })), expected);
    assert.deepEqual(where(expected), {
      a: 'east/nvidia-a100 [0]',
      b: 'east/nvidia-a100 [1]',
      c: 'west/ascend-910b [0,1]',
      d: 'waits',
      e: 'waits', // c took half of each west node
    });
  });
});

describe('adaptation', () => {
  // Reference A100; the app is tuned for H100 at 0.8, 910B at 0.95, MLU370 at 0.5, not at all for Z100.
  const app = { 'nvidia-h100': 0.8, 'ascend-910b': 0.95, 'cambricon-mlu370-x8': 0.5 };
  const centers = [
    center('a', { pools: [pool('nvidia-h100', { name: 'h100', fenPerAcceleratorHour: 3000, fenPerCoreHour: 0 })] }),
    center('b', { pools: [pool('ascend-910b', { name: '910b', fenPerAcceleratorHour: 1200, fenPerCoreHour: 0 })] }),
    center('c', { pools: [pool('cambricon-mlu370-x8', { name: 'mlu', fenPerAcceleratorHour: 500, fenPerCoreHour: 0 })] }),
    center('d', { pools: [pool('hygon-z100', { name: 'z100', fenPerAcceleratorHour: 100, fenPerCoreHour: 0 })] }),
  ];
  const run = (chip: number, eff: number) => (10 * HOUR * 312) / (chip * eff);
  const cases: readonly [Objective, string[]][] = [
    ['fastest', ['a', 'b', 'c']],
    // The fast chip finishes so much sooner that it is also the cheapest run, at 2.5 times the hourly price.
    ['cheapest', ['a', 'b', 'c']],
  ];
  for (const [objective, order] of cases) {
    it(`ranks chips by run time × price under ${objective}, never using an unadapted one`, () => {
      const j = job({ id: 'j', gpus: 8, cores: 0, runtimeHours: 10, hours: 100, adaptation: app, objective });
      const e = schedule(snapshot({ centers, jobs: [j] })).placements[0]!.explanation;
      assert.deepEqual(
        [e.chosen!, ...e.alternatives].map((o) => o.centerName),
        order,
      );
      const [h100, b910, mlu] = [e.chosen!, ...e.alternatives];
      assert.ok(Math.abs(h100!.runSeconds - run(989, 0.8)) < 1e-6);
      assert.ok(Math.abs(b910!.runSeconds - run(320, 0.95)) < 1e-6);
      assert.ok(Math.abs(mlu!.runSeconds - run(96, 0.5)) < 1e-6);
      assert.deepEqual([h100!.efficiency, b910!.efficiency, mlu!.efficiency], [0.8, 0.95, 0.5]);
      assert.equal(h100!.costFen, Math.round((8 * 3000 * run(989, 0.8)) / 3600));
      assert.deepEqual(
        e.infeasible.map((i) => [i.centerName, i.reason]),
        [['d', 'no-adapted-accelerator']],
      );
    });
  }

  it('keeps a raw command to its allowed chips, at efficiency 1', () => {
    const j = job({ id: 'j', gpus: 8, runtimeHours: 10, hours: 100, allow: ['ascend-910b', 'hygon-z100'], objective: 'fastest' });
    const e = schedule(snapshot({ centers, jobs: [j] })).placements[0]!.explanation;
    // Z100 has no published FP16 figure: as fast as the reference, so it beats the 910B (320 > 312 barely loses to 1).
    assert.deepEqual(
      [e.chosen!, ...e.alternatives].map((o) => [o.centerName, o.efficiency]),
      [
        ['b', 1],
        ['d', 1],
      ],
    );
  });
});

describe('limits', () => {
  const app = { 'nvidia-h100': 1, 'cambricon-mlu370-x8': 1 };
  const centers = [
    center('fast', { region: 'east', pools: [pool('nvidia-h100', { name: 'h100', fenPerAcceleratorHour: 3000, fenPerCoreHour: 0 })] }),
    center('slow', { region: 'west', pools: [pool('cambricon-mlu370-x8', { name: 'mlu', fenPerAcceleratorHour: 200, fenPerCoreHour: 0 })] }),
  ];
  // 4 reference hours: 1h 16m on the H100 (¥37.86), 13h on the MLU370 (¥26.00).
  const base = { id: 'j', gpus: 1, cores: 0, runtimeHours: 4, hours: 24, adaptation: app } as const;
  const cases: readonly [name: string, spec: Parameters<typeof job>[0], placed: string | null, rejected: [string, InfeasibleReason][]][] = [
    ['cheapest takes the slow chip', { ...base, objective: 'cheapest' }, 'slow', []],
    ['a deadline the slow chip misses sends it to the fast one', { ...base, objective: 'cheapest', deadlineInHours: 8 }, 'fast', [['slow', 'misses-deadline']]],
    ['fastest takes the fast chip', { ...base, objective: 'fastest' }, 'fast', []],
    ['a budget the fast chip breaks keeps it on the slow one', { ...base, objective: 'fastest', budgetFen: 3000 }, 'slow', [['fast', 'over-budget']]],
    ['residency keeps it in its region', { ...base, objective: 'cheapest', regions: ['east'] }, 'fast', [['slow', 'residency-forbids']]],
    ['a forbidden chip is never used', { ...base, objective: 'cheapest', forbid: ['cambricon-mlu370-x8'] }, 'fast', [['slow', 'forbidden-accelerator']]],
    [
      'limits nothing meets: it can never run as asked',
      { ...base, deadlineInHours: 8, budgetFen: 3000 },
      null,
      [
        ['fast', 'over-budget'],
        ['slow', 'misses-deadline'],
      ],
    ],
  ];
  for (const [name, spec, placed, rejected] of cases) {
    it(name, () => {
      const result = schedule(snapshot({ centers, jobs: [job(spec)] }));
      const e = (result.placements[0] ?? result.waiting[0]!).explanation;
      assert.equal(result.placements[0]?.option.centerName ?? null, placed);
      assert.deepEqual(
        e.infeasible.map((i) => [i.centerName, i.reason]),
        rejected,
      );
      if (placed === null) {
        assert.deepEqual(e.wait, { kind: 'never' });
        assert.match(e.summary, /^can never run as asked: none of 2 pools can take it \(1 misses-deadline, 1 over-budget\)/);
      }
    });
  }
});

describe('data', () => {
  const datasets = [dataset('corpus', { gb: 500, regions: ['west'] }), dataset('video', { gb: 10_000, regions: ['west'] })];
  const links = [link('east', 'west', { mbps: 1000, latencyMs: 20, fenPerGB: 10 })];
  const centers = [
    center('east', { pools: [pool('nvidia-h100', { name: 'h100', fenPerAcceleratorHour: 900, fenPerCoreHour: 0 })] }),
    center('west', { pools: [pool('ascend-910b', { name: '910b', fenPerAcceleratorHour: 1000, fenPerCoreHour: 0 })] }),
  ];

  it('counts egress in the cost: the pool by the data wins a small price difference', () => {
    const j = job({ id: 'j', gpus: 1, cores: 0, inputs: ['corpus'] });
    const e = schedule(snapshot({ centers, jobs: [j], links, datasets })).placements[0]!.explanation;
    assert.equal(e.chosen!.centerName, 'west');
    const east = e.alternatives[0]!;
    assert.deepEqual([east.computeFen, east.egressFen, east.costFen], [900, 5000, 5900]);
    assert.ok(Math.abs(east.stageInSeconds - (0.02 + (500e9 * 8) / 1e9)) < 1e-9);
    assert.equal(east.completionAt, NOW + Math.round((east.stageInSeconds + HOUR) * 1000));
    assert.deepEqual([e.chosen!.egressFen, e.chosen!.costFen], [0, 1000]);
  });

  it('counts stage-in in the time: fastest runs by the data when moving it takes longer than the faster chip saves', () => {
    const j = job({ id: 'j', gpus: 1, cores: 0, runtimeHours: 2, hours: 10, inputs: ['video'], objective: 'fastest' });
    const e = schedule(snapshot({ centers, jobs: [j], links, datasets })).placements[0]!.explanation;
    assert.equal(e.chosen!.centerName, 'west');
    assert.equal(e.alternatives[0]!.centerName, 'east');
    assert.ok(e.alternatives[0]!.stageInSeconds > 22 * HOUR);
  });
});

describe('explicit weights', () => {
  const cases: readonly [weights: { cost: number; time: number; carbon: number }, expected: string][] = [
    [{ cost: 1, time: 0, carbon: 0 }, 'shanghai'],
    [{ cost: 0, time: 0, carbon: 1 }, 'zhongwei'],
    [{ cost: 1, time: 1, carbon: 1 }, 'guiyang'],
    [{ cost: 1, time: 1, carbon: 0 }, 'shanghai'],
  ];
  for (const [weights, expected] of cases) {
    it(`cost ${weights.cost}, time ${weights.time}, carbon ${weights.carbon} picks ${expected}`, () => {
      const objective = { weights };
      const result = schedule(snapshot({ centers: TRADE_OFFS, jobs: [job({ id: 'j', gpus: 1, cores: 0, objective })] }));
      const e = result.placements[0]!.explanation;
      assert.equal(e.chosen!.centerName, expected);
      assert.deepEqual(e.objective, objective);
      assert.match(e.summary, new RegExp(`^best weighted \\(cost ${weights.cost}, time ${weights.time}, carbon ${weights.carbon}\\) of 4 feasible options: score`));
    });
  }
});
