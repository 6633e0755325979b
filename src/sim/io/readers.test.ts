// The trace readers on small hand-made files, written (and gzipped) here so every count is known.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { TraceJob } from '../trace/types.js';
import type { TraceSource } from '../trace/source.js';
import { openSwf, swfCluster } from './swf-reader.js';
import { openElasticFlowCsv, openElasticFlowFolder } from './elasticflow-reader.js';
import { openAlibabaPods, readAlibabaNodes } from './alibaba-reader.js';
import { openTrace } from './open-trace.js';
import { readLines } from './lines.js';

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'suanwang-sim-readers-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

const write = (name: string, text: string, gzip = false): string => {
  const path = join(dir, name);
  writeFileSync(path, gzip ? gzipSync(text) : text);
  return path;
};
async function all(src: TraceSource): Promise<TraceJob[]> {
  const out: TraceJob[] = [];
  for await (const j of src.jobs()) out.push(j);
  return out;
}
const counts = (t: Record<string, { count: number }>) => Object.fromEntries(Object.entries(t).map(([k, v]) => [k, v.count]));

// 18 fields: id submit wait run alloc cpu mem reqProcs reqTime reqMem status user group exe queue partition prev think
const SWF = [
  '; Version: 2.2',
  '; Computer: Test machine',
  '; MaxProcs: 8',
  '; MaxNodes: 8',
  '; UnixStartTime: 1000000000',
  '; TimeZone: 3600',
  '; TimeZoneString: Europe/Stockholm',
  '; Note: first note',
  '; Note: second note',
  ';',
  '  1   0   5 100  4 -1 -1  4 200   -1  1  7 1 -1 -1 1 -1 -1', // completed
  '  2  10  -1  50 -1 -1 -1  2  -1   -1  0  8 1 -1 -1 1 -1 -1', // failed; procs from request; requested unknown
  '  3  20   0   0  2 -1 -1  2 100   -1  5  7 1 -1 -1 1 -1 -1', // cancelled before start: skipped
  '  4  30   0  30  2 -1 -1  2 100   -1  5  7 1 -1 -1 1 -1 -1', // cancelled after 30 s: kept
  '  5  40   0  -1  1 -1 -1  1 100   -1  1  7 1 -1 -1 1 -1 -1', // run time unknown: skipped
  '  6  50   0 100 16 -1 -1 16  60   -1 -1  7 1 -1 -1 1 -1 -1', // clamped to 8; request raised; status unknown
  '  7  60   0  10 -1 -1 -1 -1  20 1024  1 -1 1 -1 -1 1 -1 -1', // procs unknown → 1; 1024 KB/proc = 1 MiB
  '  8  70   0  10  1 -1', // too few fields
  '  9   x   0  10  1 -1 -1  1  20   -1  1  7 1 -1 -1 1 -1 -1', // not a number
  ' 10  -1   0  10  1 -1 -1  1  20   -1  1  7 1 -1 -1 1 -1 -1', // submit unknown
  ' 11  80   0  10  1 -1 -1  1  20   -1  3  7 1 -1 -1 1 -1 -1', // checkpoint, last part: completed
  ' 12  90   0  10  1 -1 -1  1  20   -1  4  7 1 -1 -1 1 -1 -1', // checkpoint, last part failed
  '',
].join('\n');

