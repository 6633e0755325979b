import { clientFor, parse, printJson, type Command } from '../command.js';
import { ago, table } from '../format.js';

export const jobs: Command = {
  summary: 'list your jobs, newest first',
  usage: `suanwang jobs [--state S[,S…]] [--limit N] [--all] [--json]

  --state   only these states (submitted, queued, placed, running, succeeded, failed, cancelled)
  --limit   how many (default 50); --cursor C for the next page
  --all     every org's jobs (admins)`,
  async run(argv) {
    const { values } = parse(argv, {
      state: { type: 'string' },
      limit: { type: 'string' },
      cursor: { type: 'string' },
      all: { type: 'boolean', default: false },
    });
    const client = clientFor(values);
    const page = await client.listJobs({
      ...(values.state ? { state: values.state } : {}),
      ...(values.limit ? { limit: Number(values.limit) } : {}),
      ...(values.cursor ? { cursor: values.cursor } : {}),
      all: values.all,
    });
    if (values.json) {
      printJson(page);
      return 0;
    }
    const now = Date.now();
    const rows = page.items.map((j) => [
      j.id,
      j.name,
      j.state + (j.state === 'failed' && j.exitCode !== null ? ` (${j.exitCode})` : ''),
      j.center ?? (j.waiting ? 'waiting' : '-'),
      j.pool ?? '-',
      `${j.nodes}×${j.acceleratorsPerNode ? `${j.acceleratorsPerNode}acc` : `${j.coresPerNode}c`}`,
      ago(j.submittedAt, now),
    ]);
    process.stdout.write(table(['id', 'name', 'state', 'center', 'pool', 'ask', 'submitted'], rows) + '\n');
    if (page.nextCursor) process.stderr.write(`more: suanwang jobs --cursor ${page.nextCursor}\n`);
    return 0;
  },
};
