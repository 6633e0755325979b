import { createHash } from 'node:crypto';
import { signGrant } from '../core/data-grant.js';
import { SuanwangError } from '../core/errors.js';
import { canonicalManifest, checkDatasetName, checkManifest, manifestBytes, type Manifest } from '../data/index.js';
import { findCenterByName, getCenter, listCenters } from '../store/centers.js';
import {
  activeTransfer,
  activeTransfersTo,
  completeReplica,
  completeReplicas,
  dataPorts,
  getTransfer,
  getVersion,
  insertTransfer,
  insertVersion,
  latestSealed,
  sealVersion,
  touchReplica,
  transfersOfOrg,
  updateTransfer,
  upsertDataPort,
  versionsOf,
  type VersionRow,
} from '../store/data-plane.js';
import { findDatasetByName, insertDataset } from '../store/datasets.js';
import { addJobEvent, getJob, lockJob } from '../store/jobs.js';
import type { TransferRow, TransferState } from '../store/schema.js';
import { inTransaction, type Queryable } from '../store/transaction.js';
import type { Principal } from './accounts.js';
import type { EngineContext } from './context.js';
import { endJobOutput } from './job-outputs.js';

/*
 * The data plane's control side (docs/data.md). Bytes never pass through here: users and agents move
 * them between centers' data ports with grants this module signs; it keeps the versions, where they
 * are held, and the transfers that move them, and hands each agent the transfers into its center.
 */

export type User = Extract<Principal, { kind: 'user' }>;

/** How long a grant holds: long enough for a large upload; a new one is a request away. */
const GRANT_MS = 6 * 3600_000;

export interface DataPortGrant {
  readonly center: string;
  readonly url: string;
  readonly grant: string;
}

/** An agent tells where its data port listens and the key its grants are signed with. */
export async function registerDataPort(ctx: EngineContext, centerId: string, port: { url: string; key: string }): Promise<void> {
  await upsertDataPort(ctx.store.db, centerId, port.url, port.key, ctx.now());
}

async function grantAt(ctx: EngineContext, q: Queryable, centerId: string, versionId: string, mode: 'r' | 'w'): Promise<DataPortGrant> {
  const port = (await dataPorts(q, [centerId])).get(centerId);
  const center = await getCenter(q, centerId);
  if (!port || !center) {
    throw new SuanwangError('unavailable', `center ${center?.name ?? centerId} has no data port yet`, { hint: 'its agent registers one when it starts; try again shortly' });
  }
  return { center: center.name, url: port.url, grant: signGrant({ center: centerId, version: versionId, mode, expiresAt: ctx.now().getTime() + GRANT_MS }, port.key) };
}

export async function datasetOf(ctx: EngineContext, user: User, name: string) {
  const d = await findDatasetByName(ctx.store.db, user.orgId, name);
  if (!d) throw new SuanwangError('dataset_not_found', `your org has no dataset named ${JSON.stringify(name)}`, { field: 'name', hint: '`suanwang datasets ls` lists yours' });
  return d;
}

/**
 * Opens a version of dataset `name` (made when new) with `manifest`, at `center` (or the first
 * online center with a data port), and returns an upload grant for that center's data port. The
 * same manifest pushed again while its version is still open reuses it: the upload resumes.
 */
export async function startUpload(
  ctx: EngineContext,
  user: User,
  name: string,
  input: { manifest: { chunkBytes: number; files: { path: string; bytes: number; chunks: string[] }[] }; center?: string | undefined },
): Promise<{ datasetId: string; versionId: string; version: number; state: 'open' | 'sealed'; port: DataPortGrant }> {
  checkDatasetName(name, 'name'); // the one rule for dataset names (job outputs use it too)
  const manifest = checkManifest(input.manifest, 'manifest');
  const digest = createHash('sha256').update(canonicalManifest(manifest)).digest('hex');
  const centerId = await uploadCenter(ctx, input.center);
  await grantAt(ctx, ctx.store.db, centerId, 'check', 'w'); // no data port there: refused before anything is written
  const now = ctx.now();
  const result = await inTransaction(ctx.store.db, async (trx) => {
    let dataset = await findDatasetByName(trx, user.orgId, name);
    if (!dataset) {
      const id = ctx.newId('dataset');
      await insertDataset(trx, { id, orgId: user.orgId, name, bytes: 0, centerIds: [], at: now });
      dataset = (await findDatasetByName(trx, user.orgId, name))!;
    }
    const versions = await versionsOf(trx, dataset.id);
    const same = versions.find((v) => v.digest === digest && (v.state === 'open' ? v.centerId === centerId : true));
    if (same) return { datasetId: dataset.id, version: same };
    const v: VersionRow = { id: ctx.newId('datasetVersion'), datasetId: dataset.id, version: (versions[0]?.version ?? 0) + 1, state: 'open', digest, manifest: manifest as VersionRow['manifest'], bytes: manifestBytes(manifest), centerId };
    await insertVersion(trx, { ...v, at: now });
    return { datasetId: dataset.id, version: v };
  });
  const v = result.version;
  return { datasetId: result.datasetId, versionId: v.id, version: v.version, state: v.state, port: await grantAt(ctx, ctx.store.db, v.state === 'open' ? v.centerId : centerId, v.id, 'w') };
}

