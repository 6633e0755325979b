import type { SuanwangClient } from '../../api/client/client.js';
import { clientFor, parse, UsageError, type Command } from '../command.js';

export const logs: Command = {
  summary: "print a job's output (stdout to stdout, stderr to stderr)",
  usage: `suanwang logs [-f] JOB_ID

  -f, --follow   keep streaming until the job ends; exit with its exit code`,
  async run(argv) {
    const { values, positionals } = parse(argv, { follow: { type: 'boolean', short: 'f', default: false } });
    const id = positionals[0];
    if (!id) throw new UsageError('which job? give its id');
    const client = clientFor(values);
    if (values.follow) return followLogs(client, id);
    let after = 0;
    for (;;) {
      const page = await client.logs(id, after, 0);
      for (const c of page.chunks) (c.stream === 'stderr' ? process.stderr : process.stdout).write(c.data);
      if (page.chunks.length === 0) return 0;
      after = page.next;
    }
  },
};

/** Streams a job's output until it ends and returns an exit code mirroring the job's. */
export async function followLogs(client: SuanwangClient, id: string): Promise<number> {
  await client.follow(id, (c) => (c.stream === 'stderr' ? process.stderr : process.stdout).write(c.data));
  const { job } = await client.job(id);
  if (job.state === 'succeeded') return 0;
  process.stderr.write(`job ${id} ${job.state}${job.reason ? `: ${job.reason}` : ''}\n`);
  return job.exitCode !== null && job.exitCode > 0 && job.exitCode < 256 ? job.exitCode : 1;
}
