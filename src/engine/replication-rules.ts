import { SuanwangError } from '../core/errors.js';
import { REGION_PLACES } from '../core/regions.js';
import { planReplicas, type ReplicaRule, type ReplicaState } from '../data/index.js';
import { listCenters } from '../store/centers.js';
import { dataPorts, getVersion, latestSealed } from '../store/data-plane.js';
import { activeRules, endRule, expireRules, getRule, insertRule, rulesOfDataset, type RuleRow } from '../store/replication-rules.js';
import type { CenterRow, RuleScope } from '../store/schema.js';
import type { Queryable } from '../store/transaction.js';
import type { EngineContext } from './context.js';
import { datasetOf, ensureTransfer, type User } from './data-plane.js';

/*
 * Replication rules at runtime (docs/data.md): users declare "N copies of dataset D at centers of
 * region/hub/list S for K days"; the leader's control loop plans the missing replicas of each
 * dataset's newest sealed version with src/data/replica-rules.ts and queues a `replicate` transfer
 * for each; a rule past its time is expired and pins nothing any more.
 */

const DAY_MS = 86_400_000;

export interface RuleInput {
  readonly copies: number;
  readonly region?: string | undefined;
  readonly hub?: string | undefined;
  readonly centers?: readonly string[] | undefined;
  /** Days the rule holds; absent: until deleted. */
  readonly days?: number | undefined;
}

export interface RuleView {
  readonly id: string;
  readonly dataset: string;
  readonly datasetId: string;
  readonly copies: number;
  /** What the copies may go to, as the user said it: "region ningxia", "hub west", "centers a, b". */
  readonly scope: string;
  /** The centers in scope now, by name. */
  readonly centers: readonly string[];
  /** Centers in scope holding the newest sealed version complete. */
  readonly held: readonly string[];
  readonly state: RuleRow['state'];
  readonly expiresAt: string | null;
  readonly createdAt: string;
  readonly endedAt: string | null;
}

/** The centers a scope names, in preference order (by name). */
function centersIn(scope: RuleScope, centers: readonly CenterRow[]): CenterRow[] {
  if ('region' in scope) return centers.filter((c) => c.region === scope.region);
  if ('hub' in scope) return centers.filter((c) => REGION_PLACES[c.region]?.hub === scope.hub);
  const ids = new Set(scope.centers);
  return centers.filter((c) => ids.has(c.id));
}

function scopeText(scope: RuleScope, centers: readonly CenterRow[]): string {
  if ('region' in scope) return `region ${scope.region}`;
  if ('hub' in scope) return `hub ${scope.hub}`;
  const names = new Map(centers.map((c) => [c.id, c.name]));
  return `centers ${scope.centers.map((id) => names.get(id) ?? id).join(', ')}`;
}

/** Checks a rule's input against the network; every refusal names the field, the value and the fix. */
async function checkRule(q: Queryable, input: RuleInput): Promise<{ scope: RuleScope; inScope: CenterRow[] }> {
  const given = (['region', 'hub', 'centers'] as const).filter((k) => input[k] !== undefined);
  if (given.length !== 1) {
    throw new SuanwangError('invalid_request', `a rule names where its copies go once: got ${given.length === 0 ? 'none' : given.join(' and ')}`, { field: 'region', hint: 'give one of --region R, --hub east|west or --center C (repeatable)' });
  }
  if (!Number.isInteger(input.copies) || input.copies < 1 || input.copies > 100) {
    throw new SuanwangError('invalid_field', `copies is ${JSON.stringify(input.copies)}`, { field: 'copies', hint: 'give a whole number of copies from 1 to 100' });
  }
  if (input.days !== undefined && !(Number.isFinite(input.days) && input.days > 0 && input.days <= 3650)) {
    throw new SuanwangError('invalid_field', `days is ${JSON.stringify(input.days)}`, { field: 'days', hint: 'give a number of days above 0 and at most 3650, or leave it out for a rule that holds until deleted' });
  }
  const all = await listCenters(q);
  let scope: RuleScope;
  if (input.region !== undefined) {
    if (!all.some((c) => c.region === input.region)) {
      const regions = [...new Set(all.map((c) => c.region))].sort();
      throw new SuanwangError('invalid_field', `no center is in region ${JSON.stringify(input.region).slice(0, 80)}`, { field: 'region', hint: `give a region with centers: ${regions.join(', ') || '(none yet)'}` });
    }
    scope = { region: input.region };
  } else if (input.hub !== undefined) {
    if (input.hub !== 'east' && input.hub !== 'west') throw new SuanwangError('invalid_field', `hub is ${JSON.stringify(input.hub).slice(0, 80)}`, { field: 'hub', hint: 'give east or west (the national hubs of 东数西算)' });
    scope = { hub: input.hub };
  } else {
    const names = [...new Set(input.centers!)];
    if (names.length === 0) throw new SuanwangError('invalid_field', 'centers is empty', { field: 'centers', hint: 'name at least one center' });
    const byName = new Map(all.map((c) => [c.name, c]));
    const unknown = names.find((n) => !byName.has(n));
    if (unknown !== undefined) throw new SuanwangError('center_not_found', `no center named ${JSON.stringify(unknown).slice(0, 80)}`, { field: 'centers', hint: '`suanwang centers` lists them' });
    scope = { centers: names.map((n) => byName.get(n)!.id) };
  }
  const inScope = centersIn(scope, all);
  if (inScope.length < input.copies) {
    throw new SuanwangError('invalid_field', `copies is ${input.copies}, but ${scopeText(scope, all)} has ${inScope.length} center${inScope.length === 1 ? '' : 's'}`, {
      field: 'copies',
      hint: `ask for at most ${inScope.length} copies there, or widen the scope (a hub, more centers)`,
    });
  }
  return { scope, inScope };
}