async function uploadCenter(ctx: EngineContext, name: string | undefined): Promise<string> {
  if (name !== undefined) {
    const c = await findCenterByName(ctx.store.db, name);
    if (!c) throw new SuanwangError('center_not_found', `no center named ${name}`, { field: 'center', hint: '`suanwang centers` lists them' });
    return c.id;
  }
  const first = (await uploadTargets(ctx))[0];
  if (!first) throw new SuanwangError('unavailable', 'no online center has a data port', { hint: 'start a center agent, or name one with --center' });
  return first.id;
}

/**
 * The centers an upload may go to: online, with a data port; by name. The control plane does not
 * know where a user is, so a client picks the nearest of them by measuring (docs/data.md); without
 * a center named, an upload goes to the first.
 */
export async function uploadTargets(ctx: EngineContext): Promise<{ id: string; center: string; region: string; url: string }[]> {
  const centers = (await listCenters(ctx.store.db)).filter((c) => c.state === 'online');
  const ports = await dataPorts(ctx.store.db, centers.map((c) => c.id));
  return centers
    .filter((c) => ports.has(c.id))
    .sort((a, b) => (a.name < b.name ? -1 : 1))
    .map((c) => ({ id: c.id, center: c.name, region: c.region, url: ports.get(c.id)!.url }));
}

/**
 * Asks the upload's center to seal the version: its agent checks every chunk is there, and the
 * version becomes immutable and current. Returns the transfer that tracks it (state `done` at once
 * when the version is sealed already).
 */
export async function sealUpload(ctx: EngineContext, user: User, name: string, versionId: string): Promise<TransferRow> {
  const dataset = await datasetOf(ctx, user, name);
  const v = await getVersion(ctx.store.db, versionId);
  if (!v || v.datasetId !== dataset.id) throw new SuanwangError('dataset_not_found', `dataset ${name} has no version ${versionId}`, { field: 'version', hint: 'push again' });
  return ensureTransfer(ctx, { orgId: user.orgId, version: v, centerId: v.centerId, kind: 'upload', jobId: null });
}

export async function ensureTransfer(ctx: EngineContext, t: { orgId: string; version: VersionRow; centerId: string; kind: TransferRow['kind']; jobId: string | null }): Promise<TransferRow> {
  const now = ctx.now();
  const row = await inTransaction(ctx.store.db, async (trx) => {
    const active = await activeTransfer(trx, t.version.id, t.centerId);
    if (active) return active;
    const id = ctx.newId('transfer');
    await insertTransfer(trx, { id, orgId: t.orgId, versionId: t.version.id, kind: t.kind, toCenterId: t.centerId, jobId: t.jobId, bytesTotal: t.version.bytes, at: now });
    if (t.jobId) await addJobEvent(trx, t.jobId, (await getJob(trx, t.jobId))?.attempt ?? 0, now, `stage-in of ${t.version.id} (${t.version.bytes} bytes) to its center queued`);
    return (await getTransfer(trx, id))!;
  });
  ctx.signals.wake(`transfers:${t.centerId}`);
  return row;
}

export interface DatasetDetail {
  readonly id: string;
  readonly name: string;
  readonly versions: readonly { id: string; version: number; state: 'open' | 'sealed'; bytes: number; files: number; digest: string; centers: string[] }[];
}

/** A dataset of the caller's org with its versions and where each is held complete. */
export async function datasetDetail(ctx: EngineContext, user: User, name: string): Promise<DatasetDetail> {
  const d = await datasetOf(ctx, user, name);
  const names = new Map((await listCenters(ctx.store.db)).map((c) => [c.id, c.name]));
  const versions = await versionsOf(ctx.store.db, d.id);
  return {
    id: d.id,
    name: d.name,
    versions: await Promise.all(
      versions.map(async (v) => ({ id: v.id, version: v.version, state: v.state, bytes: v.bytes, files: v.manifest.files.length, digest: v.digest, centers: (await completeReplicas(ctx.store.db, v.id)).map((c) => names.get(c) ?? c) })),
    ),
  };
}

