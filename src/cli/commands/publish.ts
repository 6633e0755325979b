import { readFileSync } from 'node:fs';
import { clientFor, parse, printJson, UsageError, type Command } from '../command.js';

export const publish: Command = {
  summary: 'publish a product version from its manifest (providers); review it (admins)',
  usage: `suanwang publish MANIFEST.yaml [--draft]        a new version, submitted for review (or kept a draft)
suanwang publish --review PRODUCT@VERSION --action approve|reject|delist|relist|submit [--note TEXT]

A listed version never changes: publish a new version instead. The manifest schema is in
docs/schemas/app-manifest.schema.json; errors name the line and the field.`,
  async run(argv) {
    const { values, positionals } = parse(argv, {
      draft: { type: 'boolean', default: false },
      review: { type: 'string' },
      action: { type: 'string' },
      note: { type: 'string' },
    });
    const client = clientFor(values);
    if (values.review) {
      const [name, version] = values.review.split('@');
      if (!name || !version || !values.action) throw new UsageError('give --review PRODUCT@VERSION and --action');
      const r = await client.review(name, version, values.action, values.note);
      if (values.json) printJson(r);
      else process.stdout.write(`${r.product}@${r.version} is now ${r.status}\n`);
      return 0;
    }
    const file = positionals[0];
    if (!file) throw new UsageError('give the manifest file');
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      throw new UsageError(`cannot read ${file}: ${(error as Error).message}`);
    }
    const r = await client.publish(text, values.draft);
    if (values.json) printJson(r);
    else process.stdout.write(`${r.product}@${r.version} is ${r.status}${r.status === 'in-review' ? ' (an admin approves it with: suanwang publish --review ' + `${r.product}@${r.version} --action approve)` : ''}\n`);
    return 0;
  },
};
