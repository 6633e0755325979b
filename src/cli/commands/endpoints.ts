import type { EndpointChangeInput, EndpointResource } from '../../api/client/endpoint-schemas.js';
import { clientFor, durationFlag, parse, printJson, UsageError, wholeFlag, type Command } from '../command.js';
import { table } from '../format.js';

export const endpoints: Command = {
  summary: 'list, show, update or delete inference endpoints (see `suanwang serve`)',
  usage: `suanwang endpoints [list] [--all]          your endpoints: replicas, requests, latency p50/p95/p99
suanwang endpoints show NAME                 its replicas (state, region, readiness) and why each was placed there
suanwang endpoints update NAME [--version V] [--min N] [--max N] [--idle DURATION|never]
                                             a new version rolls out replica by replica
suanwang endpoints delete NAME               cancels its replicas`,
  async run(argv) {
    const { values, positionals } = parse(argv, {
      all: { type: 'boolean', default: false },
      version: { type: 'string' },
      min: { type: 'string' },
      max: { type: 'string' },
      idle: { type: 'string' },
    });
    const [action = 'list', name] = positionals;
    const client = clientFor(values);
    if (action === 'list') {
      const page = await client.listEndpoints(values.all);
      if (values.json) return printJson(page), 0;
      const ms = (s: number | undefined) => (s === undefined ? '-' : `${Math.round(s * 1000)}`);
      const rows = page.items.map((e) => [
        e.name,
        `${e.app}@${e.version}`,
        e.region,
        `${e.ready}/${e.replicas.filter((r) => !r.draining).length} (${e.min}–${e.max})`,
        String(e.requests),
        String(e.tokens),
        `${ms(e.latency?.p50)}/${ms(e.latency?.p95)}/${ms(e.latency?.p99)}`,
        e.scaling,
      ]);
      process.stdout.write(table(['name', 'app', 'region', 'ready', 'requests', 'tokens', 'p50/p95/p99 ms', 'scaling'], rows) + '\n');
      return 0;
    }
    if (!name) throw new UsageError(`endpoints ${action} needs the endpoint's NAME`);
    if (action === 'show') {
      const e = await client.endpoint(name);
      if (values.json) return printJson(e), 0;
      printEndpoint(e, client.baseUrl);
      return 0;
    }
    if (action === 'update') {
      const change: EndpointChangeInput = {};
      if (values.version) change.version = values.version;
      const min = wholeFlag('min', values.min);
      const max = wholeFlag('max', values.max);
      if (min !== undefined) change.min = min;
      if (max !== undefined) change.max = max;
      if (values.idle !== undefined) change.idleToZeroSeconds = values.idle === 'never' ? null : durationFlag('idle', values.idle)!;
      if (Object.keys(change).length === 0) throw new UsageError('nothing to change: give --version, --min, --max or --idle');
      const e = await client.changeEndpoint(name, change);
      if (values.json) return printJson(e), 0;
      printEndpoint(e, client.baseUrl);
      return 0;
    }
    if (action === 'delete') {
      const out = await client.deleteEndpoint(name);
      if (values.json) return printJson(out), 0;
      process.stdout.write(`deleted ${out.deleted}; its replicas are being stopped\n`);
      return 0;
    }
    throw new UsageError(`unknown action "${action}": list, show, update or delete`);
  },
};

/** An endpoint as `show` prints it: settings, figures, then each replica with why it is where it is. */
export function printEndpoint(e: EndpointResource, baseUrl: string): void {
  const ms = (s: number) => `${(s * 1000).toFixed(1)} ms`;
  const lines = [
    `${e.name}  ${e.app}@${e.version}  callers in ${e.region}  replicas ${e.min}–${e.max} (target ${e.targetConcurrency} in flight each)` +
      (e.idleToZeroSeconds === null ? '' : `, to zero after ${e.idleToZeroSeconds} s idle`),
    `URL       ${baseUrl.replace(/\/$/, '')}${e.url}   (e.g. POST ${e.url}generate {"prompt":"Alice ","length":100})`,
    `scaling   ${e.scaling}`,
    `metered   ${e.requests} requests (${e.failedRequests} failed), ${e.tokens} tokens, ${e.coldStarts} cold starts`,
    `latency   ${e.latency ? `p50 ${ms(e.latency.p50)}, p95 ${ms(e.latency.p95)}, p99 ${ms(e.latency.p99)}` : 'no requests yet'}`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
  if (e.replicas.length === 0) {
    process.stdout.write('no replicas\n');
    return;
  }
  const rows = e.replicas.map((r) => [
    r.jobId,
    r.version,
    r.state + (r.draining ? ' (draining)' : ''),
    r.center ?? '-',
    r.region,
    r.accelerator ?? '-',
    r.ready ? 'ready' : 'not ready',
    `${r.inflight}/${Math.round(r.capacity * 10) / 10}`,
  ]);
  process.stdout.write(table(['replica job', 'version', 'state', 'center', 'region', 'chip', 'ready', 'in flight/capacity'], rows) + '\n');
  for (const r of e.replicas) process.stdout.write(`WHY ${r.jobId}: ${r.placement}\n`);
}
