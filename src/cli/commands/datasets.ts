import { clientFor, parse, printJson, UsageError, wholeFlag, type Command } from '../command.js';
import { table } from '../format.js';

export const datasets: Command = {
  summary: 'list your datasets and where their replicas are; register one',
  usage: `suanwang datasets [--json]
suanwang datasets add NAME --bytes N --center C [--center C …]   register a dataset held at these centers`,
  async run(argv) {
    const { values, positionals } = parse(argv, { bytes: { type: 'string' }, center: { type: 'string', multiple: true } });
    const client = clientFor(values);
    if (positionals[0] === 'add') {
      const name = positionals[1];
      if (!name || !values.bytes || !values.center) throw new UsageError('give NAME, --bytes and at least one --center');
      const d = await client.registerDataset({ name, bytes: wholeFlag('bytes', values.bytes)!, centers: values.center });
      if (values.json) printJson(d);
      else process.stdout.write(`${d.id} ${d.name} (${d.bytes} bytes) at ${d.centers.join(', ')}\n`);
      return 0;
    }
    if (positionals.length > 0) throw new UsageError(`unknown subcommand "${positionals[0]}"`);
    const list = await client.datasets();
    if (values.json) printJson(list);
    else process.stdout.write(table(['id', 'name', 'bytes', 'replicas'], list.items.map((d) => [d.id, d.name, String(d.bytes), d.centers.join(', ')])) + '\n');
    return 0;
  },
};
