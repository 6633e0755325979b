import type { LaunchRequestInput } from '../../api/client/schemas.js';
import { clientFor, parse, printJson, UsageError, type Command } from '../command.js';
import { parseDuration, parseMemoryMiB } from '../format.js';
import { followLogs } from './logs.js';

export const launch: Command = {
  summary: 'launch an app from the store with parameters',
  usage: `suanwang launch PRODUCT[@VERSION] [--param NAME=VALUE …] [options]

  --param NAME=VALUE  an app parameter (see \`suanwang store show PRODUCT\`), repeatable
  --gpus N, --nodes N, --cores N, --mem SIZE, --time DURATION   override the app's resource defaults
  --accelerator KEY   narrow the chips to some of the app's adapted ones, repeatable
  --objective O       cheapest | fastest | greenest | balanced (default)
  -f, --follow        stream its output until it ends
  --json              print the job as JSON`,
  async run(argv) {
    const { values, positionals } = parse(argv, {
      param: { type: 'string', multiple: true },
      gpus: { type: 'string' },
      nodes: { type: 'string' },
      cores: { type: 'string' },
      mem: { type: 'string' },
      time: { type: 'string' },
      accelerator: { type: 'string', multiple: true },
      objective: { type: 'string' },
      name: { type: 'string' },
      follow: { type: 'boolean', short: 'f', default: false },
    });
    const ref = positionals[0];
    if (!ref) throw new UsageError('which app? give PRODUCT or PRODUCT@VERSION');
    const [name, version] = ref.split('@') as [string, string | undefined];
    const params: Record<string, string> = {};
    for (const p of values.param ?? []) {
      const eq = p.indexOf('=');
      if (eq <= 0) throw new UsageError(`--param takes NAME=VALUE, got "${p}"`);
      params[p.slice(0, eq)] = p.slice(eq + 1);
    }
    const int = (flag: string, v: string | undefined) => {
      if (v === undefined) return undefined;
      if (!/^\d+$/.test(v)) throw new UsageError(`--${flag} takes a whole number, got "${v}"`);
      return Number(v);
    };
    const resources: NonNullable<LaunchRequestInput['resources']> = {};
    const gpus = int('gpus', values.gpus);
    if (gpus !== undefined) resources.acceleratorsPerNode = gpus;
    const nodes = int('nodes', values.nodes);
    if (nodes !== undefined) resources.nodes = nodes;
    const cores = int('cores', values.cores);
    if (cores !== undefined) resources.coresPerNode = cores;
    if (values.mem) {
      const mib = parseMemoryMiB(values.mem);
      if (mib === undefined) throw new UsageError(`--mem takes a size such as 4G, got "${values.mem}"`);
      resources.memoryMiBPerNode = mib;
    }
    if (values.time) {
      const s = parseDuration(values.time);
      if (s === undefined) throw new UsageError(`--time takes a duration such as 30m, got "${values.time}"`);
      resources.walltimeSeconds = s;
    }
    const request: LaunchRequestInput = {
      params,
      ...(version ? { version } : {}),
      ...(Object.keys(resources).length ? { resources } : {}),
      ...(values.accelerator ? { accelerators: values.accelerator } : {}),
      ...(values.objective ? { objective: values.objective as 'balanced' } : {}),
      ...(values.name ? { name: values.name } : {}),
    };
    const client = clientFor(values);
    const job = await client.launch(name, request);
    if (values.follow) {
      process.stderr.write(`launched ${name} as ${job.id}; following its output\n`);
      return followLogs(client, job.id);
    }
    if (values.json) printJson(job);
    else {
      process.stdout.write(`${job.id}\n`);
      process.stderr.write(`launched ${name}; follow it with: suanwang logs -f ${job.id}\n`);
    }
    return 0;
  },
};
