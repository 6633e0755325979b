import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { JobSubmissionInput } from '../../api/client/schemas.js';
import { clientFor, durationFlag, memoryFlag, parse, printJson, UsageError, wholeFlag, type Command } from '../command.js';
import { parseDuration } from '../format.js';
import { parseOutputFlag } from '../../data/index.js';
import { followLogs } from './logs.js';
import { printQuote } from './quote.js';

export const submit: Command = {
  summary: 'submit a job; prints its id at once',
  usage: `suanwang submit [options] -- PROGRAM [ARGS...]
suanwang submit [options] JOB.yaml        (fields as in POST /v1/jobs; flags override)

  --gpus N            accelerators per node (default 0)
  --nodes N           nodes, all in one pool: a gang (default 1)
  --cores N           CPU cores per node (default 1)
  --mem SIZE          memory per node: 512M, 4G … (default 1G)
  --time DURATION     walltime: 90s, 30m, 2h, 1:30:00 (default 1h)
  --accelerator KEY   allowed accelerator model, repeatable (e.g. nvidia-a100, ascend-910b)
  --objective O       cheapest | fastest | greenest | balanced (default)
  --priority N        -1000 … 1000 (default 0)
  --env K=V           environment variable, repeatable
  --workdir PATH      working directory at the center (default: a fresh folder)
  --name NAME         a name for the job
  --project P         the org's project it counts against (budgets, usage --by project)
  --max-attempts N    starts allowed if its center fails under it (default 3)
  --runtime DURATION  expected run time on the reference chip (default: the walltime)
  --reference KEY     the chip --runtime was measured on (default nvidia-a100)
  --forbid KEY        never run on this accelerator model, repeatable
  --region R          run only in this region (data residency), repeatable
  --deadline WHEN     finish by then: an ISO time, or +DURATION from now (+6h)
  --budget YUAN       the most it may cost, e.g. 50 or 12.50
  --input DATASET     a dataset to stage in first (name or id), repeatable
  --output NAME[:DIR] when the job succeeds, the files it wrote under DIR (relative to its
                      workdir; default outputs/NAME) become a new version of dataset NAME
                      (made when missing) at its center; repeatable. A missing DIR fails the job
  --weights W         cost=1,time=1,carbon=2: explicit objective weights
  --array SPEC        a job array, as sbatch --array: 1-1000, 0-99:2, 1,3,5-7; one job per
                      index, with SUANWANG_ARRAY_INDEX and SUANWANG_ARRAY_ID in its environment
  --idempotency-key K retrying with the same key returns the same job
  -f, --follow        stream its output until it ends; exit with its exit code
  --dry-run           show where it would run and at what cost, submit nothing (= suanwang quote)
  --json              print the job as JSON`,
  async run(argv) {
    const { job, values } = jobFromArgs(argv);
    if (values['dry-run']) return printQuote(clientFor(values), job, values.json === true);
    const client = clientFor(values);
    const array = values.array ?? (typeof (job as { array?: unknown }).array === 'string' ? ((job as { array?: string }).array as string) : undefined);
    if (array !== undefined) {
      if (values.follow) throw new UsageError('--follow follows one job; a job array is many (follow one element with suanwang logs -f ID)');
      const batch = await client.submitBatch([{ ...job, array }], values['idempotency-key']);
      if (values.json) {
        printJson(batch);
        return 0;
      }
      const first = batch.items[0]!;
      process.stdout.write(`${first.arrayId ?? first.id}\n`);
      process.stderr.write(`submitted job array ${first.arrayId ?? first.id}: ${batch.items.length} job(s), indices ${array}; \`suanwang jobs\` lists them\n`);
      return 0;
    }
    const created = await client.submit(job, values['idempotency-key']);
    if (values.json && !values.follow) {
      printJson(created);
      return 0;
    }
    if (!values.follow) {
      process.stdout.write(`${created.id}\n`);
      process.stderr.write(`submitted ${created.name} (${created.state}); follow it with: suanwang logs -f ${created.id}\n`);
      return 0;
    }
    process.stderr.write(`submitted ${created.id}; following its output\n`);
    return followLogs(client, created.id);
  },
};

function readJobFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read job file ${path}: ${(error as Error).message}`);
  }
  let data: unknown;
  try {
    data = parseYaml(text);
  } catch (error) {
    throw new UsageError(`${path} is not valid YAML: ${(error as Error).message}`);
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) throw new UsageError(`${path} must hold a mapping of job fields (command, acceleratorsPerNode, …)`);
  return data as Record<string, unknown>;
}

/** The job described by `submit`/`quote` arguments: a job file and/or flags, and the command after --. */
export function jobFromArgs(argv: string[]) {
    const dashdash = argv.indexOf('--');
    const own = dashdash === -1 ? argv : argv.slice(0, dashdash);
    const command = dashdash === -1 ? undefined : argv.slice(dashdash + 1);
    const { values, positionals } = parse(own, {
      gpus: { type: 'string' },
      nodes: { type: 'string' },
      cores: { type: 'string' },
      mem: { type: 'string' },
      time: { type: 'string' },
      accelerator: { type: 'string', multiple: true },
      objective: { type: 'string' },
      priority: { type: 'string' },
      env: { type: 'string', multiple: true },
      workdir: { type: 'string' },
      name: { type: 'string' },
      project: { type: 'string' },
      'max-attempts': { type: 'string' },
      'idempotency-key': { type: 'string' },
      array: { type: 'string' },
      runtime: { type: 'string' },
      reference: { type: 'string' },
      forbid: { type: 'string', multiple: true },
      region: { type: 'string', multiple: true },
      deadline: { type: 'string' },
      budget: { type: 'string' },
      input: { type: 'string', multiple: true },
      output: { type: 'string', multiple: true },
      weights: { type: 'string' },
      follow: { type: 'boolean', short: 'f', default: false },
      'dry-run': { type: 'boolean', default: false },
    });
    let job: Record<string, unknown> = {};
    if (positionals.length > 1) throw new UsageError(`one job file at most, got ${positionals.join(' ')}; put the command after --`);
    if (positionals[0]) job = readJobFile(positionals[0]);
    if (command) {
      if (command.length === 0) throw new UsageError('nothing after --: give the program to run');
      job.command = command;
    }
    if (!job.command) throw new UsageError('no command: write it after -- (suanwang submit -- echo hi) or in a job file');
    const set = (key: keyof JobSubmissionInput, v: unknown) => {
      if (v !== undefined) job[key] = v;
    };
    set('acceleratorsPerNode', wholeFlag('gpus', values.gpus, true));
    set('nodes', wholeFlag('nodes', values.nodes, true));
    set('coresPerNode', wholeFlag('cores', values.cores, true));
    set('priority', wholeFlag('priority', values.priority, true));
    set('maxAttempts', wholeFlag('max-attempts', values['max-attempts'], true));
    set('memoryMiBPerNode', memoryFlag('mem', values.mem));
    set('walltimeSeconds', durationFlag('time', values.time));
    set('runtimeSeconds', durationFlag('runtime', values.runtime));
    if (values.deadline !== undefined) job.deadline = parseDeadline(values.deadline);
    if (values.budget !== undefined) {
      const fen = parseYuan(values.budget);
      if (fen === undefined) throw new UsageError(`--budget takes yuan such as 50 or 12.50, got "${values.budget}"`);
      job.budgetFen = fen;
    }
    if (values.weights !== undefined) job.objective = { weights: parseWeights(values.weights) };
    set('referenceAccelerator', values.reference);
    set('forbidAccelerators', values.forbid);
    set('regions', values.region);
    set('inputs', values.input);
    // NAME[:DIR]; the control plane checks both and names `outputs[i].dataset` / `.dir` when refused.
    set('outputs', values.output?.map(parseOutputFlag));
    set('accelerators', values.accelerator);
    set('objective', values.objective);
    set('workdir', values.workdir);
    set('name', values.name);
    set('project', values.project);
    if (values.env) {
      const env = { ...((job.env as Record<string, string>) ?? {}) };
      for (const pair of values.env) {
        const eq = pair.indexOf('=');
        if (eq <= 0) throw new UsageError(`--env takes NAME=VALUE, got "${pair}"`);
        env[pair.slice(0, eq)] = pair.slice(eq + 1);
      }
      job.env = env;
    }
    return { job: job as JobSubmissionInput, values };
}

/** An ISO time, or `+DURATION` from now, as an ISO time. */
function parseDeadline(text: string): string {
  if (text.startsWith('+')) {
    const s = parseDuration(text.slice(1));
    if (s === undefined) throw new UsageError(`--deadline +DURATION takes e.g. +30m or +6h, got "${text}"`);
    return new Date(Date.now() + s * 1000).toISOString();
  }
  const t = Date.parse(text);
  if (Number.isNaN(t)) throw new UsageError(`--deadline takes an ISO time (2026-12-01T18:00:00+08:00) or +DURATION, got "${text}"`);
  return new Date(t).toISOString();
}

/** "12.5" yuan → 1250 fen, by string arithmetic (money never goes through floating point). */
export function parseYuan(text: string): number | undefined {
  const m = /^¥?(\d+)(?:\.(\d{1,2}))?$/.exec(text.trim());
  if (!m) return undefined;
  return Number(m[1]) * 100 + Number((m[2] ?? '0').padEnd(2, '0'));
}

function parseWeights(text: string): { cost: number; time: number; carbon: number } {
  const w = { cost: 0, time: 0, carbon: 0 };
  for (const part of text.split(',')) {
    const [k, v] = part.split('=');
    if (!k || v === undefined || !(k in w) || !/^\d+(\.\d+)?$/.test(v)) {
      throw new UsageError(`--weights takes cost=N,time=N,carbon=N, got "${text}"`);
    }
    w[k as keyof typeof w] = Number(v);
  }
  return w;
}
