import type { EndpointSubmissionInput } from '../../api/client/endpoint-schemas.js';
import { clientFor, durationFlag, parse, printJson, UsageError, wholeFlag, type Command } from '../command.js';
import { printEndpoint } from './endpoints.js';

export const serve: Command = {
  summary: 'serve an app as an inference endpoint: replicas near your callers, autoscaled',
  usage: `suanwang serve APP[@VERSION] --region REGION [options]

  --region R          where the callers are: a region (shanghai), a center or its first word (east)
  --name NAME         the endpoint's name in your org (default: the app name); URL /e/NAME/
  --min N, --max N    replicas while it has callers (default 1) and at most (default 4)
  --target N          requests in flight per replica above which another starts (default 4)
  --idle DURATION     scale to zero after this long without a request (30s, 10m; default: never)
  --gpus N            accelerators per replica (default 1; 0 for CPU)
  --param NAME=VALUE  an app parameter of every replica, repeatable (serve=on is added)
  --json              print the endpoint as JSON

Call it:  curl -H "Authorization: Bearer $TOKEN" -d '{"prompt":"Alice ","length":100}' URL/e/NAME/generate`,
  async run(argv) {
    const { values, positionals } = parse(argv, {
      region: { type: 'string' },
      name: { type: 'string' },
      min: { type: 'string' },
      max: { type: 'string' },
      target: { type: 'string' },
      idle: { type: 'string' },
      gpus: { type: 'string' },
      param: { type: 'string', multiple: true },
    });
    const ref = positionals[0];
    if (!ref) throw new UsageError('which app? give APP or APP@VERSION (e.g. textgen-mini)');
    if (!values.region) throw new UsageError("--region is required: where the endpoint's callers are (e.g. east)");
    const [app, version] = ref.split('@') as [string, string | undefined];
    const params: Record<string, string> = {};
    for (const p of values.param ?? []) {
      const eq = p.indexOf('=');
      if (eq <= 0) throw new UsageError(`--param takes NAME=VALUE, got "${p}"`);
      params[p.slice(0, eq)] = p.slice(eq + 1);
    }
    const spec: EndpointSubmissionInput = { app, region: values.region, params };
    if (version) spec.version = version;
    if (values.name) spec.name = values.name;
    const min = wholeFlag('min', values.min);
    const max = wholeFlag('max', values.max);
    const target = wholeFlag('target', values.target);
    const gpus = wholeFlag('gpus', values.gpus);
    const idle = durationFlag('idle', values.idle);
    if (min !== undefined) spec.min = min;
    if (max !== undefined) spec.max = max;
    if (target !== undefined) spec.targetConcurrency = target;
    if (gpus !== undefined) spec.acceleratorsPerNode = gpus;
    if (idle !== undefined) spec.idleToZeroSeconds = idle;
    const client = clientFor(values);
    const endpoint = await client.createEndpoint(spec);
    if (values.json) printJson(endpoint);
    else {
      printEndpoint(endpoint, client.baseUrl);
      process.stderr.write(`replicas start in a moment; watch them with: suanwang endpoints show ${endpoint.name}\n`);
    }
    return 0;
  },
};