test('SWF, gzipped: header fields, the jobs kept, every fallback counted', async () => {
  const path = write('TEST-2024-1.0.swf.gz', SWF, true);
  const src = await openSwf(path);
  assert.equal(src.header.format, 'swf');
  assert.equal(src.header.maxProcs, 8);
  assert.equal(src.header.maxNodes, 8);
  assert.equal(src.header.startEpochS, 1_000_000_000);
  assert.equal(src.header.startEpochSource, 'trace');
  assert.equal(src.header.timeZoneS, 3600);
  assert.equal(src.header.timeZoneName, 'Europe/Stockholm');
  assert.deepEqual(src.header.fields?.['Note'], ['first note', 'second note']);
  assert.deepEqual(src.header.clusters, ['test']);
  assert.equal(src.header.requestedTime, 'recorded');

  const jobs = await all(src);
  assert.deepEqual(jobs.map((j) => j.id), ['1', '2', '4', '6', '7', '11', '12']);
  const byId = new Map(jobs.map((j) => [j.id, j]));
  assert.deepEqual(byId.get('1'), {
    id: '1', submitAt: 0, runSeconds: 100, requestedSeconds: 200, cpus: 4, gpus: 0, homeCluster: 'test', status: 'completed', user: '7', traceWaitSeconds: 5,
  });
  const j2 = byId.get('2')!;
  assert.equal(j2.status, 'failed');
  assert.equal(j2.cpus, 2, 'allocated unknown: the request');
  assert.equal(j2.requestedSeconds, 50, 'requested time unknown: the run time');
  assert.equal(j2.traceWaitSeconds, undefined);
  assert.equal(byId.get('4')!.status, 'cancelled');
  assert.equal(byId.get('4')!.runSeconds, 30);
  const j6 = byId.get('6')!;
  assert.equal(j6.cpus, 8, 'clamped to MaxProcs');
  assert.equal(j6.requestedSeconds, 100, 'request below the run: raised');
  assert.equal(j6.status, 'completed');
  const j7 = byId.get('7')!;
  assert.equal(j7.cpus, 1);
  assert.equal(j7.memoryMiB, 1);
  assert.equal(j7.user, undefined);
  assert.equal(byId.get('11')!.status, 'completed');
  assert.equal(byId.get('12')!.status, 'failed');

  const r = src.report;
  assert.equal(r.jobs, 7);
  assert.equal(r.lines, 22);
  assert.deepEqual(counts(r.skipped), {
    'cancelled-before-start': 1, 'run-time-unknown': 1, 'too-few-fields': 1, 'not-a-number': 1, 'submit-time-unknown': 1,
  });
  assert.deepEqual(counts(r.repaired), {
    'processors-from-request': 1, 'requested-time-unknown': 1, 'processors-clamped-to-machine': 1, 'requested-time-below-run': 1,
    'status-unknown': 1, 'processors-unknown-set-to-1': 1,
  });
  assert.equal(r.skipped['cancelled-before-start']!.firstLine, 13);
  assert.equal(r.outOfOrder, 0);
});

test('SWF: the same file plain and gzipped reads the same; the cluster comes from the file name', async () => {
  const plain = await all(await openSwf(write('TEST-plain.swf', SWF)));
  const gz = await all(await openSwf(write('TEST-gz.swf.gz', SWF, true)));
  assert.deepEqual(plain, gz);
  assert.equal(swfCluster('/x/HPC2N-2002-2.1-cln.swf.gz'), 'hpc2n');
  assert.equal(swfCluster('KTH-SP2-1996-2.1-cln.swf'), 'kth');
});

test('SWF: a job submitted before the one ahead of it is counted out of order', async () => {
  const src = await openSwf(write('unsorted.swf', ['; MaxProcs: 4', '1 50 0 10 1 -1 -1 1 20 -1 1 1 1 -1 -1 1 -1 -1', '2 40 0 10 1 -1 -1 1 20 -1 1 1 1 -1 -1 1 -1 -1'].join('\n')));
  await all(src);
  assert.equal(src.report.outOfOrder, 1);
});

const CLUSTER01 = 'job_id,submission_time,duration,num_gpu\na1,0,100,1\na2,20,50,8\na3,20,10,2\n';
const CLUSTER02 = 'job_id,submission_time,duration,num_gpu\nb1,5,10,4\nb2,20,30,1\nb3,25,-1,1\nb4,26,5,1.5\nb5,30,7\n';
const CLUSTER03 = 'job_id,submission_time,duration,num_gpu\r\nc1,20,5,16\r\nc2,40,5,1'; // CRLF, no final newline

