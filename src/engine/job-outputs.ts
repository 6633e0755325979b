import { createHash } from 'node:crypto';
import type { OutputOpenRequest, OutputOpenResponse } from '../core/agent-protocol.js';
import { SuanwangError } from '../core/errors.js';
import { canonicalManifest, checkManifest, manifestBytes } from '../data/index.js';
import { getCenter } from '../store/centers.js';
import { completeReplica, insertTransfer, insertVersion, outputTransferOf, sealVersion, updateTransfer, versionsOf, type VersionRow } from '../store/data-plane.js';
import { findDatasetByName, insertDataset } from '../store/datasets.js';
import { addJobEvent, lockJob } from '../store/jobs.js';
import type { JobRow, TransferRow } from '../store/schema.js';
import { inTransaction, type Queryable } from '../store/transaction.js';
import type { EngineContext } from './context.js';

/*
 * Outputs registered as a new dataset (docs/data.md, "Outputs"). A job's spec names datasets its
 * files become; when its run succeeds, its agent scans each output folder, stores the chunks in its
 * center's storage and asks here for the version they become (`openJobOutput`), then reports the
 * transfer done, which seals it (`sealJobOutput`, from reportTransfer). Only then does the agent
 * report the run succeeded: a job that fails, or whose outputs cannot be stored, registers nothing.
 *
 * The bytes never pass through here: the version is made at the job's center, complete there at
 * once, and moves on from there as any other (stage-in, rules).
 */

/** The run must be this center's current attempt, still running (its end is reported after its outputs). */
function assertOutputsWanted(job: JobRow | undefined, jobId: string, centerId: string, attempt: number): JobRow {
  if (!job) throw new SuanwangError('job_not_found', `no job ${jobId}`, { field: 'jobId', hint: 'drop the run' });
  if (job.center_id !== centerId || job.attempt !== attempt || job.state !== 'running') {
    throw new SuanwangError('conflict', `job ${jobId} attempt ${attempt} is not running at this center (it is ${job.state}, attempt ${job.attempt}): its outputs are not wanted`, {
      field: 'attempt',
      hint: 'report the run ended; its outputs register nothing',
    });
  }
  return job;
}

/**
 * An agent opens one output of a succeeded run: the version of the job's org's dataset (made when
 * missing) its files become, at this center, and the transfer of kind `output` that tracks it.
 * The same manifest opened again (a retried call, a restarted agent) gets the same version; a
 * different one replaces an output still open (the files changed before they were sealed).
 */
export async function openJobOutput(ctx: EngineContext, centerId: string, jobId: string, req: OutputOpenRequest): Promise<OutputOpenResponse> {
  const manifest = checkManifest(req.manifest as Parameters<typeof checkManifest>[0], 'manifest');
  const digest = createHash('sha256').update(canonicalManifest(manifest)).digest('hex');
  const now = ctx.now();
  return inTransaction(ctx.store.db, async (trx) => {
    // The job's row lock orders two opens of one job's outputs (an agent's retry beside its first call).
    const job = assertOutputsWanted(await lockJob(trx, jobId), jobId, centerId, req.attempt);
    const output = job.outputs.find((o) => o.dataset === req.dataset);
    if (!output) {
      throw new SuanwangError('invalid_field', `job ${jobId} registers no output named ${JSON.stringify(req.dataset).slice(0, 80)}`, { field: 'dataset', hint: `its outputs: ${job.outputs.map((o) => o.dataset).join(', ') || 'none'}` });
    }
    let dataset = await findDatasetByName(trx, job.org_id, output.dataset);
    if (!dataset) {
      await insertDataset(trx, { id: ctx.newId('dataset'), orgId: job.org_id, name: output.dataset, bytes: 0, centerIds: [], at: now });
      dataset = (await findDatasetByName(trx, job.org_id, output.dataset))!;
    }
    const earlier = await outputTransferOf(trx, jobId, centerId, dataset.id);
    if (earlier && earlier.digest === digest) {
      const v = (await versionsOf(trx, dataset.id)).find((x) => x.id === earlier.version_id)!;
      return { transferId: earlier.id, versionId: v.id, version: v.version, state: earlier.state === 'done' ? 'done' : 'running' };
    }
    if (earlier && earlier.state !== 'done') await updateTransfer(trx, earlier.id, { state: 'failed', bytesMoved: 0, error: 'replaced: the output files changed before they were sealed' }, now);
    const versions = await versionsOf(trx, dataset.id);
    const v: VersionRow = { id: ctx.newId('datasetVersion'), datasetId: dataset.id, version: (versions[0]?.version ?? 0) + 1, state: 'open', digest, manifest: manifest as VersionRow['manifest'], bytes: manifestBytes(manifest), centerId };
    await insertVersion(trx, { ...v, at: now });
    const transferId = ctx.newId('transfer');
    await insertTransfer(trx, { id: transferId, orgId: job.org_id, versionId: v.id, kind: 'output', toCenterId: centerId, jobId, bytesTotal: v.bytes, at: now });
    await updateTransfer(trx, transferId, { state: 'running', bytesMoved: 0, error: null }, now);
    return { transferId, versionId: v.id, version: v.version, state: 'running' as const };
  });
}

/**
 * The end of an output transfer (inside reportTransfer's transaction): `done` seals the version,
 * makes it complete at this center and the dataset's current content, and says so on the job
 * (`output corpus v2 sealed: N bytes, M files at C`); `failed` says why on the job and seals nothing.
 * A done report for a run no longer wanted is refused (409) and changes nothing.
 */
export async function endJobOutput(trx: Queryable, t: TransferRow, report: { state: 'done' | 'failed'; bytesMoved: number; error: string | null }, now: Date): Promise<void> {
  const job = await lockJob(trx, t.job_id ?? '');
  const v = (await trx.selectFrom('dataset_versions').innerJoin('datasets', 'datasets.id', 'dataset_versions.dataset_id').select(['dataset_versions.version', 'dataset_versions.bytes', 'dataset_versions.manifest', 'datasets.name']).where('dataset_versions.id', '=', t.version_id).executeTakeFirst())!;
  const at = (await getCenter(trx, t.to_center_id))?.name ?? t.to_center_id;
  if (report.state === 'done') {
    assertOutputsWanted(job, t.job_id ?? '', t.to_center_id, job?.attempt ?? -1);
    await sealVersion(trx, t.version_id, now);
    await completeReplica(trx, t.version_id, t.to_center_id, now);
    await addJobEvent(trx, job!.id, job!.attempt, now, `output ${v.name} v${v.version} sealed: ${v.bytes} bytes, ${v.manifest.files.length} files at ${at}`);
  } else if (job) {
    await addJobEvent(trx, job.id, job.attempt, now, `output ${v.name} v${v.version} not registered: ${report.error ?? 'failed'}`);
  }
}