/** A read grant for a sealed version (the newest, unless `version` names one) at a center holding it. */
export async function downloadGrant(ctx: EngineContext, user: User, name: string, version?: number): Promise<{ versionId: string; version: number; manifest: Manifest; port: DataPortGrant }> {
  const d = await datasetOf(ctx, user, name);
  const v = (await versionsOf(ctx.store.db, d.id)).find((x) => x.state === 'sealed' && (version === undefined || x.version === version));
  if (!v) throw new SuanwangError('data_not_ready', `dataset ${name} has no sealed version${version === undefined ? '' : ` ${version}`}`, { field: 'version', hint: 'push it first (suanwang datasets push)' });
  const ports = await dataPorts(ctx.store.db, await completeReplicas(ctx.store.db, v.id));
  const at = [...ports.keys()][0];
  if (!at) throw new SuanwangError('unavailable', `no center holding ${name} v${v.version} has a data port`, { hint: 'try again when its center is back' });
  return { versionId: v.id, version: v.version, manifest: checkManifest(v.manifest), port: await grantAt(ctx, ctx.store.db, at, v.id, 'r') };
}

export interface TransferView {
  readonly id: string;
  readonly kind: TransferRow['kind'];
  readonly dataset: string;
  readonly version: number;
  readonly center: string;
  readonly jobId: string | null;
  readonly state: TransferState;
  readonly bytesTotal: number;
  readonly bytesMoved: number;
  readonly seconds: number | null;
  readonly mbPerSecond: number | null;
  readonly error: string | null;
  readonly createdAt: string;
}

/** The caller's org's transfers (an admin's: all), newest first. */
export async function listTransfers(ctx: EngineContext, user: User, limit = 100): Promise<TransferView[]> {
  return viewTransfers(ctx, await transfersOfOrg(ctx.store.db, user.role === 'admin' ? null : user.orgId, limit));
}

async function viewTransfers(ctx: EngineContext, rows: readonly TransferRow[]): Promise<TransferView[]> {
  const names = new Map((await listCenters(ctx.store.db)).map((c) => [c.id, c.name]));
  const out: TransferView[] = [];
  for (const t of rows) {
    const v = await getVersion(ctx.store.db, t.version_id);
    const ds = v ? await ctx.store.db.selectFrom('datasets').select('name').where('id', '=', v.datasetId).executeTakeFirst() : undefined;
    const end = t.finished_at ?? (t.state === 'running' ? ctx.now() : null);
    const seconds = t.started_at && end ? Math.max(0, (end.getTime() - t.started_at.getTime()) / 1000) : null;
    out.push({
      id: t.id,
      kind: t.kind,
      dataset: ds?.name ?? '?',
      version: v?.version ?? 0,
      center: names.get(t.to_center_id) ?? t.to_center_id,
      jobId: t.job_id,
      state: t.state,
      bytesTotal: t.bytes_total,
      bytesMoved: t.bytes_moved,
      seconds,
      mbPerSecond: seconds && seconds > 0 ? Number((t.bytes_moved / 1e6 / seconds).toFixed(1)) : null,
      error: t.error,
      createdAt: t.created_at.toISOString(),
    });
  }
  return out;
}

/** What an agent needs to carry out one transfer into its center. */
export interface TransferTask {
  readonly id: string;
  readonly kind: TransferRow['kind'];
  readonly versionId: string;
  readonly manifest: Manifest;
  /** Centers holding the version complete (not this one), with read grants, best first. */
  readonly sources: readonly { readonly center: string; readonly url: string; readonly grant: string }[];
  readonly tenant?: { readonly orgId: string; readonly orgName: string };
}

async function taskOf(ctx: EngineContext, centerId: string, t: TransferRow): Promise<TransferTask> {
  const v = (await getVersion(ctx.store.db, t.version_id))!;
  const holders = (await completeReplicas(ctx.store.db, v.id)).filter((c) => c !== centerId);
  const sources = [];
  for (const c of holders) {
    const g = await grantAt(ctx, ctx.store.db, c, v.id, 'r').catch(() => null);
    if (g) sources.push(g);
  }
  const org = t.kind === 'stage-in' ? await ctx.store.db.selectFrom('orgs').select(['id', 'name']).where('id', '=', t.org_id).executeTakeFirst() : undefined;
  return { id: t.id, kind: t.kind, versionId: v.id, manifest: checkManifest(v.manifest), sources, ...(org ? { tenant: { orgId: org.id, orgName: org.name } } : {}) };
}

/** The queued and running transfers into an agent's center. */
export async function agentTransfers(ctx: EngineContext, centerId: string): Promise<TransferTask[]> {
  // An output is carried out by the agent that ran its job, not by the transfer loop (job-outputs.ts).
  const rows = (await activeTransfersTo(ctx.store.db, centerId)).filter((t) => t.kind !== 'output');
  return Promise.all(rows.map((t) => taskOf(ctx, centerId, t)));
}

