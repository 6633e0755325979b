import { clientFor, parse, printJson, wholeFlag, type Command } from '../command.js';
import { table } from '../format.js';

export const transfers: Command = {
  summary: 'data moving into centers: uploads being sealed, replicas, stage-ins, job outputs; state and throughput',
  usage: `suanwang transfers [--limit N] [--json]`,
  async run(argv) {
    const { values } = parse(argv, { limit: { type: 'string' } });
    const list = await clientFor(values).transfers(wholeFlag('limit', values.limit) ?? 50);
    if (values.json) printJson(list);
    else
      process.stdout.write(
        table(
          ['id', 'kind', 'dataset', 'to', 'state', 'MB moved', 'seconds', 'MB/s', 'job', 'error'],
          list.items.map((t) => [t.id, t.kind, `${t.dataset} v${t.version}`, t.center, t.state, (t.bytesMoved / 1e6).toFixed(1), t.seconds === null ? '' : t.seconds.toFixed(2), t.mbPerSecond === null ? '' : String(t.mbPerSecond), t.jobId ?? '', t.error ?? '']),
        ) + '\n',
      );
    return 0;
  },
};