/** Declares a rule on a dataset of the caller's org. The next pass of the control loop applies it. */
export async function createRule(ctx: EngineContext, user: User, name: string, input: RuleInput): Promise<RuleView> {
  const d = await datasetOf(ctx, user, name);
  const { scope } = await checkRule(ctx.store.db, input);
  const now = ctx.now();
  const id = ctx.newId('replicationRule');
  await insertRule(ctx.store.db, { id, orgId: user.orgId, datasetId: d.id, copies: input.copies, scope, expiresAt: input.days === undefined ? null : new Date(now.getTime() + Math.round(input.days * DAY_MS)), createdAt: now });
  ctx.rules.changed = true;
  ctx.signals.wake('tick');
  return (await viewRules(ctx, d.name, [(await getRule(ctx.store.db, id))!]))[0]!;
}

/** A dataset's rules (the caller's org's only), newest first. */
export async function listRules(ctx: EngineContext, user: User, name: string): Promise<RuleView[]> {
  const d = await datasetOf(ctx, user, name);
  return viewRules(ctx, d.name, await rulesOfDataset(ctx.store.db, d.id));
}

/** Deletes a rule of the caller's org: it pins nothing from now on (its replicas stay until evicted). */
export async function deleteRule(ctx: EngineContext, user: User, id: string): Promise<RuleView> {
  const r = await getRule(ctx.store.db, id);
  if (!r || r.orgId !== user.orgId) throw new SuanwangError('not_found', `your org has no replication rule ${JSON.stringify(id).slice(0, 80)}`, { field: 'id', hint: '`suanwang datasets rules NAME` lists a dataset\'s rules' });
  await endRule(ctx.store.db, id, 'deleted', ctx.now());
  const ds = await ctx.store.db.selectFrom('datasets').select('name').where('id', '=', r.datasetId).executeTakeFirst();
  return (await viewRules(ctx, ds?.name ?? r.datasetId, [(await getRule(ctx.store.db, id))!]))[0]!;
}

async function viewRules(ctx: EngineContext, dataset: string, rules: readonly RuleRow[]): Promise<RuleView[]> {
  if (rules.length === 0) return [];
  const all = await listCenters(ctx.store.db);
  const latest = (await latestSealed(ctx.store.db, [rules[0]!.datasetId])).get(rules[0]!.datasetId);
  const holding = new Set(latest ? await completeAt(ctx.store.db, [latest.id]).then((m) => m.get(latest.id) ?? []) : []);
  return rules.map((r) => {
    const inScope = centersIn(r.scope, all);
    return {
      id: r.id,
      dataset,
      datasetId: r.datasetId,
      copies: r.copies,
      scope: scopeText(r.scope, all),
      centers: inScope.map((c) => c.name),
      held: inScope.filter((c) => holding.has(c.id)).map((c) => c.name),
      state: r.state,
      expiresAt: r.expiresAt?.toISOString() ?? null,
      createdAt: r.createdAt.toISOString(),
      endedAt: r.endedAt?.toISOString() ?? null,
    };
  });
}