test('ElasticFlow: one CSV, home cluster from the file, walltime = duration, skips counted', async () => {
  const src = await openElasticFlowCsv(write('cluster02.csv', CLUSTER02));
  assert.equal(src.header.requestedTime, 'run-time');
  assert.equal(src.header.startEpochS, Date.UTC(2021, 2, 4) / 1000);
  assert.equal(src.header.startEpochSource, 'assumed');
  const jobs = await all(src);
  assert.deepEqual(jobs, [
    { id: 'b1', submitAt: 5, runSeconds: 10, requestedSeconds: 10, gpus: 4, homeCluster: 'cluster02', status: 'completed' },
    { id: 'b2', submitAt: 20, runSeconds: 30, requestedSeconds: 30, gpus: 1, homeCluster: 'cluster02', status: 'completed' },
  ]);
  assert.deepEqual(counts(src.report.skipped), { 'run-time-unknown': 1, 'gpus-invalid': 1, 'too-few-fields': 1 });
  assert.equal(src.report.skipped['gpus-invalid']!.firstLine, 5);
});

test('ElasticFlow folder: ten-file style k-way merge by submit time, ties in file order, gzip and CRLF', async () => {
  const folder = join(dir, 'ef');
  mkdirSync(folder);
  writeFileSync(join(folder, 'cluster01.csv'), CLUSTER01);
  writeFileSync(join(folder, 'cluster02.csv.gz'), gzipSync(CLUSTER02));
  writeFileSync(join(folder, 'cluster03.csv'), CLUSTER03);
  writeFileSync(join(folder, 'LICENSE'), 'not a trace');
  const src = await openElasticFlowFolder(folder);
  assert.deepEqual(src.header.clusters, ['cluster01', 'cluster02', 'cluster03']);
  const jobs = await all(src);
  assert.deepEqual(jobs.map((j) => `${j.id}@${j.submitAt}`), ['a1@0', 'b1@5', 'a2@20', 'a3@20', 'b2@20', 'c1@20', 'c2@40']);
  assert.equal(jobs.find((j) => j.id === 'c1')!.homeCluster, 'cluster03');
  const r = src.report;
  assert.equal(r.jobs, 7);
  assert.equal(r.lines, 4 + 6 + 3);
  assert.deepEqual(counts(r.skipped), { 'run-time-unknown': 1, 'gpus-invalid': 1, 'too-few-fields': 1 });
  assert.equal(r.skipped['run-time-unknown']!.firstSource, 'cluster02.csv.gz');
  assert.equal(r.firstSubmitAt, 0);
  assert.equal(r.lastSubmitAt, 40);
  // openTrace on the folder does the same.
  assert.equal((await all(await openTrace(folder))).length, 7);
});

test('the merge refuses an input that is not sorted, naming the file and the job', async () => {
  const folder = join(dir, 'ef-unsorted');
  mkdirSync(folder);
  writeFileSync(join(folder, 'cluster01.csv'), 'job_id,submission_time,duration,num_gpu\nx1,10,5,1\nx2,5,5,1\n');
  const src = await openElasticFlowFolder(folder);
  await assert.rejects(all(src), /cluster01\.csv: job x2 is submitted at 5 s, before the job ahead of it \(10 s\)/);
});

const PODS = [
  'name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,creation_time,deletion_time,scheduled_time',
  'p0,12000,16384,1,1000,,LS,Running,0,1000,0',
  'p1,6000,12288,1,460,,LS,Succeeded,10,110,15',
  'p2,88000,327680,8,1000,V100M16|V100M32,Burstable,Failed,20,220,20',
  'p3,11908,47104,1,1000,,BE,Pending,30,40,',
  'p4,4000,8192,0,0,,BE,Succeeded,40,50,41',
  'p5,4000,8192,2,500,G2,LS,Succeeded,50,60,50',
  'p6,4000,8192,1,1000,nan,LS,Succeeded,60,50,55',
].join('\n');

