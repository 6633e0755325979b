/*
 * Plans: a job that does not start now waits for a cheaper or greener hour (time shifting), or holds
 * a reservation at the earliest time its gang fits (EASY backfill), which no later job may delay.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { center, cpuPool, hours, HOUR_MS, job, NOW, pool, snapshot, type JobSpec, type PoolSpec } from './fixtures.js';
import { schedule, type CenterView, type Policy, type ScheduleResult } from './index.js';

/** Where each job went: `center/pool [nodes]`, `reserved center/pool [nodes] +Nh`, `deferred center/pool +Nh`, or `waits`. */
function where(result: ScheduleResult): Record<string, string> {
  const out: Record<string, string> = {};
  const at = (ms: number) => `+${(ms - NOW) / HOUR_MS}h`;
  for (const p of result.placements) out[p.jobId] = `${p.option.centerName}/${p.option.poolName} [${p.nodeIndices.join(',')}]`;
  for (const w of result.waiting) {
    const c = w.explanation.chosen;
    const r = result.reservations.find((x) => x.jobId === w.jobId);
    if (r) out[w.jobId] = `reserved ${c!.centerName}/${c!.poolName} [${r.nodeIndices.join(',')}] ${at(r.startAt)}`;
    else if (c) out[w.jobId] = `deferred ${c.centerName}/${c.poolName} ${at(c.startAt)}`;
    else out[w.jobId] = 'waits';
  }
  return out;
}

// NOW is 10:00 in China. Half price from 23:00 to 07:00; carbon half from 12:00 to 15:00.
const NIGHT_VALLEY = hours(1, 0.5, 23, 7);
const MIDDAY_SUN = hours(0.6, 0.3, 12, 15);
const a100 = (spec: PoolSpec = {}) => pool('nvidia-a100', { name: 'a100', fenPerAcceleratorHour: 1000, fenPerCoreHour: 0, ...spec });
const oneGpu = (spec: JobSpec = {}) => job({ id: 'j', gpus: 1, cores: 0, ...spec });
/** A network whose jobs wait as long as a saving takes (within the look-ahead): plan mechanics without the delay rule. */
const PATIENT: Partial<Policy> = { delayPerSaving: Infinity };

