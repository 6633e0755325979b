import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { JobSubmission } from '../../src/api/client/schemas.js';
import { createUser } from '../../src/engine/accounts.js';
import { expireSilentAgents, heartbeat, registerAgent, reportState, requeueFromDegradedCenters } from '../../src/engine/agents.js';
import { createCenter } from '../../src/engine/centers.js';
import { createContext, type EngineContext } from '../../src/engine/context.js';
import { tick } from '../../src/engine/control-loop.js';
import { submitJob } from '../../src/engine/jobs.js';
import { startLeadership } from '../../src/engine/leadership.js';
import { bridgeSignals, Signals } from '../../src/engine/signals.js';
import { openStore, type Store } from '../../src/store/open-database.js';
import { testDatabases } from '../support/databases.js';

const postgres = (await testDatabases()).find((d) => d.name === 'postgres')!;

/** Two "control-plane processes" in one test: two stores on one PostgreSQL database, each with its own connections. */
describe('leadership and wake-ups across processes (postgres)', { skip: postgres.skip, timeout: 120_000 }, () => {
  let one: Store;
  let two: Store;
  let drop: () => Promise<void>;
  before(async () => {
    const fresh = await postgres.fresh();
    drop = fresh.drop;
    // Both start at once on an empty database: the migrations run once, under their advisory lock.
    [one, two] = await Promise.all([openStore({ databaseUrl: fresh.databaseUrl }), openStore({ databaseUrl: fresh.databaseUrl })]);
  });
  after(async () => {
    await one.close();
    await two.close();
    await drop();
  });

  it('one leader at a time; the other takes over when the leader lets go', async () => {
    const a = startLeadership(one, { retryMs: 100 });
    while (!a.isLeader) await a.changed(1000);
    const b = startLeadership(two, { retryMs: 100 });
    // b has tried (and failed) at least once when its follower state is announced; wait for a few tries.
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(b.isLeader, false, 'the lock is held by the first');
    await a.stop();
    assert.equal(a.isLeader, false);
    while (!b.isLeader) await b.changed(1000);
    await b.stop();
  });

  it('a wake in one process wakes the waiters of the other, not only its own', async () => {
    const s1 = new Signals();
    const s2 = new Signals();
    const b1 = await bridgeSignals(one, s1);
    const b2 = await bridgeSignals(two, s2);
    try {
      const local = s1.arm('center:x', 30_000);
      const remote = s2.arm('center:x', 30_000);
      const other = s2.arm('center:y', 200);
      s1.wake('center:x');
      await Promise.all([local.woken, remote.woken]); // would take 30 s (the test's timeout) if lost
      await other.woken; // its own timeout: another topic is not woken
    } finally {
      await b1.stop();
      await b2.stop();
    }
  });
});

/** Deadlines and times, on embedded PGlite with a clock the test moves. */
describe('agent deadlines count from the control loop term; times are the server’s', { timeout: 120_000 }, () => {
  let store: Store;
  let ctx: EngineContext;
  let now = Date.parse('2026-06-01T08:00:00Z');
  let centerId: string;
  let user: { userId: string; orgId: string };

  before(async () => {
    store = await openStore({});
    ctx = createContext(store, { agentDeadlineMs: 15_000 }, { now: () => now });
    const u = await createUser(ctx, { orgName: 'lab', name: 'alice', role: 'user' });
    user = { userId: u.userId, orgId: u.orgId };
    centerId = (
      await createCenter(ctx, {
        name: 'dc',
        displayName: 'DC',
        region: 'ningxia',
        operatorOrg: 'ops',
        energy: { priceFenPerKwh: Array(24).fill(30), pue: 1.2, carbonKgPerKwh: Array(24).fill(0.5), utcOffsetHours: 8 },
        prices: {},
      })
    ).centerId;
  });
  after(async () => {
    await store.close();
  });

  it('after a long downtime an agent keeps its jobs for a whole deadline from the restart; health.since never shortens it', async () => {
    const reg = await registerAgent(ctx, centerId, {
      connector: 'local',
      agentVersion: 'test',
      pools: [{ name: 'cpu', accelerator: null, acceleratorsPerNode: 0, coresPerNode: 8, memoryMiBPerNode: 8192, nodes: 1 }],
      commands: ['sh', 'sleep'],
      runs: [],
    });
    const { job } = await submitJob(ctx, { kind: 'user', name: 'alice', role: 'user', ...user }, JobSubmission.parse({ command: ['sleep', '100'] }));
    await tick(ctx);
    await tick(ctx);
    // The agent's clock is an hour off either way: its times are clamped between placement and now.
    await reportState(ctx, centerId, reg.sessionId, job.id, { attempt: 1, state: 'running', at: now - 3600_000, exitCode: null, reason: null });
    let row = await store.db.selectFrom('jobs').selectAll().where('id', '=', job.id).executeTakeFirstOrThrow();
    assert.equal(row.state, 'running');
    assert.ok(row.started_at!.getTime() >= row.placed_at!.getTime(), 'started no earlier than placed');

    // The control plane is down for 10 minutes; it restarts (a new term) with the last heartbeat long gone.
    now += 600_000;
    ctx.term.startedAt = now;
    assert.deepEqual(await expireSilentAgents(ctx), [], 'no agent lost at the restart');
    now += 14_000;
    assert.deepEqual(await expireSilentAgents(ctx), [], 'nor within a deadline of it');
    // A degraded report dated long ago (the agent's clock) drains the center, but the deadline counts from now.
    await heartbeat(ctx, centerId, reg.sessionId, { runs: [{ jobId: job.id, attempt: 1, state: 'running', startedAt: now, finishedAt: null, exitCode: null, reason: null }], health: { degraded: true, reason: 'slurmctld down', since: now - 3600_000 } });
    now += 2_000; // past the restart's deadline, but the heartbeat was 2 s ago
    assert.deepEqual(await expireSilentAgents(ctx), []);
    assert.deepEqual(await requeueFromDegradedCenters(ctx), [], 'degraded for 2 s, not an hour');
    row = await store.db.selectFrom('jobs').selectAll().where('id', '=', job.id).executeTakeFirstOrThrow();
    assert.equal(row.attempt, 1);
    assert.equal(row.state, 'running');

    // The agent reports an end before the start (its clock jumped back): clamped to the start.
    await reportState(ctx, centerId, reg.sessionId, job.id, { attempt: 1, state: 'succeeded', at: row.started_at!.getTime() - 60_000, exitCode: 0, reason: null });
    row = await store.db.selectFrom('jobs').selectAll().where('id', '=', job.id).executeTakeFirstOrThrow();
    assert.equal(row.state, 'succeeded');
    assert.ok(row.finished_at!.getTime() >= row.started_at!.getTime(), 'finished no earlier than started');
  });
});