/** Centers holding each version complete, in one query. */
async function completeAt(q: Queryable, versionIds: readonly string[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  if (versionIds.length === 0) return out;
  const rows = await q.selectFrom('version_replicas').select(['version_id', 'center_id']).where('version_id', 'in', [...versionIds]).where('state', '=', 'complete').execute();
  for (const r of rows) out.set(r.version_id, [...(out.get(r.version_id) ?? []), r.center_id]);
  return out;
}

export interface RulesPass {
  readonly expired: readonly string[];
  /** Transfers queued by this pass. */
  readonly queued: number;
  /** Replicas of the newest sealed versions that active rules pin, as `replicaKey(versionId, centerId)`. */
  readonly pinned: ReadonlySet<string>;
}

/**
 * One pass over the rules (the control loop runs it on the leader, every `rulesEveryMs`): expires
 * the rules whose time is up, then plans every active rule against the replicas of its dataset's
 * newest sealed version and queues a `replicate` transfer for each missing one. A fixed handful of
 * queries whatever the number of rules and datasets; none but the first when no rule is active.
 */
export async function applyReplicationRules(ctx: EngineContext): Promise<RulesPass> {
  const q = ctx.store.db;
  const now = ctx.now();
  const expired = await expireRules(q, now);
  const p = await planActiveRules(q, now);
  if (!p) return { expired, queued: 0, pinned: new Set() };
  const { plan, rules, complete, centers, ready } = p;
  const byId = new Map(rules.map((r) => [r.id, r]));
  let queued = 0;
  for (const add of plan.add) {
    const center = centers.find((c) => c.id === add.center);
    if (!center || !ready(center)) continue; // the rule stays short until a center in scope can take it
    if ((complete.get(add.datasetId) ?? []).length === 0) continue; // no source to copy from yet
    const version = (await getVersion(q, add.datasetId))!;
    await ensureTransfer(ctx, { orgId: byId.get(add.ruleId)!.orgId, version, centerId: add.center, kind: 'replicate', jobId: null });
    queued++;
  }
  return { expired, queued, pinned: plan.pinned };
}

/** The replicas active rules pin now, as `replicaKey(versionId, centerId)` (eviction keeps them). */
export async function rulePins(q: Queryable, now: Date): Promise<ReadonlySet<string>> {
  return (await planActiveRules(q, now))?.plan.pinned ?? new Set();
}

/** The active rules planned against the replicas of their datasets' newest sealed versions; null: no active rule. */
async function planActiveRules(q: Queryable, now: Date) {
  const rules = await activeRules(q);
  if (rules.length === 0) return null;
  const latest = await latestSealed(q, [...new Set(rules.map((r) => r.datasetId))]);
  const versionIds = [...latest.values()].map((v) => v.id);
  const complete = await completeAt(q, versionIds);
  const pendingRows = versionIds.length === 0 ? [] : await q.selectFrom('transfers').select(['version_id', 'to_center_id']).where('version_id', 'in', versionIds).where('state', 'in', ['queued', 'running']).execute();
  const centers = await listCenters(q);
  const ports = await dataPorts(q, centers.map((c) => c.id));
  // New copies go to online centers with a data port first; the others stay in scope (a copy already
  // there counts) after them.
  const ready = (c: CenterRow) => c.state === 'online' && ports.has(c.id);
  const planned: ReplicaRule[] = [];
  for (const r of rules) {
    const v = latest.get(r.datasetId);
    if (!v) continue; // nothing sealed yet: the rule waits for the first version
    const inScope = centersIn(r.scope, centers).sort((a, b) => Number(ready(b)) - Number(ready(a)));
    planned.push({ id: r.id, datasetId: v.id, copies: r.copies, centers: inScope.map((c) => c.id), expiresAt: r.expiresAt?.getTime() ?? null });
  }
  const replicas: ReplicaState[] = [
    ...[...complete].flatMap(([versionId, cs]) => cs.map((c) => ({ datasetId: versionId, center: c, state: 'complete' as const }))),
    ...pendingRows.map((t) => ({ datasetId: t.version_id, center: t.to_center_id, state: 'pending' as const })),
  ];
  const plan = planReplicas(planned, replicas, now.getTime());
  return { plan, rules, complete, centers, ready };
}