test('Alibaba pods: times, fractional GPUs, model constraints, phases', async () => {
  const src = await openAlibabaPods(write('openb_pod_list_test.csv.gz', PODS, true));
  assert.equal(src.header.startEpochS, null);
  const jobs = await all(src);
  assert.deepEqual(jobs.map((j) => j.id), ['p0', 'p1', 'p2', 'p4', 'p5']);
  const [p0, p1, p2, p4, p5] = jobs as [TraceJob, TraceJob, TraceJob, TraceJob, TraceJob];
  assert.equal(p0.status, 'completed');
  assert.equal(p0.gpuFraction, undefined);
  assert.deepEqual(
    { submitAt: p1.submitAt, run: p1.runSeconds, req: p1.requestedSeconds, wait: p1.traceWaitSeconds, gpus: p1.gpus, frac: p1.gpuFraction, cpus: p1.cpus, mem: p1.memoryMiB, nodes: p1.nodes },
    { submitAt: 10, run: 95, req: 95, wait: 5, gpus: 1, frac: 0.46, cpus: 6, mem: 12288, nodes: 1 },
  );
  assert.equal(p2.status, 'failed');
  assert.deepEqual(p2.gpuModels, ['nvidia-v100-16gb', 'nvidia-v100']);
  assert.equal(p2.gpus, 8);
  assert.equal(p4.gpus, 0);
  assert.equal(p4.cpus, 4);
  assert.equal(p5.gpus, 2);
  assert.equal(p5.gpuFraction, undefined);
  assert.deepEqual(p5.gpuModels, ['alibaba-g2']);
  assert.deepEqual(counts(src.report.skipped), { 'never-scheduled': 1, 'ends-before-start': 1 });
  assert.deepEqual(counts(src.report.repaired), { 'running-at-end-taken-as-completed': 1, 'fraction-on-multi-gpu-ignored': 1 });
  // openTrace tells the CSV kinds apart by their header.
  assert.equal((await openTrace(write('openb_pod_list_x.csv', PODS))).header.format, 'alibaba');
  assert.equal((await openTrace(write('cluster09.csv', CLUSTER01))).header.format, 'elasticflow');
  await assert.rejects(openTrace(write('other.csv', 'a,b,c\n1,2,3\n')), /columns a, b, c is not a supported trace/);
});

test('Alibaba nodes: identical nodes grouped, models mapped', async () => {
  const { groups, report } = await readAlibabaNodes(
    write('nodes.csv', 'sn,cpu_milli,memory_mib,gpu,model\nn0,64000,262144,2,P100\nn1,64000,262144,2,P100\nn2,96000,786432,8,V100M32\nn3,32000,131072,0,nan\n'),
  );
  assert.equal(report.jobs, 4);
  assert.deepEqual(groups, [
    { accelerator: 'nvidia-p100', traceModel: 'P100', gpusPerNode: 2, coresPerNode: 64, memoryMiBPerNode: 262144, nodes: 2 },
    { accelerator: 'nvidia-v100', traceModel: 'V100M32', gpusPerNode: 8, coresPerNode: 96, memoryMiBPerNode: 786432, nodes: 1 },
    { accelerator: null, traceModel: '', gpusPerNode: 0, coresPerNode: 32, memoryMiBPerNode: 131072, nodes: 1 },
  ]);
});

test('lines: a line split across chunks is whole; stopping early releases the file', async () => {
  const long = 'x'.repeat(3 << 20); // longer than one 1 MiB chunk
  const path = write('long.txt.gz', `first\n${long}\nlast`, true);
  const lines: string[] = [];
  for await (const l of readLines(path)) lines.push(l);
  assert.deepEqual(lines.map((l) => l.length), [5, long.length, 4]);
  for await (const l of readLines(path)) {
    assert.equal(l, 'first');
    break;
  }
  const src = await openSwf(write('stop.swf', SWF));
  for await (const j of src.jobs()) {
    assert.equal(j.id, '1');
    break;
  }
  assert.throws(() => src.jobs(), /can be read once/);
});
