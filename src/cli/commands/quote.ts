import type { SuanwangClient } from '../../api/client/client.js';
import type { JobSubmissionInput } from '../../api/client/schemas.js';
import { clientFor, printJson, type Command } from '../command.js';
import { optionsTable } from './show.js';
import { jobFromArgs } from './submit.js';
import { priceText } from './price.js';

export const quote: Command = {
  summary: 'show where a job would run, when, and at what cost and carbon, without submitting it',
  usage: `suanwang quote [submit's options] -- PROGRAM [ARGS...]
suanwang quote [submit's options] JOB.yaml

Every center and pool that could take the job, best first under its objective, with run time on that
chip, stage-in, cost, energy and carbon; and every one that could not, with the reason.`,
  async run(argv) {
    const { job, values } = jobFromArgs(argv);
    return printQuote(clientFor(values), job, values.json === true);
  },
};

/** Asks for a quote and prints it as a table (or JSON). */
export async function printQuote(client: SuanwangClient, job: JobSubmissionInput, json: boolean): Promise<number> {
  const q = await client.quote(job);
  if (json) {
    printJson(q);
    return 0;
  }
  process.stdout.write(`${q.now.summary}\n\n${optionsTable(q.now)}\n`);
  process.stdout.write(await priceText(client, job)); // billing: price, voucher share, what the user pays
  return 0;
}
