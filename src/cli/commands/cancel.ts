import { clientFor, parse, printJson, UsageError, type Command } from '../command.js';

export const cancel: Command = {
  summary: 'cancel a job (a running one is stopped with its whole process group)',
  usage: 'suanwang cancel JOB_ID [--json]',
  async run(argv) {
    const { values, positionals } = parse(argv, {});
    const id = positionals[0];
    if (!id) throw new UsageError('which job? give its id');
    const job = await clientFor(values).cancel(id);
    if (values.json) printJson(job);
    else process.stdout.write(`${job.id} ${job.state === 'cancelled' ? 'cancelled' : 'is being stopped at ' + job.center}\n`);
    return 0;
  },
};