/**
 * An agent asks to stage a leased job's input into its center: the job's stage-in transfer (made
 * when none is under way; one started early for a reservation is reused).
 */
export async function agentStageIn(ctx: EngineContext, centerId: string, jobId: string, versionId: string): Promise<TransferTask> {
  const job = await getJob(ctx.store.db, jobId);
  const v = await getVersion(ctx.store.db, versionId);
  if (!job || job.center_id !== centerId || !v) throw new SuanwangError('not_found', `no job ${jobId} with input ${versionId} placed at this center`, { hint: 'drop the lease' });
  const ds = await ctx.store.db.selectFrom('datasets').select('org_id').where('id', '=', v.datasetId).executeTakeFirst();
  if (ds?.org_id !== job.org_id) throw new SuanwangError('forbidden', `job ${jobId} may not read version ${versionId}`, { hint: "a job reads its own org's datasets only" });
  const t = await ensureTransfer(ctx, { orgId: job.org_id, version: v, centerId, kind: 'stage-in', jobId });
  return taskOf(ctx, centerId, t);
}

/** An agent reports a transfer's progress or end; `done` makes the version complete at its center. */
export async function reportTransfer(ctx: EngineContext, centerId: string, id: string, report: { state: 'running' | 'done' | 'failed'; bytesMoved: number; error: string | null }): Promise<void> {
  const now = ctx.now();
  await inTransaction(ctx.store.db, async (trx) => {
    const t = await getTransfer(trx, id);
    if (!t || t.to_center_id !== centerId) throw new SuanwangError('not_found', `no transfer ${id} into this center`, { hint: 'ask for the current transfers' });
    // An output's job row is locked first, as openJobOutput does: the two never wait on each other in turn.
    if (t.kind === 'output' && t.job_id) await lockJob(trx, t.job_id);
    const changed = await updateTransfer(trx, id, report, now);
    if (!changed || report.state === 'running') return;
    // A job's outputs: sealed only while its run is still wanted (else this throws and nothing changes).
    if (t.kind === 'output') return endJobOutput(trx, t, { ...report, state: report.state }, now);
    if (report.state === 'done') {
      if (t.kind === 'upload') await sealVersion(trx, t.version_id, now);
      await completeReplica(trx, t.version_id, centerId, now);
    }
    if (t.job_id) {
      const job = await getJob(trx, t.job_id);
      const secs = changed.started_at ? ((now.getTime() - changed.started_at.getTime()) / 1000).toFixed(2) : '?';
      await addJobEvent(trx, t.job_id, job?.attempt ?? 0, now, report.state === 'done' ? `stage-in ${id} done: ${report.bytesMoved} bytes moved in ${secs} s` : `stage-in ${id} failed: ${report.error}`);
    }
  });
}

/** Marks the versions a job at a center reads as used now (eviction keeps recently used replicas). */
export async function touchInputs(ctx: EngineContext, centerId: string, versionIds: readonly string[]): Promise<void> {
  for (const v of versionIds) await touchReplica(ctx.store.db, v, centerId, ctx.now());
}

/** The inputs a lease carries: each input dataset's newest sealed version. */
export async function leaseInputs(q: Queryable, datasetIds: readonly string[]): Promise<{ datasetId: string; name: string; versionId: string }[]> {
  if (datasetIds.length === 0) return [];
  const latest = await latestSealed(q, datasetIds);
  const names = new Map((await q.selectFrom('datasets').select(['id', 'name']).where('id', 'in', [...datasetIds]).execute()).map((d) => [d.id, d.name]));
  return datasetIds.flatMap((id) => {
    const v = latest.get(id);
    return v ? [{ datasetId: id, name: names.get(id) ?? id, versionId: v.id }] : [];
  });
}

/**
 * Stage-in started early: for jobs the scheduler holds a reservation for at a center, a transfer of
 * each input not held there yet, so the copy overlaps the wait.
 */
export async function prefetchInputs(ctx: EngineContext, plans: readonly { jobId: string; centerId: string }[]): Promise<number> {
  let started = 0;
  for (const p of plans) {
    const job = await getJob(ctx.store.db, p.jobId);
    if (!job || job.inputs.length === 0) continue;
    for (const input of await leaseInputs(ctx.store.db, job.inputs)) {
      // In this order: a transfer that ends between the two reads has made its replica complete in
      // the same transaction, so the second read sees it (the other order would start a second copy).
      if (await activeTransfer(ctx.store.db, input.versionId, p.centerId)) continue;
      if ((await completeReplicas(ctx.store.db, input.versionId)).includes(p.centerId)) continue;
      const v = (await getVersion(ctx.store.db, input.versionId))!;
      await ensureTransfer(ctx, { orgId: job.org_id, version: v, centerId: p.centerId, kind: 'stage-in', jobId: job.id });
      started++;
    }
  }
  return started;
}