describe('time shifting', () => {
  const tou = [center('east', { pools: [a100({ priceFactorByHour: NIGHT_VALLEY })] })];
  const sunny = [center('east', { carbonKgPerKwh: MIDDAY_SUN, pools: [a100()] })];

  const cases: readonly [name: string, centers: CenterView[], spec: JobSpec, policy: Partial<Policy>, expected: string][] = [
    ['cheapest waits for the night valley when its deadline allows', tou, { objective: 'cheapest', deadlineInHours: 24 }, {}, 'deferred east/a100 +13h'],
    ['without a deadline, cheapest does not wait 13 hours to halve a one-hour job', tou, { objective: 'cheapest' }, {}, 'east/a100 [0]'],
    ['greenest waits for the midday sun when its deadline allows', sunny, { objective: 'greenest', deadlineInHours: 24 }, {}, 'deferred east/a100 +2h'],
    // One hour: half the carbon at 12:00, but done three times later.
    ['without a deadline, greenest does not finish three times later for half the carbon', sunny, { objective: 'greenest' }, {}, 'east/a100 [0]'],
    // Three hours from now: 1.5 units of carbon; from 12:00: 0.9, 40% less for finishing 67% later.
    ['without a deadline, greenest waits when the saving pays for the delay', sunny, { objective: 'greenest', hours: 3 }, {}, 'deferred east/a100 +2h'],
    ['… and not when the network values time more', sunny, { objective: 'greenest', hours: 3 }, { delayPerSaving: 1 }, 'east/a100 [0]'],
    ['weights on cost wait too', tou, { objective: { weights: { cost: 1, time: 0, carbon: 0 } }, deadlineInHours: 24 }, {}, 'deferred east/a100 +13h'],
    ['a deadline before the cheap hour starts it now', tou, { objective: 'cheapest', deadlineInHours: 5 }, {}, 'east/a100 [0]'],
    ['a deadline that leaves room for the cheap hour does not', tou, { objective: 'cheapest', deadlineInHours: 14 }, {}, 'deferred east/a100 +13h'],
    ['a cheap hour beyond the look-ahead starts it now', tou, { objective: 'cheapest' }, { lookAheadHours: 12 }, 'east/a100 [0]'],
    ['fastest never waits for an hour', tou, { objective: 'fastest' }, {}, 'east/a100 [0]'],
    ['balanced does not wait 13 hours for a one-hour job', tou, { objective: 'balanced' }, {}, 'east/a100 [0]'],
    ['greenest ignores prices', tou, { objective: 'greenest' }, {}, 'east/a100 [0]'],
    ['cheapest ignores the sun', sunny, { objective: 'cheapest' }, {}, 'east/a100 [0]'],
    ['a saving below the threshold is not worth waiting for', tou, { objective: 'cheapest' }, { minSavingToWait: 0.6 }, 'east/a100 [0]'],
    ['a budget met only at night makes it wait', tou, { objective: 'fastest', budgetFen: 600 }, {}, 'deferred east/a100 +13h'],
  ];
  for (const [name, centers, spec, policy, expected] of cases) {
    it(name, () => {
      const result = schedule(snapshot({ centers, jobs: [oneGpu(spec)] }), policy);
      assert.deepEqual(where(result), { j: expected });
      if (expected.startsWith('deferred')) {
        const e = result.waiting[0]!.explanation;
        assert.deepEqual(e.wait, { kind: 'better-hour', until: e.chosen!.startAt });
        assert.equal(e.chosen!.start, 'deferred');
        assert.deepEqual(result.reservations, [], 'a deferred job holds nothing');
      }
    });
  }

  it('says what the wait saves, and when it ends', () => {
    const cheap = schedule(snapshot({ centers: tou, jobs: [oneGpu()] }), PATIENT).waiting[0]!.explanation;
    assert.equal(
      cheap.summary,
      'waits for a cheaper hour: ¥5.00 at east/a100 from Jan 15 23:00 UTC+8, done by Jan 16 00:00 UTC+8, vs ¥10.00 at east/a100 starting now',
    );
    const green = schedule(snapshot({ centers: sunny, jobs: [oneGpu({ objective: 'greenest' })] }), PATIENT).waiting[0]!.explanation;
    assert.equal(
      green.summary,
      'waits for a greener hour: 0.15 kg CO2e at east/a100 from Jan 15 12:00 UTC+8, done by Jan 15 13:00 UTC+8, vs 0.30 kg CO2e at east/a100 starting now',
    );
    const budget = schedule(snapshot({ centers: tou, jobs: [oneGpu({ objective: 'fastest', budgetFen: 600 })] })).waiting[0]!.explanation;
    assert.equal(
      budget.summary,
      'waits for a cheaper hour: at east/a100 from Jan 15 23:00 UTC+8, done by Jan 16 00:00 UTC+8; starting now would break its budget ¥6.00',
    );
  });

  it('integrates over the run: a long run starts where its hours are cheapest on the whole', () => {
    // Six hours of run: starting at 01:00 ends at 07:00, all in the valley; 23:00 would too, and comes first.
    const result = schedule(snapshot({ centers: tou, jobs: [oneGpu({ hours: 6 })] }), PATIENT);
    assert.deepEqual(where(result), { j: 'deferred east/a100 +13h' });
    assert.equal(result.waiting[0]!.explanation.chosen!.costFen, 3000);
    // Ten hours cannot fit in the eight-hour valley: the best start covers it all plus two full-price hours.
    const long = schedule(snapshot({ centers: tou, jobs: [oneGpu({ hours: 10 })] }), PATIENT).waiting[0]!.explanation.chosen!;
    assert.equal(long.costFen, 8 * 500 + 2 * 1000);
  });

  it('weighs the saving against the best start now anywhere, not only on the same pool', () => {
    const centers = (flatRate: number) => [
      center('east', { pools: [a100({ priceFactorByHour: NIGHT_VALLEY })] }),
      center('west', { pools: [a100({ fenPerAcceleratorHour: flatRate })] }),
    ];
    // West costs ¥6.00 now: the night on east (¥5.00) saves 17%, worth the wait.
    assert.deepEqual(where(schedule(snapshot({ centers: centers(600), jobs: [oneGpu()] }), PATIENT)), { j: 'deferred east/a100 +13h' });
    // At ¥5.20 it saves under 10%: west now.
    assert.deepEqual(where(schedule(snapshot({ centers: centers(520), jobs: [oneGpu()] }), PATIENT)), { j: 'west/a100 [0]' });
  });

  it('starts the job when its hour comes (the plan is recomputed every pass)', () => {
    const later = schedule(snapshot({ centers: tou, jobs: [oneGpu()], now: NOW + 13 * HOUR_MS }), PATIENT);
    assert.deepEqual(where(later), { j: 'east/a100 [0]' });
    assert.equal(later.placements[0]!.option.costFen, 500);
    const halfway = schedule(snapshot({ centers: tou, jobs: [oneGpu()], now: NOW + 6.5 * HOUR_MS }), PATIENT);
    assert.deepEqual(where(halfway), { j: 'deferred east/a100 +13h' }, 'the same hour, half a day on');
    const first = schedule(snapshot({ centers: tou, jobs: [oneGpu()] }), PATIENT).waiting[0]!.explanation.summary;
    assert.equal(halfway.waiting[0]!.explanation.summary, first, 'the same sentence: a stored one does not go stale');
  });

  it('holds no capacity while it waits', () => {
    const centers = [center('east', { pools: [a100({ nodes: 1, perNode: 1, priceFactorByHour: NIGHT_VALLEY })] })];
    const jobs = [oneGpu({ id: 'cheap', submittedAt: 1 }), oneGpu({ id: 'fast', objective: 'fastest', submittedAt: 2 })];
    assert.deepEqual(where(schedule(snapshot({ centers, jobs }), PATIENT)), { cheap: 'deferred east/a100 +13h', fast: 'east/a100 [0]' });
  });
});

