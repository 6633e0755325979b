import { DataPortClient } from '../../api/client/data-port.js';
import type { SuanwangClient, TransferResource } from '../../api/client/client.js';
import { SuanwangError } from '../../core/errors.js';
import { checkManifest, manifestBytes } from '../../data/index.js';
import { pullFiles, pushChunks, scanDataset } from './dataset-files.js';
import { nearestCenter } from './nearest-center.js';

/** What push and pull say as they go: a phase and bytes done of a total. */
export type Progress = (phase: string, done: number, total: number) => void;

/**
 * `datasets push`: hashes the file or folder into a manifest, opens a version, sends the chunks the
 * center lacks (all of them the first time; the rest after an interruption), and waits until the
 * center has checked and sealed it. Returns the version and the bytes sent.
 */
export async function pushDataset(
  client: SuanwangClient,
  path: string,
  name: string,
  options: { center?: string | undefined; chunkBytes?: number; progress?: Progress; pollMs?: number } = {},
): Promise<{ versionId: string; version: number; center: string; bytes: number; sent: number; transfer: TransferResource | null }> {
  let hashed = 0;
  const { manifest, files } = await scanDataset(path, options.chunkBytes, (n) => options.progress?.('hashing', (hashed += n), -1));
  const bytes = manifestBytes(manifest);
  // Without a center named: the nearest by measured round trip (the control plane cannot know where we are).
  const center = options.center ?? (await nearestCenter((await client.uploadPorts()).items))?.center;
  const started = await client.startUpload(name, { manifest, ...(center ? { center } : {}) });
  if (started.state === 'sealed') return { versionId: started.versionId, version: started.version, center: started.port.center, bytes, sent: 0, transfer: null };
  const port = new DataPortClient({ url: started.port.url, grant: started.port.grant, version: started.versionId });
  let done = 0;
  const sent = await pushChunks(port, manifest, files, (n) => options.progress?.('uploading', (done += n), bytes));
  let t = await client.sealUpload(name, started.versionId);
  while (t.state === 'queued' || t.state === 'running') {
    options.progress?.('sealing', 0, 0);
    await new Promise((r) => setTimeout(r, options.pollMs ?? 200));
    t = (await client.transfers(1000)).items.find((x) => x.id === t.id) ?? t;
  }
  if (t.state === 'failed') throw new SuanwangError('data_not_ready', `the center could not seal ${name} v${started.version}: ${t.error}`, { hint: 'push again: chunks already there are skipped' });
  return { versionId: started.versionId, version: started.version, center: started.port.center, bytes, sent, transfer: t };
}

/** `datasets pull`: the files of a sealed version into `dir`, every chunk checked on arrival. */
export async function pullDataset(client: SuanwangClient, name: string, dir: string, options: { version?: number; progress?: Progress } = {}): Promise<{ version: number; bytes: number; center: string }> {
  const d = await client.download(name, options.version);
  const manifest = checkManifest(d.manifest);
  const bytes = manifestBytes(manifest);
  let done = 0;
  await pullFiles(new DataPortClient({ url: d.port.url, grant: d.port.grant, version: d.versionId }), manifest, dir, (n) => options.progress?.('downloading', (done += n), bytes));
  return { version: d.version, bytes, center: d.port.center };
}
