import type { LaunchRequestInput } from '../../api/client/schemas.js';
import { clientFor, durationFlag, memoryFlag, parse, printJson, UsageError, wholeFlag, type Command } from '../command.js';
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
    const resources: NonNullable<LaunchRequestInput['resources']> = {};
    const set = (key: keyof typeof resources, v: number | undefined) => {
      if (v !== undefined) resources[key] = v;
    };
    set('acceleratorsPerNode', wholeFlag('gpus', values.gpus));
    set('nodes', wholeFlag('nodes', values.nodes));
    set('coresPerNode', wholeFlag('cores', values.cores));
    set('memoryMiBPerNode', memoryFlag('mem', values.mem));
    set('walltimeSeconds', durationFlag('time', values.time));
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