describe('reservations and backfill', () => {
  // Five nodes of 8 A100s: nodes 0–1 busy for 2 hours (one gang), node 2 for 3 hours, nodes 3–4 free.
  const busy = () => [
    center('east', {
      pools: [
        a100({
          nodes: 5,
          running: [
            { nodes: [0, 1], endsInHours: 2, jobId: 'old-gang' },
            { nodes: [2], endsInHours: 3, jobId: 'old-single' },
          ],
        }),
      ],
    }),
  ];
  const gang = (id: string, priority: number, spec: JobSpec = {}) => job({ id, gpus: 8, nodes: 3, hours: 4, priority, ...spec });
  const single = (id: string, priority: number, hoursLong: number) => job({ id, gpus: 8, hours: hoursLong, priority });

  it('reserves the earliest time the head gang fits, and backfills only what cannot delay it', () => {
    const jobs = [gang('head', 3), single('long', 2, 5), single('long2', 1, 5), single('short', 0, 1)];
    const result = schedule(snapshot({ centers: busy(), jobs }));
    assert.deepEqual(where(result), {
      head: 'reserved east/a100 [0,1,3] +2h', // nodes 0 and 1 come back in two hours; node 3 is free
      long: 'east/a100 [4]', // node 4 is not needed at +2h: it may run past it
      long2: 'waits', // node 3 is free now, but needed at +2h
      short: 'east/a100 [3]', // done within the hour, before the reservation starts
    });
    const [r] = result.reservations;
    assert.equal(r!.option.start, 'reservation');
    assert.equal(r!.option.completionAt, NOW + 6 * HOUR_MS);
    const head = result.waiting.find((w) => w.jobId === 'head')!.explanation;
    assert.deepEqual(head.wait, { kind: 'capacity', reservedAt: NOW + 2 * HOUR_MS });
    assert.equal(head.summary, 'waits for capacity: reserved east/a100 from Jan 15 12:00 UTC+8, done by Jan 15 16:00 UTC+8');
    const blocked = result.waiting.find((w) => w.jobId === 'long2')!.explanation;
    assert.deepEqual(blocked.wait, { kind: 'capacity', reservedAt: null });
    assert.equal(
      blocked.infeasible[0]!.detail,
      '1 node with 8 nvidia-a100, 4 cores, 16 GiB each has room now, but job head holds a reservation on them from Jan 15 12:00 UTC+8 ' +
        'and this one could run until Jan 15 15:00 UTC+8',
    );
  });

  it('lets a job that ends exactly when the reservation starts backfill', () => {
    const jobs = [gang('head', 3), single('two', 2, 2), single('three', 1, 2)];
    assert.deepEqual(where(schedule(snapshot({ centers: busy(), jobs }))), {
      head: 'reserved east/a100 [0,1,3] +2h',
      two: 'east/a100 [3]',
      three: 'east/a100 [4]',
    });
  });

  it('counts a backfill candidate’s stage-in with its walltime', () => {
    // Two hours of walltime plus a long transfer would outlast the reservation on node 3.
    const result = schedule(
      snapshot({
        centers: [{ ...busy()[0]!, region: 'east' }],
        jobs: [gang('head', 3), job({ id: 'staged', gpus: 8, hours: 2, priority: 2, inputs: ['big'] }), single('plain', 1, 2)],
        links: [{ fromRegion: 'west', toRegion: 'east', bandwidthMbps: 1000, latencyMs: 10, egressFenPerGB: 0 }],
        datasets: [{ id: 'big', bytes: 100e9, regions: ['west'] }],
      }),
    );
    assert.deepEqual(where(result), { head: 'reserved east/a100 [0,1,3] +2h', staged: 'east/a100 [4]', plain: 'east/a100 [3]' });
  });

  it('makes no reservation from capacity whose end it does not know, or when told not to', () => {
    const unknown = [center('east', { pools: [a100({ nodes: 5, busyNodes: 3 })] })];
    const jobs = [gang('head', 3), single('long', 2, 5), single('long2', 1, 5)];
    assert.deepEqual(where(schedule(snapshot({ centers: unknown, jobs }))), { head: 'waits', long: 'east/a100 [3]', long2: 'east/a100 [4]' });
    assert.deepEqual(where(schedule(snapshot({ centers: busy(), jobs }), { maxReservations: 0 })), {
      head: 'waits',
      long: 'east/a100 [3]',
      long2: 'east/a100 [4]',
    });
  });

  it('holds at most one reservation per pool; the next blocked job reserves elsewhere', () => {
    const centers = [
      busy()[0]!,
      center('west', { pools: [a100({ nodes: 3, fenPerAcceleratorHour: 2000, running: [{ nodes: [0, 1, 2], endsInHours: 5 }] })] }),
    ];
    const jobs = [gang('first', 3), gang('second', 2)];
    assert.deepEqual(where(schedule(snapshot({ centers, jobs }))), {
      first: 'reserved east/a100 [0,1,3] +2h',
      second: 'reserved west/a100 [0,1,2] +5h',
    });
    assert.deepEqual(where(schedule(snapshot({ centers, jobs }), { maxReservations: 1 })), {
      first: 'reserved east/a100 [0,1,3] +2h',
      second: 'waits',
    });
  });

  it('reserves the best plan under the objective: the cheaper pool later, or the sooner one', () => {
    const centers = [
      center('dear', { pools: [a100({ nodes: 1, fenPerAcceleratorHour: 3000, running: [{ nodes: [0], endsInHours: 1 }] })] }),
      center('cheap', { pools: [a100({ nodes: 1, fenPerAcceleratorHour: 1000, running: [{ nodes: [0], endsInHours: 6 }] })] }),
    ];
    // Cheapest: the third of the price is worth finishing five hours later when its deadline allows it, not otherwise.
    assert.deepEqual(where(schedule(snapshot({ centers, jobs: [job({ id: 'j', gpus: 8, deadlineInHours: 12 })] }))), { j: 'reserved cheap/a100 [0] +6h' });
    assert.deepEqual(where(schedule(snapshot({ centers, jobs: [single('j', 0, 1)] }))), { j: 'reserved dear/a100 [0] +1h' });
    assert.deepEqual(where(schedule(snapshot({ centers, jobs: [job({ id: 'j', gpus: 8, objective: 'fastest' })] }))), {
      j: 'reserved dear/a100 [0] +1h',
    });
    assert.deepEqual(where(schedule(snapshot({ centers, jobs: [job({ id: 'j', gpus: 8, deadlineInHours: 3 })] }))), {
      j: 'reserved dear/a100 [0] +1h',
    });
  });

  it('with nothing to start now, reserves the soonest plan unless a later one saves enough, soon enough', () => {
    const centers = (cheapInHours: number) => [
      center('dear', { pools: [a100({ nodes: 1, fenPerAcceleratorHour: 3000, running: [{ nodes: [0], endsInHours: 1 }] })] }),
      center('cheap', { pools: [a100({ nodes: 1, fenPerAcceleratorHour: 1000, running: [{ nodes: [0], endsInHours: cheapInHours }] })] }),
    ];
    assert.deepEqual(where(schedule(snapshot({ centers: centers(6), jobs: [single('j', 0, 1)] }), PATIENT)), { j: 'reserved cheap/a100 [0] +6h' });
    assert.deepEqual(where(schedule(snapshot({ centers: centers(30), jobs: [single('j', 0, 1)] }), PATIENT)), { j: 'reserved dear/a100 [0] +1h' });
    assert.deepEqual(where(schedule(snapshot({ centers: centers(30), jobs: [single('j', 0, 1)] }), { ...PATIENT, lookAheadHours: 48 })), {
      j: 'reserved cheap/a100 [0] +30h',
    });
    const e = schedule(snapshot({ centers: centers(30), jobs: [single('j', 0, 1)] }), PATIENT).waiting[0]!.explanation;
    assert.deepEqual(
      e.alternatives.map((o) => [o.centerName, o.start, o.costFen]),
      [['cheap', 'reservation', 8000]],
      'the cheaper, later plan is shown, not taken',
    );
  });

  it('waits for a reservation that pays off, within the look-ahead', () => {
    // 4 reference hours: 13h on the free MLU370, 1h 15m on the H100 once it is free in an hour.
    const centers = [
      center('slow', { pools: [pool('cambricon-mlu370-x8', { name: 'mlu', nodes: 1 })] }),
      center('fast', { pools: [pool('nvidia-h100', { name: 'h100', nodes: 1, running: [{ nodes: [0], endsInHours: 1 }] })] }),
    ];
    const fastest = (id: string) => job({ id, gpus: 8, runtimeHours: 4, hours: 20, objective: 'fastest', submittedAt: id === 'a' ? 1 : 2 });
    const result = schedule(snapshot({ centers, jobs: [fastest('a'), fastest('b')] }));
    assert.deepEqual(where(result), { a: 'reserved fast/h100 [0] +1h', b: 'slow/mlu [0]' });
    assert.equal(
      result.waiting[0]!.explanation.summary,
      'waits for a reservation that pays off: at fast/h100 from Jan 15 11:00 UTC+8, done by Jan 15 12:15 UTC+8, ' +
        'vs done in 13h 00m at slow/mlu starting now',
    );
    assert.deepEqual(where(schedule(snapshot({ centers, jobs: [fastest('a')] }), { lookAheadHours: 0.5 })), { a: 'slow/mlu [0]' });
  });

  it('never lets a later job take a node a reservation needs, in any dimension', () => {
    // Node 0 has 4 GPUs and 56 cores free, and gets 4 GPUs and 8 cores back in an hour, when the
    // head takes 8 GPUs and 60 cores: 4 cores are to spare then, and no GPU.
    const centers = [
      center('east', { pools: [a100({ nodes: 1, running: [{ nodes: [0], endsInHours: 1, perNode: { accelerators: 4, cores: 8, memoryMiB: 0 } }] })] }),
    ];
    const jobs = [
      job({ id: 'head', gpus: 8, cores: 60, priority: 3 }),
      job({ id: 'gpu', gpus: 1, cores: 1, hours: 2, priority: 2 }),
      job({ id: 'five', cores: 5, hours: 2, priority: 1 }),
      job({ id: 'four', cores: 4, hours: 2, submittedAt: 1 }),
      job({ id: 'more', cores: 4, hours: 2, submittedAt: 2 }),
      job({ id: 'brief', gpus: 4, cores: 40, hours: 1, submittedAt: 3 }),
    ];
    assert.deepEqual(where(schedule(snapshot({ centers, jobs }))), {
      head: 'reserved east/a100 [0] +1h',
      gpu: 'waits',
      five: 'waits',
      four: 'east/a100 [0]',
      more: 'waits',
      brief: 'east/a100 [0]', // gone when the head starts
    });
  });

  it('lets a CPU job use what a reservation leaves over on its nodes', () => {
    const centers = [center('east', { pools: [a100({ nodes: 1, cores: 64, running: [{ nodes: [0], endsInHours: 1, perNode: { accelerators: 8, cores: 8, memoryMiB: 0 } }] })] })];
    const jobs = [job({ id: 'head', gpus: 8, cores: 32, priority: 1 }), job({ id: 'cpu', cores: 16, hours: 5 })];
    assert.deepEqual(where(schedule(snapshot({ centers, jobs }))), { head: 'reserved east/a100 [0] +1h', cpu: 'east/a100 [0]' });
  });

  it('has a CPU job wait for the CPU pool rather than pay for accelerator nodes’ cores, when that pays off', () => {
    const centers = [
      center('east', { pools: [cpuPool({ nodes: 1, running: [{ nodes: [0], endsInHours: 1 }] }), a100({ nodes: 1, fenPerCoreHour: 40 })] }),
    ];
    const jobs = [job({ id: 'cpu', cores: 64, priority: 1 }), job({ id: 'gpu', gpus: 8, hours: 8 })];
    assert.deepEqual(where(schedule(snapshot({ centers, jobs }))), { cpu: 'reserved east/cpu [0] +1h', gpu: 'east/a100 [0]' });
  });
});
